package dev.streamtrain.training.health;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.path.json.JsonPath;
import jakarta.inject.Inject;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.streamtrain.demo.DigitsDataset;
import dev.streamtrain.support.KafkaBrokerResource;
import dev.streamtrain.support.Records;
import dev.streamtrain.training.ServedModel;
import dev.streamtrain.training.TrainerService;

/**
 * The health monitors in the running service, with a real broker: held-out examples, per-layer gradient
 * metrics, a learning rate set x1000 through the control route (explosion detected, backed off), and a
 * poisoned record (non-finite step undone, its batch dead-lettered as {@code non-finite}). Every finding is a
 * metric, an event on the events topic and an entry in the status; serving never sees a non-finite weight.
 */
@QuarkusTest
@TestProfile(TrainingHealthServiceTest.Profile.class)
@QuarkusTestResource(value = KafkaBrokerResource.class, restrictToAnnotatedClass = true)
class TrainingHealthServiceTest {

    public static class Profile implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("streamtrain.model.spec", "src/test/resources/specs/health.yaml",
                    "streamtrain.health.holdout.fraction", "0.2",
                    "streamtrain.health.sample-every-steps", "2",
                    "streamtrain.health.gradients.patience", "2",
                    "streamtrain.health.drift.detector", "none",
                    "streamtrain.training.linger", "2s",
                    // the poisoned record below must reach the trainer: above float32's range, no bound refuses it
                    "streamtrain.ingest.range.max-abs-feature", "3.4e38");
        }
    }

    static final String TOKEN = "Bearer test-admin-token";

    @Inject
    TrainerService service;

    @Inject
    ServedModel served;

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrapServers;

    @Test
    void findingsAreMetricsEventsAndStatusAndServingStaysFinite() throws Exception {
        DigitsDataset data = DigitsDataset.load();
        try (Records kafka = new Records(bootstrapServers)) {
            kafka.sendAll(KafkaBrokerResource.EXAMPLES, Records.digits(data, 0, 1600));
            await().atMost(Duration.ofSeconds(60)).until(() -> seen() == 1600);
            long heldOut = service.trainer().holdoutStats().examples();
            // 20 % by the hash of the keys "digit-i": the same keys always land on the same side
            assertThat(heldOut).isBetween(250L, 390L);

            // an operator sets the learning rate x1000
            given().header("Authorization", TOKEN).contentType("application/json").body("{\"learning-rate\": \"fast\"}")
                    .put("/v1/training/hyperparameters").then().statusCode(400);
            given().contentType("application/json").body("{\"learning-rate\": 1.0}")
                    .put("/v1/training/hyperparameters").then().statusCode(401);
            given().header("Authorization", TOKEN).contentType("application/json").body("{\"learning-rate\": 1.0}")
                    .put("/v1/training/hyperparameters").then().statusCode(200);
            kafka.sendAll(KafkaBrokerResource.EXAMPLES, Records.digits(data, 1600, 3200));
            await().atMost(Duration.ofSeconds(60)).until(() -> seen() == 3200);
            JsonPath hyper = given().get("/v1/training/hyperparameters").then().statusCode(200).extract().jsonPath();
            assertThat(hyper.getDouble("learning-rate")).isLessThan(1.0);

            // a poisoned record: finite, but so large that the forward pass overflows
            String huge = "3e38," .repeat(63) + "3e38";
            kafka.send(KafkaBrokerResource.EXAMPLES, "poison", "{\"features\": [" + huge + "], \"label\": 1}");
            kafka.sendAll(KafkaBrokerResource.EXAMPLES, Records.digits(data, 3200, 3400));
            await().atMost(Duration.ofSeconds(60)).until(() -> service.trainer().recordsByPartition().values().stream()
                    .mapToLong(Long::longValue).sum() == 3401);
        }

        List<ConsumerRecord<byte[], byte[]>> dead = Records.readUntil(bootstrapServers, KafkaBrokerResource.DLQ,
                read -> read.stream().anyMatch(r -> Records.text(r.key()).equals("poison")));
        ConsumerRecord<byte[], byte[]> poison = dead.stream().filter(r -> Records.text(r.key()).equals("poison"))
                .findFirst().orElseThrow();
        assertThat(Records.text(poison.headers().lastHeader("dead-letter-reason").value())).isEqualTo("non-finite");
        assertThat(Records.text(poison.headers().lastHeader("dead-letter-cause").value())).contains("not finite");

        Records.readUntil(bootstrapServers, KafkaBrokerResource.EVENTS, read -> {
            List<String> events = read.stream().map(r -> Records.text(r.value())).toList();
            return events.stream().anyMatch(e -> e.contains("\"type\":\"hyperparameters-changed\""))
                    && events.stream().anyMatch(e -> e.contains("\"type\":\"exploding-gradient\""))
                    && events.stream().anyMatch(e -> e.contains("\"type\":\"non-finite-loss\""));
        });

        String metrics = given().get("/q/metrics").then().statusCode(200).extract().asString();
        assertThat(metrics)
                .containsPattern("streamtrain_gradient_norm\\{layer=\"layer0_dense\",model=\"digits\"} [0-9.E-]+")
                .containsPattern("streamtrain_update_ratio\\{layer=\"output\",model=\"digits\"} [0-9.E-]+")
                .containsPattern("streamtrain_dead_units_fraction\\{layer=\"layer0_dense\",model=\"digits\"} [0-9.E-]+")
                .containsPattern("streamtrain_activation_std\\{layer=\"layer0_dense\",model=\"digits\"} [0-9.E-]+")
                .containsPattern("streamtrain_holdout_loss\\{model=\"digits\",window=\"recent\"} [0-9.E-]+")
                .containsPattern("streamtrain_holdout_accuracy\\{model=\"digits\",window=\"recent\"} [0-9.E-]+")
                .containsPattern("streamtrain_holdout_gap\\{model=\"digits\"} ")
                .containsPattern("streamtrain_health_events_total\\{model=\"digits\",type=\"exploding-gradient\"} [1-9]")
                .containsPattern("streamtrain_health_events_total\\{model=\"digits\",type=\"non-finite-loss\"} [1-9]")
                .containsPattern("streamtrain_records_rejected_total\\{model=\"digits\",reason=\"non-finite\"} [1-9]")
                .containsPattern("streamtrain_learning_rate_scale\\{model=\"digits\"} ")
                .containsPattern("streamtrain_health_alarm\\{alarm=\"vanishing-gradient\",model=\"digits\"} 0.0")
                .containsPattern("streamtrain_step_phase_seconds_count\\{model=\"digits\",phase=\"forward-backward\"} [1-9]")
                .containsPattern("streamtrain_step_phase_seconds_count\\{model=\"digits\",phase=\"update\"} [1-9]")
                .containsPattern("streamtrain_decode_seconds_count\\{model=\"digits\"} [1-9]")
                .containsPattern("streamtrain_offheap_bytes\\{model=\"digits\"} [1-9]")
                .containsPattern("jvm_memory_used_bytes\\{area=\"heap\"")
                .containsPattern("process_cpu_usage ");

        JsonPath status = given().get("/v1/training/status").then().statusCode(200).extract().jsonPath();
        assertThat(status.getList("health.layers.layer")).containsExactly("layer0_dense", "output");
        assertThat(status.getLong("holdout.examples")).isPositive();
        assertThat(status.getDouble("learning-rate")).isLessThan(1.0);
        // the status keeps the latest 20 events (checkpoints are frequent here): the poison came last
        assertThat(status.getList("events.type")).contains("non-finite-loss");
        assertThat(served.current()).hasValueSatisfying(s -> assertThat(s.parametersFinite()).isTrue());
        JsonPath answer = given().contentType("application/json").body("{\"inputs\":[{\"name\":\"input\",\"shape\":[1,64],"
                + "\"datatype\":\"FP32\",\"data\":[" + "1,".repeat(63) + "1]}]}")
                .post("/v2/models/digits/infer").then().statusCode(200).extract().jsonPath();
        assertThat(answer.getList("outputs[0].data", Float.class)).allMatch(Float::isFinite);
    }

    private long seen() {
        return service.trainer().stats().examples() + service.trainer().holdoutStats().examples();
    }
}
