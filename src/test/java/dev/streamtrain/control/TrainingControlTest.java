package dev.streamtrain.control;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import jakarta.inject.Inject;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;

import dev.streamtrain.checkpoint.CheckpointService;
import dev.streamtrain.demo.DigitsDataset;
import dev.streamtrain.support.KafkaBrokerResource;
import dev.streamtrain.support.Records;
import dev.streamtrain.training.TrainerService;

/**
 * Training control over HTTP with a real broker and the filesystem store: a checkpoint on request (token
 * required) holds the trained offsets and commits them; a rollback restores that checkpoint's model and
 * optimizer state, serves it under a new version and checkpoints it; both are published as training events.
 */
@QuarkusTest
@QuarkusTestResource(value = KafkaBrokerResource.class, restrictToAnnotatedClass = true)
class TrainingControlTest {

    private static final String TOKEN = "Bearer test-admin-token";

    @Inject
    TrainerService service;

    @Inject
    CheckpointService checkpoints;

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrapServers;

    @Test
    void checkpointOnRequestThenRollBackToIt() throws Exception {
        DigitsDataset data = DigitsDataset.load();
        try (Records kafka = new Records(bootstrapServers)) {
            kafka.sendAll(KafkaBrokerResource.EXAMPLES, Records.digits(data, 0, 600));
            await().atMost(Duration.ofSeconds(60)).until(() -> service.trainer().stats().examples() == 600);

            given().post("/v1/training/checkpoint").then().statusCode(401).body("error", containsString("Bearer"));
            given().header("Authorization", "Bearer wrong").post("/v1/training/checkpoint").then().statusCode(401);
            JsonPath first = given().header("Authorization", TOKEN).post("/v1/training/checkpoint")
                    .then().statusCode(200).extract().jsonPath();
            long saved = first.getLong("step");
            assertThat(saved).isEqualTo(service.trainer().step());
            assertThat(first.getString("checkpoint")).isEqualTo(String.format("digits/%012d/", saved));
            JsonPath list = given().get("/v1/training/checkpoints").then().statusCode(200).extract().jsonPath();
            assertThat(list.getList("step", Long.class)).contains(saved);
            assertThat(list.getLong("find { it.step == " + saved + " }.offsets.'streamtrain.examples-0'")).isEqualTo(600);
            // a durable checkpoint's offsets are committed, so Kafka's tools show what is safely learnt
            await().atMost(Duration.ofSeconds(10)).until(() -> kafka.committed("streamtrain", KafkaBrokerResource.EXAMPLES) == 600);
            float[] savedWeights = checkpoints.restore(saved).network().parameters();

            kafka.sendAll(KafkaBrokerResource.EXAMPLES, Records.digits(data, 600, 1200));
            await().atMost(Duration.ofSeconds(60)).until(() -> service.trainer().stats().examples() >= 1200);
            long before = service.trainer().step();
            long later = given().header("Authorization", TOKEN).post("/v1/training/checkpoint")
                    .then().statusCode(200).extract().jsonPath().getLong("step");
            assertThat(checkpoints.restore(later).network().parameters()).isNotEqualTo(savedWeights);

            given().header("Authorization", TOKEN).post("/v1/training/rollback?step=999999")
                    .then().statusCode(404).body("error", containsString("999999"));
            JsonPath rolled = given().header("Authorization", TOKEN).post("/v1/training/rollback?step=" + saved)
                    .then().statusCode(200).extract().jsonPath();
            assertThat(rolled.getLong("to-checkpoint")).isEqualTo(saved);
            assertThat(rolled.getLong("from-step")).isEqualTo(before);
            long now = rolled.getLong("step");
            assertThat(now).isEqualTo(before + 1);
            // the rolled-back model is checkpointed at once, under its new step
            assertThat(checkpoints.restore(now).network().parameters()).containsExactly(savedWeights);
            given().get("/v2/models/digits").then().statusCode(200).body("versions[0]", org.hamcrest.Matchers.equalTo(Long.toString(now)));
            JsonPath status = given().get("/v1/training/status").then().statusCode(200).extract().jsonPath();
            assertThat(status.getLong("checkpoint.last-step")).isEqualTo(now);
            assertThat(status.getString("engine.name")).isEqualTo("lean");
            assertThat(status.getMap("engine")).doesNotContainKey("fallback-reason");
            assertThat(status.getList("events.type", String.class)).contains("checkpoint-saved", "rolled-back");
            assertThat(status.getLong("records.'streamtrain.examples-0'")).isEqualTo(1200);

            List<String> events = new ArrayList<>();
            Records.readUntil(bootstrapServers, KafkaBrokerResource.EVENTS, read -> {
                events.clear();
                read.forEach(r -> events.add(Records.text(r.value())));
                return events.stream().anyMatch(e -> e.contains("\"rolled-back\""));
            });
            assertThat(events).anyMatch(e -> e.contains("\"type\":\"checkpoint-saved\"") && e.contains("\"step\":" + saved + ","));
            assertThat(events).anyMatch(e -> e.contains("\"type\":\"rolled-back\"") && e.contains("\"to-checkpoint\":" + saved));
        }
        String metrics = given().get("/q/metrics").then().statusCode(200).extract().asString();
        // the two refusals above, counted by reason
        assertThat(metrics).containsPattern("streamtrain_admin_refused_total\\{model=\"digits\",reason=\"missing\"} [1-9]")
                .containsPattern("streamtrain_admin_refused_total\\{model=\"digits\",reason=\"invalid\"} [1-9]");
        assertThat(metrics).containsPattern("streamtrain_checkpoints_total\\{model=\"digits\",result=\"success\"} [1-9]")
                .contains("streamtrain_checkpoint_seconds_count{model=\"digits\"}")
                .containsPattern("streamtrain_last_checkpoint_timestamp_seconds\\{model=\"digits\"} 1\\.[0-9]+E9")
                .contains("streamtrain_health_events_total{model=\"digits\",type=\"rolled-back\"} 1.0");
    }
}
