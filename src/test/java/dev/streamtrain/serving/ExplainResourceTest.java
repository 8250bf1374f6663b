package dev.streamtrain.serving;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.http.ContentType;
import io.restassured.path.json.JsonPath;
import jakarta.inject.Inject;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.time.Duration;
import java.util.List;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;

import dev.streamtrain.demo.DigitsDataset;
import dev.streamtrain.support.FactorySnapshotProfile;
import dev.streamtrain.support.KafkaBrokerResource;
import dev.streamtrain.support.Records;
import dev.streamtrain.training.TrainerService;

/**
 * {@code POST /v2/models/{model}/explain} over HTTP, on a model trained from the broker on one pass of the digits:
 * the response's shape and defaults, the target, steps and baseline parameters, the version form, the error
 * bodies, completeness on a real request, and the request meter.
 */
@QuarkusTest
@TestProfile(FactorySnapshotProfile.class)
@QuarkusTestResource(value = KafkaBrokerResource.class, restrictToAnnotatedClass = true)
class ExplainResourceTest {

    private static final Logger LOG = Logger.getLogger(ExplainResourceTest.class);
    private static final DigitsDataset DATA = DigitsDataset.load();
    private static final int ROWS = 4;
    private static boolean trained;

    @Inject
    TrainerService service;

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrapServers;

    /** One pass of the digits through the broker, once per class; returns the version serving now. */
    private String trainedVersion() {
        if (!trained) {
            try (Records kafka = new Records(bootstrapServers)) {
                kafka.sendAll(KafkaBrokerResource.EXAMPLES, Records.digits(DATA, 0, DATA.size()));
            }
            await().atMost(Duration.ofSeconds(120)).until(() -> service.trainer().stats().examples() == DATA.size());
            long step = service.trainer().step();
            await().atMost(Duration.ofSeconds(10)).until(() -> given().get("/v2/models/digits").then().extract()
                    .jsonPath().getList("versions").contains(Long.toString(step)));
            trained = true;
        }
        return given().get("/v2/models/digits").then().statusCode(200).extract().jsonPath().getString("versions[0]");
    }

    private static String body(int first, int rows, String parameters) {
        StringBuilder data = new StringBuilder();
        for (int i = first; i < first + rows; i++) {
            for (float v : DATA.features()[i]) {
                data.append(data.length() == 0 ? "" : ",").append((int) v);
            }
        }
        return "{\"id\":\"e1\",\"inputs\":[{\"name\":\"input\",\"shape\":[" + rows + ",64],\"datatype\":\"FP32\",\"data\":["
                + data + "]}]" + (parameters == null ? "" : ",\"parameters\":" + parameters) + "}";
    }

    private static JsonPath post(String path, String body) {
        return given().contentType(ContentType.JSON).body(body).post(path).then().statusCode(200).extract().jsonPath();
    }

    @Test
    void explainsEachRowsPredictedClassFromTheMeanInput() {
        String version = trainedVersion();
        String path = "/v2/models/digits/versions/" + version;
        JsonPath e = post(path + "/explain", body(100, ROWS, null));
        List<Float> p = post(path + "/infer", body(100, ROWS, null)).getList("outputs[0].data", Float.class);
        assertThat(e.getString("model_name")).isEqualTo("digits");
        assertThat(e.getString("model_version")).isEqualTo(version);
        assertThat(e.getString("id")).isEqualTo("e1");
        assertThat(e.getString("method")).isEqualTo("integrated-gradients");
        assertThat(e.getString("rule")).isEqualTo("trapezoid");
        assertThat(e.getInt("steps")).isEqualTo(64);
        assertThat(e.getString("baseline.kind")).isEqualTo("mean");
        List<Float> mean = e.getList("baseline.data", Float.class);
        assertThat(mean).hasSize(64);
        assertThat(mean.get(0)).isZero();
        assertThat(mean.get(20)).isBetween(1f, 16f);
        assertThat(e.getList("explanations")).hasSize(ROWS);
        for (int row = 0; row < ROWS; row++) {
            String at = "explanations[" + row + "].";
            int target = e.getInt(at + "target");
            List<Float> probabilities = p.subList(row * 10, row * 10 + 10);
            assertThat(probabilities.get(target)).isEqualTo(probabilities.stream().max(Float::compare).orElseThrow());
            double output = e.getDouble(at + "output");
            double change = output - e.getDouble(at + "baseline_output");
            assertThat(output).isCloseTo(probabilities.get(target), within(1e-5));
            List<Float> attributions = e.getList(at + "attributions", Float.class);
            assertThat(attributions).hasSize(64);
            double gap = e.getDouble(at + "completeness_gap");
            LOG.infof("row %d: target %d, f(x) %.4f, f(baseline) %.4f, gap %.2e (64 steps)", 100 + row, target, output,
                    output - change, gap);
            assertThat(attributions.stream().mapToDouble(Float::doubleValue).sum()).isCloseTo(change, within(gap + 1e-5));
            assertThat(gap).isLessThanOrEqualTo(0.05 * Math.abs(change));
        }
    }

