package dev.streamtrain.serving;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.http.ContentType;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

import io.quarkus.test.common.http.TestHTTPResource;
import jakarta.inject.Inject;

import java.net.URL;
import java.util.List;
import java.util.Map;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.notNullValue;

import dev.streamtrain.support.FactorySnapshotProfile;
import dev.streamtrain.support.HelmTestScript;
import dev.streamtrain.support.KafkaBrokerResource;
import dev.streamtrain.training.ServedModel;

/** The KServe V2 REST routes: health, metadata, inference shapes and the protocol's error bodies. */
@QuarkusTest
@TestProfile(FactorySnapshotProfile.class)
@QuarkusTestResource(value = KafkaBrokerResource.class, restrictToAnnotatedClass = true)
class InferenceResourceTest {

    @Inject
    ServedModel served;

    private static String row(int width, String value) {
        return String.join(",", java.util.Collections.nCopies(width, value));
    }

    private static String request(String shape, String data) {
        return "{\"inputs\":[{\"name\":\"input\",\"shape\":" + shape + ",\"datatype\":\"FP32\",\"data\":" + data + "}]}";
    }

    @TestHTTPResource("/")
    URL root;

    /**
     * The chart's {@code helm test} pod runs a shell script with curl against the inference Service: here the same
     * script, rendered by helm from the chart's defaults, runs against this service (its base URL swapped in), and
     * must pass; then for a model this service does not serve, and must fail. With TLS and a token: SecuredServingTest.
     */
    @Test
    void theChartsHelmTestScriptPassesAgainstALiveService() throws Exception {
        String script = HelmTestScript.render(Map.of());
        assertThat(script).contains("base=http://streamtrain-serving:8080").contains("model=digits")
                .doesNotContain("--cacert", "Authorization");
        String base = root.toString().replaceAll("/$", "");
        assertThat(HelmTestScript.run(script, Map.of("base=http://streamtrain-serving:8080", "base=" + base)))
                .contains("inference answered");
        // a model this service does not serve: the script must fail, not pass on anything
        assertThat(HelmTestScript.run(script, Map.of("base=http://streamtrain-serving:8080", "base=" + base,
                "model=digits", "model=nope"))).isNull();
    }

    @Test
    void healthAndMetadataFollowTheProtocol() {
        given().get("/v2/health/live").then().statusCode(200).body("live", equalTo(true));
        given().get("/v2/health/ready").then().statusCode(200).body("ready", equalTo(true));
        given().get("/v2").then().statusCode(200).body("name", equalTo("streamtrain")).body("version", notNullValue());
        String version = given().get("/v2/models/digits").then().statusCode(200)
                .body("name", equalTo("digits"))
                .body("inputs[0].name", equalTo("input"))
                .body("inputs[0].datatype", equalTo("FP32"))
                .body("inputs[0].shape", equalTo(List.of(-1, 64)))
                .body("outputs[0].shape", equalTo(List.of(-1, 10)))
                .extract().jsonPath().getString("versions[0]");
        given().get("/v2/models/digits/ready").then().statusCode(200).body("ready", equalTo(true));
        given().get("/v2/models/digits/versions/" + version).then().statusCode(200).body("versions", hasItem(version));
        given().get("/v2/models/digits/versions/" + version + "/ready").then().statusCode(200);
        given().get("/v2/models/digits/versions/999999/ready").then().statusCode(404).body("error", containsString("is not served"));
        given().get("/v2/models/nope").then().statusCode(404).body("error", containsString("not served here"));
        given().get("/q/health/ready").then().statusCode(200).body("checks.name", hasItem("model"));
        given().get("/q/health/live").then().statusCode(200).body("checks.name", hasItem("trainer"));
    }

