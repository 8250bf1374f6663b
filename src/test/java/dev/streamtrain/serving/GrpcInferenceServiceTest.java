package dev.streamtrain.serving;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.http.ContentType;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.net.URL;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.streamtrain.support.FactorySnapshotProfile;
import dev.streamtrain.support.KafkaBrokerResource;
import inference.GRPCInferenceServiceGrpc;
import inference.GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub;
import inference.GrpcPredictV2.InferTensorContents;
import inference.GrpcPredictV2.ModelInferRequest;
import inference.GrpcPredictV2.ModelInferRequest.InferInputTensor;
import inference.GrpcPredictV2.ModelInferRequest.InferRequestedOutputTensor;
import inference.GrpcPredictV2.ModelInferResponse;
import inference.GrpcPredictV2.ModelMetadataRequest;
import inference.GrpcPredictV2.ModelMetadataResponse;
import inference.GrpcPredictV2.ModelReadyRequest;
import inference.GrpcPredictV2.ServerLiveRequest;
import inference.GrpcPredictV2.ServerMetadataRequest;
import inference.GrpcPredictV2.ServerMetadataResponse;
import inference.GrpcPredictV2.ServerReadyRequest;

/**
 * The KServe V2 gRPC service over a real grpc-java channel (plaintext HTTP/2) to the HTTP port the test server
 * listens on: every RPC, typed and raw tensors of every numeric datatype, the REST answer for the same input,
 * the status codes of refused requests, and the request meters.
 */
@QuarkusTest
@TestProfile(FactorySnapshotProfile.class)
@QuarkusTestResource(value = KafkaBrokerResource.class, restrictToAnnotatedClass = true)
class GrpcInferenceServiceTest {

    private static final int FEATURES = 64;
    private static final int CLASSES = 10;

    @TestHTTPResource("/")
    URL http;

    private ManagedChannel channel;
    private GRPCInferenceServiceBlockingStub stub;

    @BeforeEach
    void connect() {
        channel = ManagedChannelBuilder.forAddress(http.getHost(), http.getPort()).usePlaintext().build();
        stub = GRPCInferenceServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
    }

    @AfterEach
    void disconnect() throws InterruptedException {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }

    /** Three rows of small integers (some negative), the same for every datatype that can hold them. */
    private static double[] values(boolean signed) {
        double[] v = new double[3 * FEATURES];
        for (int i = 0; i < v.length; i++) {
            v[i] = (i * 7) % 17 - (signed ? 8 : 0);
        }
        return v;
    }

    private static float[] floats(double[] values) {
        float[] f = new float[values.length];
        for (int i = 0; i < f.length; i++) {
            f[i] = (float) values[i];
        }
        return f;
    }

    private static InferInputTensor.Builder input(String datatype, long... shape) {
        InferInputTensor.Builder input = InferInputTensor.newBuilder().setName("input").setDatatype(datatype);
        for (long d : shape) {
            input.addShape(d);
        }
        return input;
    }

    private static ModelInferRequest fp32(float[] values, long... shape) {
        InferTensorContents.Builder contents = InferTensorContents.newBuilder();
        for (float v : values) {
            contents.addFp32Contents(v);
        }
        return ModelInferRequest.newBuilder().setModelName("digits")
                .addInputs(input("FP32", shape).setContents(contents)).build();
    }

    /** The typed contents of {@code values} in the field the protocol gives {@code datatype}. */
    private static InferTensorContents typed(String datatype, double[] values) {
        InferTensorContents.Builder c = InferTensorContents.newBuilder();
        for (double v : values) {
            switch (datatype) {
                case "FP32" -> c.addFp32Contents((float) v);
                case "FP64" -> c.addFp64Contents(v);
                case "INT8", "INT16", "INT32" -> c.addIntContents((int) v);
                case "INT64" -> c.addInt64Contents((long) v);
                case "UINT8", "UINT16", "UINT32" -> c.addUintContents((int) (long) v);
                case "UINT64" -> c.addUint64Contents((long) v);
                default -> throw new IllegalArgumentException(datatype);
            }
        }
        return c.build();
    }