    @Test
    void withEnoughStepsTheAttributionsAddUpToTheChangeWithinOnePercent() {
        trainedVersion();
        JsonPath e = post("/v2/models/digits/explain", body(200, 8, "{\"steps\": 256}"));
        assertThat(e.getInt("steps")).isEqualTo(256);
        for (int row = 0; row < 8; row++) {
            double change = e.getDouble("explanations[" + row + "].output") - e.getDouble("explanations[" + row + "].baseline_output");
            double gap = e.getDouble("explanations[" + row + "].completeness_gap");
            LOG.infof("row %d: f(x) - f(baseline) %.4f, gap %.2e (256 steps)", 200 + row, change, gap);
            assertThat(gap).isLessThanOrEqualTo(0.01 * Math.abs(change));
        }
    }

    @Test
    void targetStepsAndBaselineCanBeChosen() {
        trainedVersion();
        JsonPath forAll = post("/v2/models/digits/explain", body(0, ROWS, "{\"target\": 3, \"steps\": 16, \"baseline\": \"zeros\"}"));
        assertThat(forAll.getList("explanations.target", Integer.class)).containsOnly(3);
        assertThat(forAll.getInt("steps")).isEqualTo(16);
        assertThat(forAll.getString("baseline.kind")).isEqualTo("zeros");
        assertThat(forAll.getList("baseline.data", Float.class)).hasSize(64).containsOnly(0f);

        String ones = "[" + String.join(",", java.util.Collections.nCopies(64, "1")) + "]";
        JsonPath each = post("/v2/models/digits/explain", body(0, ROWS, "{\"target\": [0, 1, 2, 9], \"baseline\": " + ones + "}"));
        assertThat(each.getList("explanations.target", Integer.class)).containsExactly(0, 1, 2, 9);
        assertThat(each.getString("baseline.kind")).isEqualTo("custom");
        assertThat(each.getList("baseline.data", Float.class)).containsOnly(1f);
        assertThat(post("/v2/models/digits/explain", body(0, 1, "{\"baseline\": \"mean\"}")).getString("baseline.kind"))
                .isEqualTo("mean");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "{\"target\": 10} | parameter 'target' is 10; model 'digits' has 10 outputs: use 0 to 9",
        "{\"target\": -1} | parameter 'target' is -1",
        "{\"target\": \"three\"} | parameter 'target' is \"three\"; use an output index",
        "{\"target\": 1.5} | parameter 'target' is 1.5",
        "{\"target\": [1, 2]} | parameter 'target' has 2 entries; give one output index for all rows or one per row (4)",
        "{\"steps\": 0} | parameter 'steps' is 0; allowed: 1 to 1024",
        "{\"steps\": 1025} | parameter 'steps' is 1025",
        "{\"steps\": \"many\"} | parameter 'steps' is \"many\"; use an integer, 1 to 1024",
        "{\"baseline\": [1, 2, 3]} | parameter 'baseline' has 3 numbers; the model takes 64 features",
        "{\"baseline\": \"median\"} | parameter 'baseline' is \"median\"; use \"mean\", \"zeros\" or an array",
        "{\"baseline\": [1, \"a\"]} | parameter 'baseline' holds \"a\" at 1",
        "{\"step\": 8} | parameter 'step' is not known to explain",
    })
    void badParametersAreBadRequests(String parameters, String message) {
        trainedVersion();
        given().contentType(ContentType.JSON).body(body(0, ROWS, parameters)).post("/v2/models/digits/explain")
                .then().statusCode(400).body("error", containsString(message));
    }

    @Test
    void tooLargeRequestsWrongShapesAndUnknownModelsAreRefused() {
        String version = trainedVersion();
        given().contentType(ContentType.JSON).body(body(0, 100, "{\"steps\": 1024}")).post("/v2/models/digits/explain")
                .then().statusCode(400).body("error", containsString("100 x (1024 + 1) = 102500 gradients; at most 65536"));
        given().contentType(ContentType.JSON)
                .body("{\"inputs\":[{\"name\":\"input\",\"shape\":[1,63],\"datatype\":\"FP32\",\"data\":[1]}]}")
                .post("/v2/models/digits/explain").then().statusCode(400).body("error", containsString("features per row"));
        given().contentType(ContentType.JSON).body(body(0, 1, null)).post("/v2/models/nope/explain")
                .then().statusCode(404).body("error", containsString("not served here"));
        given().contentType(ContentType.JSON).body(body(0, 1, null)).post("/v2/models/digits/versions/999999/explain")
                .then().statusCode(404).body("error", containsString("is not served"));
        given().contentType(ContentType.JSON).body(body(0, 1, null)).post("/v2/models/digits/versions/" + version + "/explain")
                .then().statusCode(200).body("model_version", equalTo(version));
    }

    @Test
    void explanationsAreMetered() {
        trainedVersion();
        post("/v2/models/digits/explain", body(0, 1, "{\"steps\": 4}"));
        given().contentType(ContentType.JSON).body(body(0, 1, "{\"steps\": 0}")).post("/v2/models/digits/explain")
                .then().statusCode(400);
        String metrics = given().get("/q/metrics").then().statusCode(200).extract().asString();
        assertThat(metrics)
                .contains("streamtrain_inference_seconds_count{model=\"digits\",operation=\"explain\",outcome=\"ok\",protocol=\"rest\"}")
                .contains("streamtrain_inference_seconds_count{model=\"digits\",operation=\"explain\",outcome=\"client-error\",protocol=\"rest\"}");
    }
}
