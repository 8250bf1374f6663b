package dev.streamtrain.ingest;

import org.jboss.logging.Logger;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.Random;
import java.util.function.IntConsumer;

import dev.streamtrain.model.spec.ModelSpec;
import dev.streamtrain.model.spec.ModelSpecParser;
import dev.streamtrain.support.Measure;
import dev.streamtrain.support.Records;
import dev.streamtrain.support.SchemaRegistryServer;
import dev.streamtrain.support.WireRecords;
import dev.streamtrain.training.RecordHandle;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Decode throughput per encoding (JSON, {@code application/x-protobuf}, Avro and Protobuf in the schema registry's
 * wire format) on the same single-example records of 64 and 784 features: records decoded per second on one
 * thread, the encodings interleaved window by window, medians of the windows; JSON also through Jackson alone, as
 * every JSON record was read before {@link OneExampleJson}. The schema lookups are cached
 * after the warm-up, so the registry's HTTP is not in the figures.
 */
@Tag("benchmark")
class EncodingBenchmarkTest {

    private static final Logger LOG = Logger.getLogger(EncodingBenchmarkTest.class);
    private static final int RECORDS = 256;
    private static final int WINDOWS = 9;
    private static final long WINDOW_NANOS = 300_000_000L;
    private static final String[] NAMES = {"JSON", "x-protobuf", "Avro wire", "Protobuf wire", "JSON through Jackson"};

    @Test
    void binaryEncodingsDecodeFasterThanJson() throws IOException {
        LOG.info("| features | " + String.join(" rec/s | ", NAMES) + " rec/s | binary ÷ JSON (min) | JSON ÷ Jackson |");
        try (SchemaRegistryServer registry = new SchemaRegistryServer()) {
            for (int inputs : new int[] {64, 784}) {
                double[] medians = measure(registry, inputs);
                double slowestBinary = Math.min(medians[1], Math.min(medians[2], medians[3]));
                LOG.infof("| %d | %.0f | %.0f | %.0f | %.0f | %.0f | %.2f | %.2f |", inputs, medians[0], medians[1],
                        medians[2], medians[3], medians[4], slowestBinary / medians[0], medians[0] / medians[4]);
                assertThat(slowestBinary).as("every binary encoding decodes faster than JSON at %d features", inputs)
                        .isGreaterThan(medians[0]);
            }
        }
    }

    private static double[] measure(SchemaRegistryServer registry, int inputs) {
        ModelSpec spec = ModelSpecParser.parse("name: bench\ninputs: " + inputs
                + "\ntask: classification\noutputs: 10\nlayers: [{dense: {units: 4}}]\n");
        ExampleDecoder decoder = new ExampleDecoder(spec, 1 << 20, 64, ValueBounds.DEFAULTS,
                EncodingsTest.config(registry.url()));
        int avroId = SchemaRegistryServer.register(registry.url(), "bench-avro", "AVRO", WireRecords.AVRO_EXAMPLE);
        int protoId = SchemaRegistryServer.register(registry.url(), "bench-proto", "PROTOBUF", WireRecords.PROTO_EXAMPLE);
        Random random = new Random(7);
        byte[][][] records = new byte[4][RECORDS][];
        for (int r = 0; r < RECORDS; r++) {
            float[] x = new float[inputs];
            StringBuilder json = new StringBuilder("{\"features\": [");
            for (int j = 0; j < inputs; j++) {
                // pixel-like values with a few decimals, as the digits and MNIST-style sets carry them
                x[j] = Math.round(random.nextFloat() * 16 * 1000) / 1000f;
                json.append(j == 0 ? "" : ", ").append(x[j]);
            }
            int y = random.nextInt(10);
            records[0][r] = Records.bytes(json.append("], \"label\": ").append(y).append('}').toString());
            records[1][r] = WireRecords.trainBatch(x, y);
            records[2][r] = WireRecords.avro(avroId, "k" + r, x, y);
            records[3][r] = WireRecords.protobuf(protoId, "k" + r, x, y);
        }
        String[] types = {"application/json", "application/x-protobuf", null, null};
        IntConsumer[] decode = new IntConsumer[NAMES.length];
        for (int e = 0; e < 4; e++) {
            int encoding = e;
            decode[e] = i -> decoder.decode(records[encoding][i % RECORDS], types[encoding], HANDLE);
        }
        // the same JSON records through Jackson alone, as every JSON record was read before OneExampleJson
        decode[4] = i -> decoder.decodeWithJackson(records[0][i % RECORDS], HANDLE);
        double[][] rates = new double[NAMES.length][WINDOWS];
        for (int e = 0; e < NAMES.length; e++) {
            Measure.perSecond(decode[e], WINDOW_NANOS);
        }
        for (int w = 0; w < WINDOWS; w++) {
            for (int e = 0; e < NAMES.length; e++) {
                rates[e][w] = Measure.perSecond(decode[e], WINDOW_NANOS);
            }
        }
        double[] medians = new double[NAMES.length];
        for (int e = 0; e < NAMES.length; e++) {
            medians[e] = Measure.median(rates[e]);
        }
        return medians;
    }

    private static final RecordHandle HANDLE = new RecordHandle() {
        @Override
        public String partition() {
            return "bench-0";
        }

        @Override
        public long offset() {
            return 0;
        }

        @Override
        public void trained() {
        }
    };
}
