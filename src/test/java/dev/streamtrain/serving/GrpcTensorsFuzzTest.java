package dev.streamtrain.serving;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.google.protobuf.InvalidProtocolBufferException;

import dev.streamtrain.support.HeapBudget;
import inference.GrpcPredictV2.ModelInferRequest;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Arbitrary bytes as a gRPC {@code ModelInfer} request: either protobuf refuses them (gRPC answers such a message
 * itself, before the service sees it), or the input tensor is converted to the model's rows, or the conversion
 * refuses it with an {@link InferenceException} of status 400 (INVALID_ARGUMENT). Nothing else escapes, and the
 * heap it takes is bounded by the message's size whatever its shape claims. The kept corpus
 * ({@code GrpcTensorsFuzzTestInputs/convert/}) starts from real requests (digits rows, every datatype, raw and typed
 * contents). Fuzzing: docs/hardening.md.
 */
class GrpcTensorsFuzzTest {

    private static final int FEATURES = 64;

    @FuzzTest(maxDuration = "10s")
    void convert(byte[] message) throws Exception {
        // protobuf's own parse of repeated fields takes about 8 bytes of heap per byte; the values a few more
        HeapBudget.within(message.length, 64, 1 << 20, () -> {
            ModelInferRequest request;
            try {
                request = ModelInferRequest.parseFrom(message);
            } catch (InvalidProtocolBufferException notProtobuf) {
                return;
            }
            float[] values;
            try {
                values = GrpcTensors.input(request, FEATURES, Inference.MAX_ROWS);
            } catch (InferenceException refused) {
                assertThat(refused.status()).isEqualTo(400);
                assertThat(refused.getMessage()).isNotBlank();
                return;
            }
            assertThat(values.length % FEATURES).isZero();
            assertThat(values.length / FEATURES).isBetween(1, Inference.MAX_ROWS);
            for (float v : values) {
                assertThat(Float.isFinite(v)).as("every value is finite once in FP32").isTrue();
            }
        });
    }
}
