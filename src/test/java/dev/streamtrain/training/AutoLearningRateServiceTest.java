package dev.streamtrain.training;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.http.ContentType;
import io.restassured.path.json.JsonPath;
import jakarta.inject.Inject;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.offset;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;

import dev.streamtrain.checkpoint.CheckpointService;
import dev.streamtrain.demo.DigitsDataset;
import dev.streamtrain.support.KafkaBrokerResource;
import dev.streamtrain.support.Records;

/**
 * {@code learning-rate: auto} end to end, with a real broker and the production defaults otherwise: one pass of the
 * digits trains the tuner's population, the best member serves (the status, the served version and the learning-rate
 * metric agree on it), the tuner's meters and its exploits are visible, an operator pins the rate over HTTP and hands
 * it back to the tuner, and a checkpoint holds the whole population.
 */
@QuarkusTest
@TestProfile(AutoLearningRateServiceTest.Profile.class)
@QuarkusTestResource(value = KafkaBrokerResource.class, restrictToAnnotatedClass = true)
class AutoLearningRateServiceTest {

    public static class Profile implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("streamtrain.model.spec", "src/test/resources/specs/digits-auto.yaml");
        }
    }

    private static final String TOKEN = "Bearer test-admin-token";

    @Inject
    TrainerService service;

    @Inject
    CheckpointService checkpoints;

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrapServers;

    @Test
    void trainsThePopulationServesTheBestMemberAndLetsAnOperatorPinTheRate() {
        DigitsDataset data = DigitsDataset.load();
        List<String[]> records = new ArrayList<>();
        for (int row : data.shuffledOrder(0)) {
            records.add(new String[] {"digit-" + row, data.toJson(row)});
        }
        try (Records kafka = new Records(bootstrapServers)) {
            kafka.sendAll(KafkaBrokerResource.EXAMPLES, records);
            await().atMost(Duration.ofSeconds(300)).until(() -> service.trainer().stats().examples() == data.size());
        }
        // one pass at Adam's default rate reaches about 0.55; the tuner finds a rate near the best in hindsight (~0.88)
        assertThat(service.trainer().stats().accuracy()).isGreaterThan(0.8);
        long step = service.trainer().step();

        JsonPath status = given().get("/v1/training/status").then().statusCode(200).extract().jsonPath();
        List<Map<String, Object>> members = status.getList("tuner.members");
        assertThat(members).hasSize(4);
        int serving = status.getInt("tuner.serving-member");
        assertThat(status.getLong("tuner.exploits")).isPositive();
        assertThat(status.<Object>get("tuner.pinned")).isNull();
        double best = members.stream().mapToDouble(m -> ((Number) m.get("recent-loss")).doubleValue()).min()
                .orElseThrow();
        assertThat(((Number) members.get(serving).get("recent-loss")).doubleValue()).isEqualTo(best);
        assertThat(members.get(serving).get("serving")).isEqualTo(true);
        double servingRate = ((Number) members.get(serving).get("learning-rate")).doubleValue();
        assertThat(status.getDouble("learning-rate")).isCloseTo(servingRate, offset(1e-9));
        assertThat(status.getList("events.findAll { it.type == 'hyperparameters-changed' }.detail.reason"))
                .as("exploits are published as hyperparameters-changed").contains("tuner-exploit");

        // the served snapshot is the serving member's, of the last step
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() ->
                given().get("/v2/models/digits").then().statusCode(200).extract().jsonPath()
                        .getList("versions").contains(Long.toString(step)));
        assertServedAccuracy(data, service.trainer().stats().accuracy());

        String metrics = given().get("/q/metrics").then().statusCode(200).extract().asString();
        assertThat(metrics)
                .contains("streamtrain_tuner_members{model=\"digits\"} 4.0")
                .contains("streamtrain_tuner_serving_member{model=\"digits\"} " + serving + ".0")
                .contains("streamtrain_tuner_pinned{model=\"digits\"} 0.0")
                .contains("streamtrain_tuner_exploits_total{model=\"digits\"} " + status.getLong("tuner.exploits") + ".0")
                .contains("streamtrain_tuner_member_recent_loss{member=\"3\",model=\"digits\"}");
        assertThat(gauge(metrics, "streamtrain_tuner_member_learning_rate{member=\"" + serving + "\",model=\"digits\"}"))
                .isCloseTo(servingRate, offset(1e-9));
        assertThat(gauge(metrics, "streamtrain_learning_rate{model=\"digits\"}")).isCloseTo(servingRate, offset(1e-9));

        // an operator pins the rate: every member at it, the tuner paused; then hands it back
        given().header("Authorization", TOKEN).contentType(ContentType.JSON).body("{\"learning-rate\": 0.02}")
                .put("/v1/training/hyperparameters").then().statusCode(200)
                .body("learning-rate-mode", org.hamcrest.Matchers.equalTo("pinned"));
        JsonPath pinned = given().get("/v1/training/status").then().statusCode(200).extract().jsonPath();
        assertThat(pinned.getDouble("tuner.pinned")).isEqualTo(0.02);
        assertThat(pinned.getList("tuner.members.learning-rate", Double.class))
                .allSatisfy(rate -> assertThat(rate).isCloseTo(0.02, offset(1e-9)));
        given().header("Authorization", TOKEN).contentType(ContentType.JSON).body("{\"learning-rate\": \"fast\"}")
                .put("/v1/training/hyperparameters").then().statusCode(400).body("error", containsString("auto"));
        given().header("Authorization", TOKEN).contentType(ContentType.JSON).body("{\"learning-rate\": \"auto\"}")
                .put("/v1/training/hyperparameters").then().statusCode(200)
                .body("learning-rate-mode", org.hamcrest.Matchers.equalTo("auto"))
                .body("spec-learning-rate", org.hamcrest.Matchers.equalTo("auto"));
        assertThat(given().get("/v1/training/status").then().extract().jsonPath().<Object>get("tuner.pinned")).isNull();

        // a checkpoint holds the whole population, its serving member as the model
        long saved = given().header("Authorization", TOKEN).post("/v1/training/checkpoint").then().statusCode(200)
                .extract().jsonPath().getLong("step");
        try {
            SavedTraining restored = checkpoints.restore(saved);
            assertThat(restored.tuner()).isNotNull();
            assertThat(restored.tuner().size()).isEqualTo(4);
            assertThat(restored.network()).isSameAs(restored.tuner().leader());
        } catch (java.io.IOException e) {
            throw new AssertionError("the checkpoint of step " + saved + " cannot be read back", e);
        }
    }

    private static double gauge(String metrics, String series) {
        return metrics.lines().filter(l -> l.startsWith(series + " ")).findFirst()
                .map(l -> Double.parseDouble(l.substring(series.length() + 1)))
                .orElseThrow(() -> new AssertionError("no series " + series + " in /q/metrics"));
    }

    private void assertServedAccuracy(DigitsDataset data, double prequentialAccuracy) {
        StringBuilder values = new StringBuilder();
        int rows = 300;
        for (int i = 0; i < rows; i++) {
            for (float v : data.features()[i]) {
                values.append(values.length() == 0 ? "" : ",").append(v);
            }
        }
        List<Float> p = given().contentType(ContentType.JSON)
                .body("{\"inputs\":[{\"name\":\"input\",\"shape\":[" + rows + ",64],\"datatype\":\"FP32\",\"data\":["
                        + values + "]}]}")
                .post("/v2/models/digits/infer").then().statusCode(200).extract().jsonPath()
                .getList("outputs[0].data", Float.class);
        int correct = 0;
        for (int i = 0; i < rows; i++) {
            int best = 0;
            for (int k = 0; k < 10; k++) {
                best = p.get(i * 10 + k) > p.get(i * 10 + best) ? k : best;
            }
            correct += best == data.labels()[i] ? 1 : 0;
        }
        // the serving member knows these digits at least as well as the population predicted them while learning
        assertThat((double) correct / rows).isGreaterThanOrEqualTo(prequentialAccuracy - 0.02);
    }
}
