package dev.streamtrain.ingest;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

import dev.streamtrain.demo.DigitsDataset;
import dev.streamtrain.ingest.proto.TrainBatch;
import dev.streamtrain.model.spec.ModelSpec;
import dev.streamtrain.model.spec.ModelSpecParser;
import dev.streamtrain.support.Records;
import dev.streamtrain.support.SchemaRegistryServer;
import dev.streamtrain.support.WireRecords;
import dev.streamtrain.training.ExampleBlock;
import dev.streamtrain.training.RecordHandle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The same digits decode to the same blocks from JSON, {@code application/x-protobuf}, and the schema registry's
 * wire format in Avro and Protobuf, with the schemas fetched over HTTP from a registry and cached; an unknown schema
 * id, a schema without what the model needs, and bytes that are not protobuf are each refused with their own code.
 */
class EncodingsTest {

    private static final ModelSpec DIGITS = ModelSpecParser.load(null);
    private static final RecordHandle SOURCE = new RecordHandle() {
        @Override
        public String partition() {
            return "examples-0";
        }

        @Override
        public long offset() {
            return 0;
        }

        @Override
        public void trained() {
        }
    };
    private static final DigitsDataset DATA = DigitsDataset.load();

    private static SchemaRegistryServer registry;
    private static ExampleDecoder decoder;

    @BeforeAll
    static void startRegistry() throws IOException {
        registry = new SchemaRegistryServer();
        decoder = new ExampleDecoder(DIGITS, 512 * 1024, 64, ValueBounds.DEFAULTS, config(registry.url()));
    }

    @AfterAll
    static void stopRegistry() {
        registry.close();
    }

    static SchemaRegistryConfig config(String url) {
        return new SchemaRegistryConfig() {
            @Override
            public Optional<String> url() {
                return Optional.ofNullable(url);
            }

            @Override
            public Duration timeout() {
                return Duration.ofSeconds(5);
            }
        };
    }

    @Test
    void everyEncodingDecodesTheSameExamples() {
        int avroId = SchemaRegistryServer.register(registry.url(), "digits-avro-value", "AVRO", WireRecords.AVRO_EXAMPLE);
        int protoId = SchemaRegistryServer.register(registry.url(), "digits-proto-value", "PROTOBUF",
                WireRecords.PROTO_EXAMPLE);
        for (int row = 0; row < 40; row++) {
            float[] x = DATA.features()[row];
            int y = DATA.labels()[row];
            ExampleBlock json = decoder.decode(Records.bytes(DATA.toJson(row)), "application/json", SOURCE);
            ExampleBlock proto = decoder.decode(WireRecords.trainBatch(x, y), "application/x-protobuf", SOURCE);
            ExampleBlock avro = decoder.decode(WireRecords.avro(avroId, "k" + row, x, y), null, SOURCE);
            ExampleBlock wire = decoder.decode(WireRecords.protobuf(protoId, "k" + row, x, y), null, SOURCE);
            assertThat(json.count()).isEqualTo(1);
            assertThat(json.features()).containsExactly(x);
            for (ExampleBlock block : new ExampleBlock[] {proto, avro, wire}) {
                assertThat(block.count()).isEqualTo(1);
                assertThat(block.features()).as("row %d", row).containsExactly(json.features());
                assertThat(block.labels()).as("row %d (class %d)", row, y).containsExactly(json.labels());
                assertThat(block.weights()).isNull();
            }
        }
        // each schema was fetched once for the 40 records of its id
        assertThat(registry.lookups()).filteredOn(id -> id == avroId).hasSize(1);
        assertThat(registry.lookups()).filteredOn(id -> id == protoId).hasSize(1);
    }

