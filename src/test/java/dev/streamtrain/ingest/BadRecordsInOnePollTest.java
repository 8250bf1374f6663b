package dev.streamtrain.ingest;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.equalTo;

import dev.streamtrain.demo.DigitsDataset;
import dev.streamtrain.support.KafkaBrokerResource;
import dev.streamtrain.support.Records;
import dev.streamtrain.training.TrainerService;

/**
 * Bad records in the middle of a backlog sent in one go, so that the consumer's polls hold many records each:
 * every bad record, and only it, goes to the dead-letter topic with its reason; the rest of its poll trains, and
 * the group's offset reaches the end once a checkpoint covers it.
 */
@QuarkusTest
@QuarkusTestResource(value = KafkaBrokerResource.class, restrictToAnnotatedClass = true)
class BadRecordsInOnePollTest {

    private static final int RECORDS = 600;
    private static final int BAD_EVERY = 25;

    @Inject
    TrainerService service;

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrapServers;

    @Test
    void aBadRecordIsDeadLetteredAloneAndTheRestOfItsPollTrains() {
        DigitsDataset data = DigitsDataset.load();
        String zeros63 = "0,".repeat(62) + "0";
        String[] badValues = {"{\"features\": [1, 2", "{\"features\": [NaN," + zeros63 + "], \"label\": 1}",
            "{\"features\": [0," + zeros63 + "], \"label\": 12}", "{\"features\": [" + zeros63 + "], \"label\": 1}"};
        String[] badReasons = {"malformed", "non-finite", "bad-label", "wrong-shape"};
        List<String[]> records = new ArrayList<>();
        Map<String, String> expectedReasons = new HashMap<>();
        int good = 0;
        for (int i = 0; i < RECORDS; i++) {
            if (i % BAD_EVERY == BAD_EVERY / 2) {
                int kind = (i / BAD_EVERY) % badValues.length;
                records.add(new String[] {"bad-" + i, badValues[kind]});
                expectedReasons.put("bad-" + i, badReasons[kind]);
            } else {
                records.add(new String[] {"digit-" + i, data.toJson(i % data.size())});
                good++;
            }
        }
        int trainedExpected = good;
        try (Records kafka = new Records(bootstrapServers)) {
            kafka.sendAll(KafkaBrokerResource.EXAMPLES, records);
            await().atMost(Duration.ofSeconds(90)).until(() -> service.trainer().stats().examples() == trainedExpected);

            List<ConsumerRecord<byte[], byte[]>> dead = Records.readUntil(bootstrapServers, KafkaBrokerResource.DLQ,
                    r -> r.size() >= expectedReasons.size());
            Map<String, String> reasons = new HashMap<>();
            for (ConsumerRecord<byte[], byte[]> record : dead) {
                String key = Records.text(record.key());
                assertThat(reasons.put(key, Records.text(record.headers().lastHeader("dead-letter-reason").value())))
                        .as("%s dead-lettered once", key).isNull();
                assertThat(Records.text(record.headers().lastHeader("dead-letter-cause").value())).as(key).isNotBlank();
            }
            assertThat(reasons).isEqualTo(expectedReasons);
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> kafka.committed("streamtrain", KafkaBrokerResource.EXAMPLES) == RECORDS);
        }
        assertThat(service.trainer().stats().examples()).isEqualTo(trainedExpected);
        assertThat(service.trainer().recordsByPartition()).containsEntry(KafkaBrokerResource.EXAMPLES + "-0",
                (long) trainedExpected);
        given().get("/q/health/ready").then().statusCode(200).body("status", equalTo("UP"));
    }
}
