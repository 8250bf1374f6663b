package dev.streamtrain.ingest;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.streamtrain.demo.DigitsDataset;
import dev.streamtrain.support.KafkaBrokerResource;
import dev.streamtrain.support.Records;
import dev.streamtrain.training.TrainerService;

/**
 * The group's offset was committed with a checkpoint the model does not hold (here: no checkpoint survives
 * at all): the partition is read from its beginning, so no record is lost to a commit that ran ahead.
 */
@QuarkusTest
@QuarkusTestResource(value = CommitsAheadOfTheModelTest.PreCommitted.class, restrictToAnnotatedClass = true)
class CommitsAheadOfTheModelTest {

    private static final int RECORDS = 200;

    @Inject
    TrainerService service;

    @Test
    void aCommitMadeWithANewerCheckpointIsNotTrusted() {
        await().atMost(Duration.ofSeconds(60)).until(() -> service.trainer().stats().examples() == RECORDS);
        assertThat(given().get("/v1/training/status").jsonPath().getList("events.type", String.class))
                .contains("checkpoint-offsets-ignored");
    }

    /** A broker whose examples topic holds records the group has, by its commit, already consumed. */
    public static class PreCommitted extends KafkaBrokerResource {

        @Override
        public Map<String, String> start() {
            Map<String, String> config = super.start();
            String bootstrap = config.get("kafka.bootstrap.servers");
            try (Records kafka = new Records(bootstrap);
                 Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
                kafka.sendAll(EXAMPLES, Records.digits(DigitsDataset.load(), 0, RECORDS));
                admin.alterConsumerGroupOffsets("streamtrain", Map.of(new TopicPartition(EXAMPLES, 0),
                        new OffsetAndMetadata(RECORDS, CommitMetadata.of(999)))).all().get(30, TimeUnit.SECONDS);
            } catch (Exception e) {
                throw new IllegalStateException("could not prepare the group's offsets", e);
            }
            return config;
        }
    }
}
