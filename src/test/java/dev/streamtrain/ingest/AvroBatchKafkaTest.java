package dev.streamtrain.ingest;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.streamtrain.demo.DigitsDataset;
import dev.streamtrain.support.KafkaBrokerResource;
import dev.streamtrain.support.Records;
import dev.streamtrain.support.SchemaRegistryResource;
import dev.streamtrain.support.SchemaRegistryServer;
import dev.streamtrain.support.WireRecords;
import dev.streamtrain.training.TrainerService;

/**
 * Avro records that each carry a batch of digits (nested {@code features}, {@code labels}), in the schema registry's
 * wire format through the broker: every row of every good batch trains, and a batch with one bad row (a row one
 * value short, a label out of range), one with a label missing and one of a schema without numeric rows go whole to
 * the dead-letter topic with their own reasons, none of their rows trained.
 */
@QuarkusTest
@QuarkusTestResource(value = KafkaBrokerResource.class, restrictToAnnotatedClass = true)
@QuarkusTestResource(value = SchemaRegistryResource.class, restrictToAnnotatedClass = true)
class AvroBatchKafkaTest {

    private static final int BATCHES = 30;
    private static final int ROWS = 10;

    @Inject
    TrainerService service;

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrapServers;

    @ConfigProperty(name = "streamtrain.schema-registry.url")
    Optional<String> registry;

    @Test
    void everyRowOfAGoodBatchTrainsAndABatchWithABadRowIsDeadLetteredWhole() {
        String registryUrl = registry.orElseThrow();
        DigitsDataset data = DigitsDataset.load();
        int batchId = SchemaRegistryServer.register(registryUrl, "streamtrain.examples-value", "AVRO",
                WireRecords.AVRO_BATCH);
        int textId = SchemaRegistryServer.register(registryUrl, "text-batch-value", "AVRO", """
                {"type": "record", "name": "TextBatch", "fields": [
                  {"name": "features", "type": {"type": "array", "items": {"type": "array", "items": "string"}}},
                  {"name": "labels", "type": {"type": "array", "items": "int"}}]}""");
        Map<String, String> expectedReasons = new HashMap<>();
        try (Records kafka = new Records(bootstrapServers)) {
            for (int b = 0; b < BATCHES; b++) {
                float[][] x = new float[ROWS][];
                int[] y = new int[ROWS];
                for (int r = 0; r < ROWS; r++) {
                    int row = (b * ROWS + r) % data.size();
                    x[r] = data.features()[row];
                    y[r] = data.labels()[row];
                }
                kafka.send(avro("batch-" + b, WireRecords.avroBatch(batchId, "batch-" + b, x, y)));
                if (b == 7) {
                    float[][] ragged = x.clone();
                    ragged[3] = Arrays.copyOf(x[3], x[3].length - 1);
                    kafka.send(avro("one-row-short", WireRecords.avroBatch(batchId, "bad", ragged, y)));
                    expectedReasons.put("one-row-short", "wrong-shape");
                } else if (b == 14) {
                    kafka.send(avro("label-missing", WireRecords.avroBatch(batchId, "bad", x,
                            Arrays.copyOf(y, ROWS - 1))));
                    expectedReasons.put("label-missing", "wrong-shape");
                } else if (b == 21) {
                    int[] outOfRange = y.clone();
                    outOfRange[ROWS - 1] = 10;
                    kafka.send(avro("label-out-of-range", WireRecords.avroBatch(batchId, "bad", x, outOfRange)));
                    expectedReasons.put("label-out-of-range", "bad-label");
                } else if (b == 28) {
                    // a datum of the text schema (rows of strings): [["a"]], [0], after the wire format's header
                    kafka.send(avro("text-rows", new byte[] {0, 0, 0, (byte) (textId >> 8), (byte) textId,
                        2, 2, 2, 'a', 0, 0, 2, 0, 0}));
                    expectedReasons.put("text-rows", "schema-mismatch");
                }
            }
            await().atMost(Duration.ofSeconds(120)).until(() -> service.trainer().stats().examples() == BATCHES * ROWS);

            List<ConsumerRecord<byte[], byte[]>> dead = Records.readUntil(bootstrapServers, KafkaBrokerResource.DLQ,
                    r -> r.size() >= expectedReasons.size());
            Map<String, String> reasons = new HashMap<>();
            for (ConsumerRecord<byte[], byte[]> record : dead) {
                String key = Records.text(record.key());
                reasons.put(key, Records.text(record.headers().lastHeader("dead-letter-reason").value()));
                assertThat(Records.text(record.headers().lastHeader("dead-letter-cause").value())).as(key).isNotBlank();
            }
            assertThat(reasons).isEqualTo(expectedReasons);
        }
        assertThat(service.trainer().stats().examples()).as("the rows of the good batches, none of the bad ones")
                .isEqualTo(BATCHES * ROWS);
    }

    private static ProducerRecord<byte[], byte[]> avro(String key, byte[] value) {
        return new ProducerRecord<>(KafkaBrokerResource.EXAMPLES, Records.bytes(key), value);
    }
}
