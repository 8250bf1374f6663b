package dev.streamtrain.ingest;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
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
 * Bad records mixed into a good stream: each lands, unchanged, in the dead-letter topic with its reason, every
 * good example is trained, every offset is committed, and the service stays ready.
 */
@QuarkusTest
@QuarkusTestResource(value = KafkaBrokerResource.class, restrictToAnnotatedClass = true)
class BadRecordsTest {

    @Inject
    TrainerService service;

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrapServers;

    @Test
    void badRecordsAreDeadLetteredWithTheirReasonAndTheRestTrains() {
        DigitsDataset data = DigitsDataset.load();
        String zeros63 = "0,".repeat(62) + "0";
        Map<String, String> badValues = new HashMap<>();
        badValues.put("malformed-json", "{\"features\": [1, 2");
        badValues.put("wrong-shape", "{\"features\": [" + zeros63 + "], \"label\": 1}");
        badValues.put("non-finite", "{\"features\": [NaN," + zeros63 + "], \"label\": 1}");
        badValues.put("bad-label", "{\"features\": [0," + zeros63 + "], \"label\": 12}");
        badValues.put("too-large", "{\"features\": [0," + zeros63 + "], \"label\": 1, \"pad\": \"" + "x".repeat(70_000) + "\"}");
        badValues.put("protobuf", data.toJson(0));
        Map<String, String> expectedReason = Map.of("malformed-json", "malformed", "wrong-shape", "wrong-shape",
                "non-finite", "non-finite", "bad-label", "bad-label", "too-large", "too-large", "protobuf", "malformed");

        int good = 0;
        long records = 0;
        try (Records kafka = new Records(bootstrapServers)) {
            List<String> badKeys = new ArrayList<>(badValues.keySet());
            for (int i = 0; i < 60; i++) {
                kafka.send(KafkaBrokerResource.EXAMPLES, "digit-" + i, data.toJson(i));
                good++;
                records++;
                if (i % 10 == 5) {
                    String key = badKeys.get(i / 10);
                    ProducerRecord<byte[], byte[]> bad = new ProducerRecord<>(KafkaBrokerResource.EXAMPLES,
                            Records.bytes(key), Records.bytes(badValues.get(key)));
                    if (key.equals("protobuf")) {
                        bad.headers().add("content-type", Records.bytes("application/x-protobuf"));
                    }
                    kafka.send(bad);
                    records++;
                }
            }
            kafka.send(KafkaBrokerResource.EXAMPLES, "batch", "{\"features\": [" + row(data, 1) + "," + row(data, 2)
                    + "], \"labels\": [" + data.labels()[1] + ", " + data.labels()[2] + "]}");
            records++;
            int trainedExpected = good + 2;
            await().atMost(Duration.ofSeconds(60)).until(() -> service.trainer().stats().examples() == trainedExpected);

            List<ConsumerRecord<byte[], byte[]>> dead = readDeadLetters(badValues.size());
            Map<String, String> reasons = new HashMap<>();
            dead.forEach(r -> reasons.put(new String(r.key(), StandardCharsets.UTF_8), header(r, "dead-letter-reason")));
            assertThat(reasons).isEqualTo(expectedReason);
            for (ConsumerRecord<byte[], byte[]> record : dead) {
                String key = new String(record.key(), StandardCharsets.UTF_8);
                assertThat(header(record, "dead-letter-cause")).as(key).isNotBlank();
                assertThat(header(record, "dead-letter-topic")).isEqualTo(KafkaBrokerResource.EXAMPLES);
                assertThat(header(record, "dead-letter-offset")).isNotBlank();
                assertThat(new String(record.value(), StandardCharsets.UTF_8)).as(key).isEqualTo(badValues.get(key));
            }
            long total = records;
            await().atMost(Duration.ofSeconds(30)).until(() -> kafka.committed("streamtrain", KafkaBrokerResource.EXAMPLES) == total);
        }
        given().get("/q/health/ready").then().statusCode(200).body("status", equalTo("UP"));
        String metrics = given().get("/q/metrics").then().extract().asString();
        assertThat(metrics)
                .contains("streamtrain_records_rejected_total{model=\"digits\",reason=\"malformed\"} 2.0")
                .contains("streamtrain_records_rejected_total{model=\"digits\",reason=\"too-large\"} 1.0")
                .contains("streamtrain_examples_trained_total{model=\"digits\"} " + (good + 2) + ".0");
    }

    private static String row(DigitsDataset data, int i) {
        StringBuilder s = new StringBuilder("[");
        for (float v : data.features()[i]) {
            s.append(s.length() == 1 ? "" : ",").append(v);
        }
        return s.append(']').toString();
    }

    private List<ConsumerRecord<byte[], byte[]>> readDeadLetters(int expected) {
        return Records.readUntil(bootstrapServers, KafkaBrokerResource.DLQ, records -> records.size() >= expected);
    }

    private static String header(ConsumerRecord<?, ?> record, String name) {
        Header header = record.headers().lastHeader(name);
        return header == null ? null : new String(header.value(), StandardCharsets.UTF_8);
    }
}