    @Test
    void infersABatchOfRowsAsProbabilities() {
        String data = "[[" + row(64, "0") + "],[" + row(64, "16") + "],[" + row(64, "8") + "]]";
        var json = given().contentType(ContentType.JSON).body(request("[3,64]", data))
                .post("/v2/models/digits/infer")
                .then().statusCode(200)
                .body("model_name", equalTo("digits"))
                .body("outputs[0].name", equalTo("output"))
                .body("outputs[0].datatype", equalTo("FP32"))
                .body("outputs[0].shape", equalTo(List.of(3, 10)))
                .extract().jsonPath();
        List<Float> p = json.getList("outputs[0].data", Float.class);
        assertThat(p).hasSize(30).allSatisfy(v -> assertThat(v).isBetween(0f, 1f));
        for (int i = 0; i < 3; i++) {
            assertThat(p.subList(i * 10, i * 10 + 10).stream().mapToDouble(Float::doubleValue).sum())
                    .isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-4));
        }
        String version = json.getString("model_version");
        given().contentType(ContentType.JSON).body(request("[1,64]", "[" + row(64, "1") + "]"))
                .post("/v2/models/digits/versions/" + version + "/infer").then().statusCode(200);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "/v2/models/nope/infer | 404 | not served here",
        "/v2/models/digits/versions/999999/infer | 404 | is not served",
    })
    void unknownModelsAndVersionsAreNotFound(String path, int status, String message) {
        given().contentType(ContentType.JSON).body(request("[1,64]", "[" + row(64, "1") + "]"))
                .post(path).then().statusCode(status).body("error", containsString(message));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "[1,63] | 63 | features per row",
        "[2,64] | 64 | needs 128",
        "[1,64] | 65 | more values than its shape",
        "[0,64] | 0 | rows",
        "[1,2,64] | 64 | must have shape",
    })
    void wrongShapesAreBadRequests(String shape, int values, String message) {
        given().contentType(ContentType.JSON).body(request(shape, "[" + row(values, "1") + "]"))
                .post("/v2/models/digits/infer").then().statusCode(400).body("error", containsString(message));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "{\"inputs\": [} | not a valid V2 JSON request",
        "{} | exactly one tensor",
        "{\"inputs\":[{\"name\":\"input\",\"shape\":[1,64],\"datatype\":\"BYTES\",\"data\":[1]}]} | datatype BYTES",
        "{\"inputs\":[{\"name\":\"input\",\"shape\":[1,2],\"datatype\":\"FP32\",\"data\":[\"a\",1]}]} | features per row",
        "{\"inputs\":[{\"name\":\"input\",\"shape\":[1,64],\"datatype\":\"FP32\",\"data\":[\"a\"]}]} | non-number",
        "{\"inputs\":[{\"name\":\"input\",\"shape\":[1,64],\"datatype\":\"FP32\",\"data\":[1]}],\"outputs\":[{\"name\":\"logits\"}]} | one output",
        "{\"inputs\":[null]} | is null",
        "{\"inputs\":[{\"name\":\"input\",\"shape\":[1,64],\"datatype\":\"FP32\",\"data\":[1]}],\"outputs\":[null]} | one output",
        "{\"inputs\":[{\"name\":\"input\",\"shape\":\"x\",\"datatype\":\"FP32\",\"data\":[1]}]} | not a valid V2 JSON request",
    })
    void malformedRequestsAreBadRequests(String body, String message) {
        given().contentType(ContentType.JSON).body(body)
                .post("/v2/models/digits/infer").then().statusCode(400).body("error", containsString(message));
    }

    @Test
    void servesThroughTheFactorysLockFreeSnapshots() {
        given().get("/v2/health/ready").then().statusCode(200);
        assertThat(served.current()).hasValueSatisfying(s -> assertThat(s.predictsWithoutLock()).isTrue());
    }

    /**
     * 300 rows (a body far above what is read on the event loop, a pass far above what runs there) go to a worker
     * thread and answer, row for row, what single-row requests answered on the event loop answer.
     */
    @Test
    void largeRequestsOnWorkersAnswerAsSmallOnesInline() {
        int rows = 300;
        StringBuilder data = new StringBuilder();
        for (int i = 0; i < rows * 64; i++) {
            data.append(i == 0 ? "" : ",").append((i * 13) % 17);
        }
        assertThat(data.length()).isGreaterThan(InferenceResource.INLINE_MAX_BODY_BYTES);
        var large = given().contentType(ContentType.JSON).body(request("[" + rows + ",64]", "[" + data + "]"))
                .post("/v2/models/digits/infer").then().statusCode(200)
                .body("outputs[0].shape", equalTo(List.of(rows, 10))).extract().jsonPath();
        List<Float> all = large.getList("outputs[0].data", Float.class);
        String version = large.getString("model_version");
        for (int row : new int[] {0, 1, 150, 299}) {
            StringBuilder one = new StringBuilder();
            for (int j = 0; j < 64; j++) {
                one.append(j == 0 ? "" : ",").append(((row * 64 + j) * 13) % 17);
            }
            List<Float> alone = given().contentType(ContentType.JSON).body(request("[1,64]", "[" + one + "]"))
                    .post("/v2/models/digits/versions/" + version + "/infer").then().statusCode(200)
                    .extract().jsonPath().getList("outputs[0].data", Float.class);
            // the plain pass computes each row alone, whatever the batch: the same floats
            assertThat(alone).as("row %d", row).containsExactlyElementsOf(all.subList(row * 10, row * 10 + 10));
        }
    }

    /** The streaming reader of "data" refuses what the tree reader refused, with the same messages. */
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "[1,64] | [1, 2, 1e300] | not a finite FP32 number at 2: 1.0E300",
        "[1,2] | [1, 1e300] | features per row",
        "[1,64] | [1, {\"a\": [1]}, 3] | non-number: {\"a\":[1]}",
        "[1,64] | [[1, 2], [true]] | non-number: true",
        "[1,64] | [1, null] | non-number: null",
        "[1,64] | 7 | needs \"data\": an array of numbers",
        "[1,64] | {\"x\": 1} | needs \"data\": an array of numbers",
    })
    void streamedDataIsCheckedAsBefore(String shape, String data, String message) {
        given().contentType(ContentType.JSON).body(request(shape, data))
                .post("/v2/models/digits/infer").then().statusCode(400).body("error", containsString(message));
    }

    @Test
    void dataMayComeBeforeTheShapeAndAnEmptyBodyIsARequestWithoutInputs() {
        String body = "{\"inputs\":[{\"data\":[" + row(64, "2") + "],\"name\":\"input\",\"datatype\":\"FP32\","
                + "\"shape\":[1,64]}],\"id\":\"abc\"}";
        given().contentType(ContentType.JSON).body(body).post("/v2/models/digits/infer").then().statusCode(200)
                .body("id", equalTo("abc")).body("outputs[0].shape", equalTo(List.of(1, 10)));
        given().contentType(ContentType.JSON).body("").post("/v2/models/digits/infer").then().statusCode(400)
                .body("error", containsString("exactly one tensor"));
    }
}