    /** {@code values} as the protocol's raw bytes for {@code datatype}: little-endian, tightly packed. */
    private static ByteString raw(String datatype, double[] values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * GrpcTensors.elementSize(datatype)).order(ByteOrder.LITTLE_ENDIAN);
        for (double v : values) {
            switch (datatype) {
                case "FP32" -> b.putFloat((float) v);
                case "FP64" -> b.putDouble(v);
                case "FP16" -> b.putShort(half((int) v));
                case "INT8", "UINT8" -> b.put((byte) (int) v);
                case "INT16", "UINT16" -> b.putShort((short) (int) v);
                case "INT32", "UINT32" -> b.putInt((int) (long) v);
                case "INT64", "UINT64" -> b.putLong((long) v);
                default -> throw new IllegalArgumentException(datatype);
            }
        }
        return ByteString.copyFrom(b.array());
    }

    /** An integer of magnitude below 2048 as IEEE binary16 bits. */
    private static short half(int v) {
        if (v == 0) {
            return 0;
        }
        int magnitude = Math.abs(v);
        int exponent = 31 - Integer.numberOfLeadingZeros(magnitude);
        int mantissa = (magnitude << (10 - exponent)) & 0x3ff;
        return (short) ((v < 0 ? 0x8000 : 0) | ((exponent + 15) << 10) | mantissa);
    }

    private static float[] typedOutput(ModelInferResponse response) {
        assertThat(response.getRawOutputContentsCount()).isZero();
        List<Float> list = response.getOutputs(0).getContents().getFp32ContentsList();
        float[] out = new float[list.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = list.get(i);
        }
        return out;
    }

    private static float[] rawOutput(ModelInferResponse response) {
        assertThat(response.getRawOutputContentsCount()).isEqualTo(1);
        assertThat(response.getOutputs(0).hasContents()).isFalse();
        ByteBuffer bytes = response.getRawOutputContents(0).asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
        float[] out = new float[bytes.remaining() / Float.BYTES];
        bytes.asFloatBuffer().get(out);
        return out;
    }

    private String version() {
        return stub.modelMetadata(ModelMetadataRequest.newBuilder().setName("digits").build()).getVersions(0);
    }

    @Test
    void healthAndMetadataFollowTheProtocol() {
        assertThat(stub.serverLive(ServerLiveRequest.getDefaultInstance()).getLive()).isTrue();
        assertThat(stub.serverReady(ServerReadyRequest.getDefaultInstance()).getReady()).isTrue();
        ServerMetadataResponse server = stub.serverMetadata(ServerMetadataRequest.getDefaultInstance());
        assertThat(server.getName()).isEqualTo("streamtrain");
        assertThat(server.getVersion()).isNotEmpty().isEqualTo(given().get("/v2").jsonPath().getString("version"));

        ModelMetadataResponse model = stub.modelMetadata(ModelMetadataRequest.newBuilder().setName("digits").build());
        assertThat(model.getName()).isEqualTo("digits");
        assertThat(model.getPlatform()).isEqualTo(Inference.PLATFORM);
        assertThat(model.getVersionsList()).hasSize(1);
        assertThat(model.getInputsCount()).isEqualTo(1);
        assertThat(model.getInputs(0).getName()).isEqualTo("input");
        assertThat(model.getInputs(0).getDatatype()).isEqualTo("FP32");
        assertThat(model.getInputs(0).getShapeList()).containsExactly(-1L, (long) FEATURES);
        assertThat(model.getOutputsCount()).isEqualTo(1);
        assertThat(model.getOutputs(0).getName()).isEqualTo("output");
        assertThat(model.getOutputs(0).getDatatype()).isEqualTo("FP32");
        assertThat(model.getOutputs(0).getShapeList()).containsExactly(-1L, (long) CLASSES);
        String version = model.getVersions(0);
        assertThat(version).isEqualTo(given().get("/v2/models/digits").jsonPath().getString("versions[0]"));

        assertThat(stub.modelMetadata(ModelMetadataRequest.newBuilder().setName("digits").setVersion(version).build())
                .getVersionsList()).containsExactly(version);
        assertThat(stub.modelReady(ModelReadyRequest.newBuilder().setName("digits").build()).getReady()).isTrue();
        assertThat(stub.modelReady(ModelReadyRequest.newBuilder().setName("digits").setVersion(version).build())
                .getReady()).isTrue();

        assertStatus(() -> stub.modelReady(ModelReadyRequest.newBuilder().setName("digits").setVersion("999999").build()),
                Status.Code.NOT_FOUND, "is not served");
        assertStatus(() -> stub.modelReady(ModelReadyRequest.newBuilder().setName("nope").build()),
                Status.Code.NOT_FOUND, "not served here");
        assertStatus(() -> stub.modelMetadata(ModelMetadataRequest.newBuilder().setName("nope").build()),
                Status.Code.NOT_FOUND, "not served here");
        assertStatus(() -> stub.modelMetadata(ModelMetadataRequest.newBuilder().setName("digits").setVersion("999999").build()),
                Status.Code.NOT_FOUND, "is not served");
    }

    @Test
    void infersABatchOfRowsAsProbabilities() {
        String version = version();
        ModelInferRequest request = fp32(floats(values(true)), 3, FEATURES).toBuilder().setId("request-42").build();
        ModelInferResponse response = stub.modelInfer(request);
        assertThat(response.getId()).isEqualTo("request-42");
        assertThat(response.getModelName()).isEqualTo("digits");
        assertThat(response.getModelVersion()).isEqualTo(version);
        assertThat(response.getOutputsCount()).isEqualTo(1);
        assertThat(response.getOutputs(0).getName()).isEqualTo("output");
        assertThat(response.getOutputs(0).getDatatype()).isEqualTo("FP32");
        assertThat(response.getOutputs(0).getShapeList()).containsExactly(3L, (long) CLASSES);
        float[] p = typedOutput(response);
        assertThat(p).hasSize(3 * CLASSES);
        for (int row = 0; row < 3; row++) {
            double sum = 0;
            for (int c = 0; c < CLASSES; c++) {
                assertThat(p[row * CLASSES + c]).isBetween(0f, 1f);
                sum += p[row * CLASSES + c];
            }
            assertThat(sum).isCloseTo(1.0, Offset.offset(1e-4));
        }

        // one row may be sent with shape [F]; the answer is the first row of the batch's
        float[] first = java.util.Arrays.copyOf(floats(values(true)), FEATURES);
        ModelInferResponse single = stub.modelInfer(fp32(first, FEATURES));
        assertThat(single.getOutputs(0).getShapeList()).containsExactly(1L, (long) CLASSES);
        assertThat(single.getId()).isEmpty();
        assertThat(typedOutput(single)).containsExactly(java.util.Arrays.copyOf(p, CLASSES), Offset.offset(1e-5f));

        // the addressed version, and the output selected by name
        ModelInferResponse selected = stub.modelInfer(request.toBuilder().setModelVersion(version)
                .addOutputs(InferRequestedOutputTensor.newBuilder().setName("output")).build());
        assertThat(selected.getModelVersion()).isEqualTo(version);
        assertThat(typedOutput(selected)).containsExactly(p, Offset.offset(1e-6f));
    }

    @Test
    void rawFp32InGivesRawFp32OutWithTheTypedAnswer() {
        float[] x = floats(values(true));
        float[] typed = typedOutput(stub.modelInfer(fp32(x, 3, FEATURES)));
        ModelInferResponse response = stub.modelInfer(ModelInferRequest.newBuilder().setModelName("digits").setId("raw")
                .addInputs(input("FP32", 3, FEATURES)).addRawInputContents(raw("FP32", values(true))).build());
        assertThat(response.getId()).isEqualTo("raw");
        assertThat(response.getOutputs(0).getDatatype()).isEqualTo("FP32");
        assertThat(response.getOutputs(0).getShapeList()).containsExactly(3L, (long) CLASSES);
        assertThat(response.getRawOutputContents(0).size()).isEqualTo(3 * CLASSES * Float.BYTES);
        assertThat(rawOutput(response)).containsExactly(typed, Offset.offset(1e-6f));
    }

    @ParameterizedTest(name = "{0}, raw={1}")
    @CsvSource({
        "FP64, false", "FP64, true",
        "INT32, false", "INT32, true",
        "INT8, false", "INT8, true",
        "INT16, false", "INT16, true",
        "INT64, false", "INT64, true",
        "UINT8, false", "UINT8, true",
        "UINT16, false", "UINT16, true",
        "UINT32, false", "UINT32, true",
        "UINT64, false", "UINT64, true",
        "FP16, true",
    })
    void everyNumericDatatypeGivesTheFp32Answer(String datatype, boolean raw) {
        boolean signed = !datatype.startsWith("UINT");
        double[] values = values(signed);
        if (!signed) {
            // a value that reads as negative when taken as signed
            values[5] = datatype.equals("UINT8") ? 200 : datatype.equals("UINT16") ? 40_000 : 3_000_000_000L;
        }
        float[] expected = typedOutput(stub.modelInfer(fp32(floats(values), 3, FEATURES)));
        ModelInferRequest.Builder request = ModelInferRequest.newBuilder().setModelName("digits");
        if (raw) {
            request.addInputs(input(datatype, 3, FEATURES)).addRawInputContents(raw(datatype, values));
        } else {
            request.addInputs(input(datatype, 3, FEATURES).setContents(typed(datatype, values)));
        }
        ModelInferResponse response = stub.modelInfer(request.build());
        assertThat(response.getOutputs(0).getShapeList()).containsExactly(3L, (long) CLASSES);
        assertThat(raw ? rawOutput(response) : typedOutput(response)).containsExactly(expected, Offset.offset(1e-6f));
    }

    @Test
    void answersAsTheRestApiDoesForTheSameInputAndVersion() {
        String version = version();
        float[] x = floats(values(true));
        ModelInferResponse grpc = stub.modelInfer(fp32(x, 3, FEATURES).toBuilder().setModelVersion(version).build());
        String data = IntStream.range(0, x.length).mapToObj(i -> Float.toString(x[i])).collect(Collectors.joining(","));
        var rest = given().contentType(ContentType.JSON)
                .body("{\"inputs\":[{\"name\":\"input\",\"shape\":[3," + FEATURES + "],\"datatype\":\"FP32\",\"data\":["
                        + data + "]}]}")
                .post("/v2/models/digits/versions/" + version + "/infer")
                .then().statusCode(200).extract().jsonPath();
        assertThat(grpc.getModelVersion()).isEqualTo(rest.getString("model_version")).isEqualTo(version);
        assertThat(rest.getList("outputs[0].shape", Long.class)).containsExactlyElementsOf(grpc.getOutputs(0).getShapeList());
        List<Float> restData = rest.getList("outputs[0].data", Float.class);
        float[] expected = new float[restData.size()];
        for (int i = 0; i < expected.length; i++) {
            expected[i] = restData.get(i);
        }
        assertThat(typedOutput(grpc)).containsExactly(expected, Offset.offset(1e-6f));
    }

    @Test
    void takesAsManyRowsAsRestDoesInOneMessage() {
        // 4096 rows of 64 FP64 values are 2 MiB: far above the Vert.x gRPC server's default 256 KiB message limit
        int rows = Inference.MAX_ROWS;
        ModelInferResponse response = stub.modelInfer(ModelInferRequest.newBuilder().setModelName("digits")
                .addInputs(input("FP64", rows, FEATURES)).addRawInputContents(raw("FP64", new double[rows * FEATURES])).build());
        assertThat(response.getOutputs(0).getShapeList()).containsExactly((long) rows, (long) CLASSES);
        assertThat(rawOutput(response)).hasSize(rows * CLASSES);
        assertStatus(() -> stub.modelInfer(ModelInferRequest.newBuilder().setModelName("digits")
                        .addInputs(input("FP32", rows + 1, FEATURES)).addRawInputContents(raw("FP32", new double[(rows + 1) * FEATURES]))
                        .build()),
                Status.Code.INVALID_ARGUMENT, "4097 rows; send 1 to 4096");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "unknown model | NOT_FOUND | not served here",
        "unknown version | NOT_FOUND | is not served",
        "63 features | INVALID_ARGUMENT | features per row",
        "3-d shape | INVALID_ARGUMENT | must have shape",
        "zero rows | INVALID_ARGUMENT | rows; send 1 to",
        "too few values | INVALID_ARGUMENT | values in contents.fp32_contents; its shape [2, 64] needs 128",
        "wrong input name | INVALID_ARGUMENT | input is named 'input'; got 'pixels'",
        "datatype BYTES | INVALID_ARGUMENT | datatype BYTES",
        "datatype BOOL | INVALID_ARGUMENT | datatype BOOL",
        "values in another field | INVALID_ARGUMENT | values were sent in fp32_contents",
        "typed FP16 | INVALID_ARGUMENT | send FP16 input as raw_input_contents",
        "raw byte count | INVALID_ARGUMENT | 255 bytes in raw_input_contents; its shape [1, 64] and datatype FP32 need 256",
        "two raw entries | INVALID_ARGUMENT | raw_input_contents has 2 entries",
        "raw and contents | INVALID_ARGUMENT | both contents and raw_input_contents",
        "unknown output | INVALID_ARGUMENT | one output, named 'output'; 'logits' is not one",
        "no inputs | INVALID_ARGUMENT | exactly one input tensor",
        "two inputs | INVALID_ARGUMENT | exactly one input tensor",
        "NaN | INVALID_ARGUMENT | not a finite FP32 number at 3",
        "FP64 beyond FP32 | INVALID_ARGUMENT | not a finite FP32 number at 0: 1.0E300",
    })
    void refusedRequestsGetTheMatchingStatus(String problem, Status.Code code, String message) {
        float[] row = new float[FEATURES];
        ModelInferRequest ok = fp32(row, 1, FEATURES);
        UnaryOperator<ModelInferRequest.Builder> change = switch (problem) {
            case "unknown model" -> r -> r.setModelName("nope");
            case "unknown version" -> r -> r.setModelVersion("999999");
            case "63 features" -> r -> r.setInputs(0, fp32(new float[63], 1, 63).getInputs(0));
            case "3-d shape" -> r -> r.setInputs(0, r.getInputs(0).toBuilder().clearShape().addShape(1).addShape(1).addShape(FEATURES));
            case "zero rows" -> r -> r.setInputs(0, r.getInputs(0).toBuilder().setShape(0, 0));
            case "too few values" -> r -> r.setInputs(0, r.getInputs(0).toBuilder().setShape(0, 2));
            case "wrong input name" -> r -> r.setInputs(0, r.getInputs(0).toBuilder().setName("pixels"));
            case "datatype BYTES" -> r -> r.setInputs(0, r.getInputs(0).toBuilder().setDatatype("BYTES"));
            case "datatype BOOL" -> r -> r.setInputs(0, r.getInputs(0).toBuilder().setDatatype("BOOL"));
            case "values in another field" -> r -> r.setInputs(0, r.getInputs(0).toBuilder().setDatatype("INT32"));
            case "typed FP16" -> r -> r.setInputs(0, r.getInputs(0).toBuilder().setDatatype("FP16"));
            case "raw byte count" -> r -> r.setInputs(0, input("FP32", 1, FEATURES))
                    .addRawInputContents(ByteString.copyFrom(new byte[FEATURES * 4 - 1]));
            case "two raw entries" -> r -> r.setInputs(0, input("FP32", 1, FEATURES))
                    .addRawInputContents(raw("FP32", new double[FEATURES])).addRawInputContents(raw("FP32", new double[FEATURES]));
            case "raw and contents" -> r -> r.addRawInputContents(raw("FP32", new double[FEATURES]));
            case "unknown output" -> r -> r.addOutputs(InferRequestedOutputTensor.newBuilder().setName("logits"));
            case "no inputs" -> r -> r.clearInputs();
            case "two inputs" -> r -> r.addInputs(r.getInputs(0));
            case "NaN" -> r -> r.setInputs(0, r.getInputs(0).toBuilder()
                    .setContents(r.getInputs(0).getContents().toBuilder().setFp32Contents(3, Float.NaN)));
            case "FP64 beyond FP32" -> r -> r.setInputs(0, input("FP64", 1, FEATURES)
                    .setContents(typed("FP64", IntStream.range(0, FEATURES).mapToDouble(i -> i == 0 ? 1e300 : 0).toArray())));
            default -> throw new IllegalArgumentException(problem);
        };
        ModelInferRequest request = change.apply(ok.toBuilder()).build();
        assertStatus(() -> stub.modelInfer(request), code, message);
    }

    @Test
    void callsAreCountedByProtocolOperationAndOutcome() {
        stub.modelInfer(fp32(new float[FEATURES], 1, FEATURES));
        assertStatus(() -> stub.modelInfer(fp32(new float[FEATURES], 1, 63)), Status.Code.INVALID_ARGUMENT, "features");
        assertStatus(() -> stub.modelMetadata(ModelMetadataRequest.newBuilder().setName("nope").build()),
                Status.Code.NOT_FOUND, "not served here");
        stub.serverLive(ServerLiveRequest.getDefaultInstance());
        String metrics = given().get("/q/metrics").then().statusCode(200).extract().asString();
        List<String> counts = new ArrayList<>();
        for (String line : metrics.split("\n")) {
            if (line.startsWith("streamtrain_inference_seconds_count{") && line.contains("protocol=\"grpc\"")) {
                counts.add(line);
            }
        }
        assertThat(counts).anySatisfy(l -> assertThat(l).contains("operation=\"infer\"", "outcome=\"ok\"", "model=\"digits\""));
        assertThat(counts).anySatisfy(l -> assertThat(l).contains("operation=\"infer\"", "outcome=\"client-error\""));
        assertThat(counts).anySatisfy(l -> assertThat(l).contains("operation=\"metadata\"", "outcome=\"client-error\""));
        assertThat(counts).anySatisfy(l -> assertThat(l).contains("operation=\"live\"", "outcome=\"ok\""));
    }

    private static void assertStatus(Runnable call, Status.Code code, String message) {
        assertThatThrownBy(call::run).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(code);
            assertThat(e.getStatus().getDescription()).contains(message);
        });
    }
}
