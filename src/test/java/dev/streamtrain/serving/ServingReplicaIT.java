package dev.streamtrain.serving;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.streamtrain.demo.DigitsDataset;
import dev.streamtrain.embedded.EmbeddedKafka;
import dev.streamtrain.support.Records;
import dev.streamtrain.support.ServiceProcess;

/**
 * Serving-only replicas ({@code streamtrain.mode=serve}) follow a trainer in another process: the packaged
 * service three times, one Kafka broker, one checkpoint store. A replica started before any checkpoint is
 * live but not ready, takes no examples from the trainer's consumer group, swaps in each checkpoint the trainer
 * announces, and ends answering with the trainer's final weights bit for bit; a replica started later loads
 * the newest checkpoint at start.
 */
class ServingReplicaIT {

    private static final String TOPIC = "replica.examples";
    private static final String EVENTS = "replica.events";
    private static final String TOKEN = "it-token";
    private static final int RECORDS = 1500;
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path work;

    private static EmbeddedKafka broker;

    @BeforeAll
    static void startBroker() {
        broker = EmbeddedKafka.start();
        broker.createTopics(Map.of(TOPIC, 1, EVENTS, 1, "replica.dlq", 1));
    }

    @AfterAll
    static void stopBroker() {
        if (broker != null) {
            broker.close();
        }
    }

    @Test
    void replicasFollowTheTrainersCheckpoints() throws Exception {
        DigitsDataset data = DigitsDataset.load();
        String probe = "{\"id\":\"probe\",\"inputs\":[{\"name\":\"input\",\"shape\":[3,64],\"datatype\":\"FP32\",\"data\":["
                + String.join(",", List.of(features(data, 0), features(data, 1), features(data, 2))) + "]}]}";
        try (ServiceProcess early = start("replica-early", "serve");
             Records kafka = new Records(broker.bootstrapServers())) {
            // no checkpoint yet: started and alive, but neither ready nor able to answer
            assertThat(early.status("/q/health/ready")).isEqualTo(503);
            assertThat(early.status("/v2/models/digits/ready")).isEqualTo(503);
            assertThat(early.status("/v1/training/status")).as("training control on a replica").isEqualTo(409);

            try (ServiceProcess trainer = start("replica-trainer", "train")) {
                kafka.sendAll(TOPIC, Records.digits(data, 0, RECORDS / 2));
                // the replica swaps in checkpoints while the trainer learns
                long first = awaitVersion(early, v -> v > 0);
                kafka.sendAll(TOPIC, Records.digits(data, RECORDS / 2, RECORDS));
                await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(200))
                        .until(() -> status(trainer).path("examples").asLong() == RECORDS);
                awaitVersion(early, v -> v > first);
                // every record went to the trainer: the replica did not join its consumer group
                assertThat(status(trainer).path("records").path(TOPIC + "-0").asLong()).isEqualTo(RECORDS);

                long last = JSON.readTree(trainer.post("/v1/training/checkpoint", "", TOKEN)).path("step").asLong();
                awaitVersion(early, v -> v == last);
                assertThat(early.status("/q/health/ready")).as("a replica with a model is ready").isEqualTo(200);
                await().atMost(Duration.ofSeconds(10)).until(() -> version(trainer) == last);
                JsonNode fromReplica = JSON.readTree(early.post("/v2/models/digits/infer", probe, null));
                JsonNode fromTrainer = JSON.readTree(trainer.post("/v2/models/digits/infer", probe, null));
                assertThat(fromReplica.path("model_version").asText()).isEqualTo(Long.toString(last));
                assertThat(fromReplica.path("id").asText()).isEqualTo("probe");
                assertThat(fromReplica.path("outputs")).as("the replica answers with the trainer's weights")
                        .isEqualTo(fromTrainer.path("outputs"));

                // a replica started now loads the newest checkpoint from the store, without any event
                try (ServiceProcess late = start("replica-late", "serve")) {
                    awaitVersion(late, v -> v == last);
                    assertThat(JSON.readTree(late.post("/v2/models/digits/infer", probe, null)).path("outputs"))
                            .isEqualTo(fromTrainer.path("outputs"));
                    assertThat(late.get("/q/metrics")).contains("streamtrain_model_staleness_seconds{model=\"digits\"}");
                }
            }
            // the broker goes away: the replica keeps serving, and stays ready (no replica leaves its Service)
            broker.close();
            broker = null;
            await().during(Duration.ofSeconds(5)).atMost(Duration.ofSeconds(8)).pollInterval(Duration.ofMillis(250))
                    .until(() -> early.status("/q/health/ready") == 200);
            assertThat(JSON.readTree(early.post("/v2/models/digits/infer", probe, null)).path("model_version").asText())
                    .isNotEmpty();
        }
    }

    private static String features(DigitsDataset data, int row) {
        String json = data.toJson(row);
        return json.substring(json.indexOf('['), json.indexOf(']') + 1);
    }

    private static ServiceProcess start(String name, String mode) throws IOException {
        Map<String, String> properties = new HashMap<>();
        properties.put("streamtrain.mode", mode);
        properties.put("kafka.bootstrap.servers", broker.bootstrapServers());
        properties.put("mp.messaging.incoming.examples.topic", TOPIC);
        properties.put("mp.messaging.incoming.examples.dead-letter-queue.topic", "replica.dlq");
        properties.put("mp.messaging.outgoing.events.topic", EVENTS);
        properties.put("streamtrain.checkpoint.root", "file:" + work.resolve("checkpoints"));
        properties.put("streamtrain.checkpoint.every-steps", "20");
        properties.put("streamtrain.checkpoint.interval", "1h");
        properties.put("streamtrain.health.holdout.fraction", "0");
        // the replicas must learn of checkpoints through the events, not by looking in the store
        properties.put("streamtrain.serving.poll-interval", "1h");
        properties.put("streamtrain.admin.token", TOKEN);
        return ServiceProcess.start(name, properties, Map.of(), "/q/health/live");
    }

    private static JsonNode status(ServiceProcess trainer) throws Exception {
        return JSON.readTree(trainer.get("/v1/training/status"));
    }

    private static long version(ServiceProcess service) throws Exception {
        if (service.status("/v2/models/digits/ready") != 200) {
            return -1;
        }
        return Long.parseLong(JSON.readTree(service.get("/v2/models/digits")).path("versions").get(0).asText());
    }

    private static long awaitVersion(ServiceProcess service, Predicate<Long> wanted) {
        long[] seen = {-1};
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100)).until(() -> {
            seen[0] = version(service);
            return wanted.test(seen[0]);
        });
        return seen[0];
    }
}