    @Test
    void aBatchDecodesFromTrainBatchAndFromItsRegisteredProto() throws IOException {
        int id = SchemaRegistryServer.register(registry.url(), "digits-batch-value", "PROTOBUF",
                Files.readString(Path.of("src/main/proto/train_batch.proto")));
        float[][] x = {DATA.features()[0], DATA.features()[1], DATA.features()[2]};
        int[] y = {DATA.labels()[0], DATA.labels()[1], DATA.labels()[2]};
        ExampleBlock wire = decoder.decode(WireRecords.protobufBatch(id, x, y), null, SOURCE);
        TrainBatch.Builder batch = TrainBatch.newBuilder().setRows(3);
        for (int i = 0; i < 3; i++) {
            for (float v : x[i]) {
                batch.addFeatures(v);
            }
            batch.addLabels(y[i]).addWeights(i + 1);
        }
        ExampleBlock proto = decoder.decode(batch.build().toByteArray(), "application/x-protobuf", SOURCE);
        for (ExampleBlock block : new ExampleBlock[] {wire, proto}) {
            assertThat(block.count()).isEqualTo(3);
            for (int i = 0; i < 3; i++) {
                for (int j = 0; j < 64; j++) {
                    assertThat(block.features()[i * 64 + j]).isEqualTo(x[i][j]);
                }
                assertThat(block.labels()[i * 10 + y[i]]).isEqualTo(1f);
            }
        }
        assertThat(proto.weights()).containsExactly(1f, 2f, 3f);
    }

    @Test
    void anUnknownSchemaIdIsRefusedAndAskedForOnlyOncePerWhile() {
        byte[] record = WireRecords.avro(9999, "k", DATA.features()[0], 1);
        for (int i = 0; i < 5; i++) {
            assertThatThrownBy(() -> decoder.decode(record, null, SOURCE))
                    .isInstanceOfSatisfying(RejectedRecordException.class, e -> {
                        assertThat(e.reason()).isEqualTo(RejectReason.UNKNOWN_SCHEMA);
                        assertThat(e.detail()).contains("9999");
                    });
        }
        assertThat(registry.lookups()).filteredOn(id -> id == 9999).hasSize(1);
    }

    @Test
    void aSchemaWithoutNumericFeaturesOrALabelIsAMismatch() {
        int textFeatures = SchemaRegistryServer.register(registry.url(), "text-value", "AVRO", """
                {"type": "record", "name": "Text", "fields": [
                  {"name": "features", "type": {"type": "array", "items": "string"}},
                  {"name": "label", "type": "int"}]}""");
        int noLabel = SchemaRegistryServer.register(registry.url(), "nolabel-value", "PROTOBUF", """
                syntax = "proto3";
                message Unlabelled { repeated float features = 1; string comment = 2; }
                """);
        byte[] avro = framed(textFeatures, new byte[] {0});
        byte[] proto = framed(noLabel, new byte[] {0, 0x0a, 0});
        for (byte[] record : new byte[][] {avro, proto}) {
            assertThatThrownBy(() -> decoder.decode(record, null, SOURCE))
                    .isInstanceOfSatisfying(RejectedRecordException.class, e -> {
                        assertThat(e.reason()).isEqualTo(RejectReason.SCHEMA_MISMATCH);
                        assertThat(e.detail()).containsAnyOf("features", "label");
                    });
        }
    }

    @Test
    void bytesThatAreNotProtobufAreMalformed() {
        byte[] garbage = {(byte) 0xff, (byte) 0xff, (byte) 0xff, 0x01, 0x02};
        assertThatThrownBy(() -> decoder.decode(garbage, "application/x-protobuf", SOURCE))
                .isInstanceOfSatisfying(RejectedRecordException.class, e -> {
                    assertThat(e.reason()).isEqualTo(RejectReason.MALFORMED);
                    assertThat(e.detail()).contains("protobuf");
                });
        assertThatThrownBy(() -> decoder.decode(Records.bytes("{}"), "text/csv", SOURCE))
                .isInstanceOfSatisfying(RejectedRecordException.class,
                        e -> assertThat(e.detail()).contains("text/csv is not supported"));
    }

    @Test
    void withoutARegistryAWireFormatRecordIsAnUnknownSchema() {
        ExampleDecoder plain = new ExampleDecoder(DIGITS, 512 * 1024, 64, ValueBounds.DEFAULTS, config(null));
        assertThatThrownBy(() -> plain.decode(WireRecords.avro(1, "k", DATA.features()[0], 1), null, SOURCE))
                .isInstanceOfSatisfying(RejectedRecordException.class, e -> {
                    assertThat(e.reason()).isEqualTo(RejectReason.UNKNOWN_SCHEMA);
                    assertThat(e.detail()).contains("streamtrain.schema-registry.url");
                });
    }

    private static byte[] framed(int id, byte[] payload) {
        return ByteBuffer.allocate(5 + payload.length).put((byte) 0).putInt(id).put(payload).array();
    }
}
