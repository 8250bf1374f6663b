package dev.streamtrain.cluster;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.streamtrain.checkpoint.CheckpointService;
import dev.streamtrain.checkpoint.Manifest;
import dev.streamtrain.demo.DigitsDataset;
import dev.streamtrain.support.KafkaBrokerResource;
import dev.streamtrain.support.Records;
import dev.streamtrain.training.TrainerService;

/**
 * The service with {@code streamtrain.cluster.enabled}, alone in its consumer group: the examples channel's rebalance
 * listener joins the group's generation, the trainer trains only then, rounds complete, and the checkpoints it
 * writes as the generation's writer hold every record of the topic once (two bad ones among them dead-lettered, not
 * stalling the partition); status and metrics report the member.
 */
@QuarkusTest
@QuarkusTestResource(value = GroupOfOneServiceTest.Clustered.class, restrictToAnnotatedClass = true)
class GroupOfOneServiceTest {

    private static final int RECORDS = 300;
    private static final int BAD = 2;

    @Inject
    TrainerService service;

    @Inject
    CheckpointService checkpoints;

    @Test
    void aGroupOfOneTrainsEveryRecordOnceIntoItsCheckpoints() {
        await().atMost(Duration.ofMinutes(2)).until(() -> checkpoints.lastDurable()
                .map(GroupOfOneServiceTest::records).orElse(0L) == RECORDS + BAD);
        assertThat(service.trainer().stats().examples()).isEqualTo(RECORDS);
        var status = given().get("/v1/training/status").then().statusCode(200).extract().jsonPath();
        assertThat(status.getInt("group.members")).isEqualTo(1);
        assertThat(status.getBoolean("group.writer")).isTrue();
        assertThat(status.getLong("group.rounds-complete")).isGreaterThan(0);
        String metrics = given().get("/q/metrics").then().statusCode(200).extract().asString();
        assertThat(metrics).contains("streamtrain_sync_rounds_total{model=\"digits\",outcome=\"complete\"}",
                "streamtrain_sync_members{model=\"digits\"} 1.0", "streamtrain_sync_round_seconds_count",
                "streamtrain_records_rejected_total{model=\"digits\",reason=\"malformed\"} 2.0");
    }

    private static long records(Manifest manifest) {
        return manifest.offsets().values().stream().mapToLong(Long::longValue).sum();
    }

    /** The broker with the examples sent, and the service set to train in a group. */
    public static class Clustered extends KafkaBrokerResource {

        @Override
        public Map<String, String> start() {
            Map<String, String> config = new HashMap<>(super.start());
            try (Records kafka = new Records(config.get("kafka.bootstrap.servers"))) {
                // two bad records mid-stream: dead-lettered, and the partition goes on past them
                DigitsDataset digits = DigitsDataset.load();
                kafka.sendAll(EXAMPLES, Records.digits(digits, 0, RECORDS / 2));
                for (int i = 0; i < BAD; i++) {
                    kafka.send(EXAMPLES, "bad-" + i, "{not json");
                }
                kafka.sendAll(EXAMPLES, Records.digits(digits, RECORDS / 2, RECORDS));
            }
            config.put("streamtrain.cluster.enabled", "true");
            config.put("streamtrain.cluster.rest-round", "300ms");
            config.put("mp.messaging.incoming.examples.session.timeout.ms", "6000");
            config.put("streamtrain.cluster.round-timeout", "20s");
            return config;
        }
    }
}
