package dev.streamtrain.ingest;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;

import java.time.Duration;
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
 * Digits sent to the broker in all four encodings, mixed in one backlog (JSON, {@code application/x-protobuf}, Avro
 * and Protobuf in the schema registry's wire format, the schemas registered over HTTP as producers do), train the
 * model; a record of a schema without numeric features, one of an id the registry does not know and one that is not
 * protobuf go to the dead-letter topic with their own reasons, and the rest of their polls trains.
 */
@QuarkusTest
@QuarkusTestResource(value = KafkaBrokerResource.class, restrictToAnnotatedClass = true)
@QuarkusTestResource(value = SchemaRegistryResource.class, restrictToAnnotatedClass = true)
class EncodingsKafkaTest {

    private static final int GOOD = 400;

    @Inject
    TrainerService service;

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrapServers;

    // optional: the other Quarkus tests, which start no registry, validate this injection point too
    @ConfigProperty(name = "streamtrain.schema-registry.url")
    Optional<String> registry;

    @Test
    void everyEncodingTrainsAndBadSchemasAreDeadLetteredWithTheirReasons() {
        String registryUrl = registry.orElseThrow();
        DigitsDataset data = DigitsDataset.load();
        int avroId = SchemaRegistryServer.register(registryUrl, "streamtrain.examples-value", "AVRO",
                WireRecords.AVRO_EXAMPLE);
        int protoId = SchemaRegistryServer.register(registryUrl, "streamtrain.examples-proto-value", "PROTOBUF",
                WireRecords.PROTO_EXAMPLE);
        int textId = SchemaRegistryServer.register(registryUrl, "text-value", "AVRO", """
                {"type": "record", "name": "Text", "fields": [
                  {"name": "features", "type": {"type": "array", "items": "string"}},
                  {"name": "label", "type": "int"}]}""");
        Map<String, String> expectedReasons = new HashMap<>();
        Map<String, Integer> sentByEncoding = new HashMap<>();
        try (Records kafka = new Records(bootstrapServers)) {
            for (int i = 0; i < GOOD; i++) {
                int row = i % data.size();
                float[] x = data.features()[row];
                int y = data.labels()[row];
                String key = "digit-" + i;
                ProducerRecord<byte[], byte[]> record = switch (i % 4) {
                    case 0 -> json(key, data.toJson(row));
                    case 1 -> typed(key, WireRecords.trainBatch(x, y), "application/x-protobuf");
                    case 2 -> new ProducerRecord<>(KafkaBrokerResource.EXAMPLES, Records.bytes(key),
                            WireRecords.avro(avroId, key, x, y));
                    default -> new ProducerRecord<>(KafkaBrokerResource.EXAMPLES, Records.bytes(key),
                            WireRecords.protobuf(protoId, key, x, y));
                };
                sentByEncoding.merge(String.valueOf(i % 4), 1, Integer::sum);
                kafka.send(record);
                if (i == 101) {
                    kafka.send(new ProducerRecord<>(KafkaBrokerResource.EXAMPLES, Records.bytes("text-schema"),
                            WireRecords.avro(textId, "t", x, y)));
                    expectedReasons.put("text-schema", "schema-mismatch");
                } else if (i == 202) {
                    kafka.send(new ProducerRecord<>(KafkaBrokerResource.EXAMPLES, Records.bytes("unknown-id"),
                            WireRecords.avro(4242, "u", x, y)));
                    expectedReasons.put("unknown-id", "unknown-schema");
                } else if (i == 303) {
                    kafka.send(typed("not-protobuf", new byte[] {(byte) 0xff, (byte) 0xff, 0x7f},
                            "application/x-protobuf"));
                    expectedReasons.put("not-protobuf", "malformed");
                }
            }
            assertThat(sentByEncoding.values()).containsOnly(GOOD / 4);
            await().atMost(Duration.ofSeconds(120)).until(() -> service.trainer().stats().examples() == GOOD);

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
        assertThat(service.trainer().stats().examples()).isEqualTo(GOOD);
    }

    private static ProducerRecord<byte[], byte[]> json(String key, String value) {
        return typed(key, Records.bytes(value), "application/json");
    }

    private static ProducerRecord<byte[], byte[]> typed(String key, byte[] value, String contentType) {
        ProducerRecord<byte[], byte[]> record = new ProducerRecord<>(KafkaBrokerResource.EXAMPLES, Records.bytes(key),
                value);
        record.headers().add("content-type", Records.bytes(contentType));
        return record;
    }
}
