package dev.streamtrain.serving;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

import java.time.Duration;

import dev.streamtrain.model.spec.ModelSpec;
import dev.streamtrain.model.spec.ModelSpecParser;
import dev.streamtrain.serving.V2Messages.InferRequest;
import dev.streamtrain.support.HeapBudget;
import dev.streamtrain.training.ServedModel;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Arbitrary bytes as the body of a V2 REST infer or explain request, read as {@link InferenceResource} reads it:
 * either the body becomes the model's rows (and explain parameters), or it is refused with what
 * {@link ErrorMappers} turns into a 4xx: an {@link InferenceException} of status 400 (the resource reads the
 * body itself and turns Jackson's refusals into one). Anything else would be a 500. The heap it takes is bounded by the
 * body's size whatever its shape claims. The kept corpus ({@code InferRequestFuzzTestInputs/read/}) starts from real
 * request bodies (digits rows, flat and nested, explain parameters). Fuzzing: docs/hardening.md.
 */
class InferRequestFuzzTest {

    private static final ModelSpec DIGITS = ModelSpecParser.load(null);
    /** As Quarkus configures its mapper: unknown properties are ignored. */
    private static final ObjectMapper MAPPER = new ObjectMapper()
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    private final InferenceResource resource = new InferenceResource(new Inference(DIGITS, new ServedModel(),
            new ServingMeters(new SimpleMeterRegistry(), DIGITS), new Defaults()), MAPPER);

    @FuzzTest(maxDuration = "10s")
    void read(byte[] body) throws Exception {
        // Jackson's buffers and the record objects: a few times the body; the values at most 4 bytes per digit read
        HeapBudget.within(body.length, 64, 1 << 20, () -> {
            try {
                InferRequest request = resource.read(body);
                InputTensor input = resource.input(request);
                assertThat(input.rows).isBetween(1, Inference.MAX_ROWS);
                assertThat(input.data).hasSize(input.rows * DIGITS.inputs());
                ExplainParameters.of(request.parameters());
            } catch (InferenceException refused) {
                // the resource reads the body itself and turns Jackson's refusals into these too
                assertThat(refused.status()).isEqualTo(400);
                assertThat(refused.getMessage()).isNotBlank();
            }
        });
    }

    /** The defaults of {@code streamtrain.serving.*}. */
    private static final class Defaults implements ServingConfig {
        @Override
        public Duration pollInterval() {
            return Duration.ofSeconds(30);
        }

        @Override
        public int maxBatchRows() {
            return 256;
        }

        @Override
        public long inlineMaxMultiplyAdds() {
            return 262_144;
        }

        @Override
        public int maxRequestRows() {
            return Inference.MAX_ROWS;
        }

        @Override
        public Duration requestBodyTimeout() {
            return Duration.ofSeconds(30);
        }

        @Override
        public java.util.Optional<String> tokenFile() {
            return java.util.Optional.empty();
        }

        @Override
        public int explainConcurrency() {
            return 1;
        }

        @Override
        public String promotion() {
            return "always";
        }

        @Override
        public double promotionTolerance() {
            return 0.0;
        }

        @Override
        public int promotionMinExamples() {
            return 100;
        }

        @Override
        public int promotionWindow() {
            return 512;
        }
    }
}
