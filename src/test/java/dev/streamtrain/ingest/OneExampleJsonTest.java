package dev.streamtrain.ingest;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.math.BigDecimal;
import java.math.MathContext;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.stream.Stream;

import dev.streamtrain.model.spec.ModelSpec;
import dev.streamtrain.model.spec.ModelSpecParser;
import dev.streamtrain.support.TabularDataset;
import dev.streamtrain.support.TestRecord;
import dev.streamtrain.training.ExampleBlock;
import dev.streamtrain.training.RecordHandle;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The one-example reader against Jackson, the decoder it stands in for: on the fuzz corpus, on the real data sets
 * written several ways, on numbers at the edges and on many mutations of good records, the decoder with the reader
 * gives exactly what Jackson alone gives (the same floats to the bit, or the same refusal and reason), and the
 * reader takes on the plain records it is there for.
 */
class OneExampleJsonTest {

    private static final RecordHandle SOURCE = new TestRecord(3);
    private static final ModelSpec DIGITS = ModelSpecParser.load(null);

    @Test
    void theFuzzCorpusDecodesAsThroughJackson() throws IOException, URISyntaxException {
        ExampleDecoder decoder = new ExampleDecoder(DIGITS, 64 * 1024, 64);
        URL corpus = OneExampleJsonTest.class.getResource("ExampleDecoderFuzzTestInputs/decode");
        assertThat(corpus).as("the decoder's fuzz corpus").isNotNull();
        List<Path> files;
        try (Stream<Path> listing = Files.list(Path.of(corpus.toURI()))) {
            files = listing.sorted().toList();
        }
        int taken = 0;
        for (Path file : files) {
            byte[] value = Files.readAllBytes(file);
            assertSameOutcome(decoder, value, file.getFileName().toString());
            taken += OneExampleJson.read(value, DIGITS.inputs()) != null ? 1 : 0;
        }
        assertThat(files).hasSizeGreaterThan(100);
        // the corpus is mostly what fuzzing found: few of its records are plain single examples
        assertThat(taken).as("corpus records the reader takes on").isGreaterThanOrEqualTo(5);
    }

    @ParameterizedTest
    @ValueSource(strings = {"digits", "wine", "breast-cancer", "waveform", "rbf", "sea-drift"})
    void realDataSetsDecodeAsThroughJackson(String name) {
        TabularDataset data = TabularDataset.load(name);
        int inputs = data.features()[0].length;
        ModelSpec spec = ModelSpecParser.parse("name: " + name + "\ninputs: " + inputs
                + "\ntask: classification\noutputs: " + data.classes() + "\nlayers: [{dense: {units: 8}}]\n");
        ExampleDecoder decoder = new ExampleDecoder(spec, 1 << 20, 64);
        Random random = new Random(11);
        int rows = Math.min(data.size(), 3000);
        for (int row = 0; row < rows; row++) {
            float[] x = data.features()[row];
            for (Style style : Style.values()) {
                String json = style.record(x, data.labels()[row], random);
                byte[] value = json.getBytes(StandardCharsets.UTF_8);
                assertThat(OneExampleJson.read(value, inputs)).as("taken on: %s", json).isNotNull();
                ExampleBlock block = assertSameOutcome(decoder, value, json);
                if (style.exact) {
                    assertThat(block.features()).as(json).containsExactly(x);
                }
            }
        }
    }

    @Test
    void numbersAtTheEdgesDecodeAsThroughJackson() {
        ExampleDecoder decoder = new ExampleDecoder(ModelSpecParser.parse(
                "name: edges\ninputs: 1\ntask: regression\noutputs: 1\nlayers: [{dense: {units: 4}}]\n"), 4096, 4);
        String[] numbers = {"0", "-0", "0.0", "-0.0", "1", "-1", "16777216", "16777217", "16777219",
                "123456789012345678", "1234567890123456789", "99999999999999999999999", "0.1", "-0.1", "3.4028235e38",
                "3.4028236e38", "1e39", "-1e39", "1.4e-45", "1e-46", "7.006492e-46", "1.17549435E-38", "0.30000001192092896",
                "0.000000000001", "16777.216", "1677721.7", "0.16777217", "2.5e+3", "2.5E-3", "2.5e3", "1.00000000000",
                "00", "01", "-01", "1.", ".5", "-", "+1", "1e", "1e+", "--1", "1.5.5", "0x10", "NaN", "Infinity",
                "-Infinity", "1_000", "1e2.5", "\"1\"", "true", "null", "[1]"};
        Random random = new Random(5);
        List<String> all = new ArrayList<>(List.of(numbers));
        for (int i = 0; i < 20000; i++) {
            float f = Float.intBitsToFloat(random.nextInt());
            all.add(Float.toString(f));
            all.add(new BigDecimal(random.nextGaussian() * Math.pow(10, random.nextInt(12) - 6))
                    .round(new MathContext(1 + random.nextInt(12))).toPlainString());
        }
        for (String n : all) {
            for (String json : List.of("{\"features\":[" + n + "],\"label\":" + n + "}",
                    "{\"label\":0.5,\"weight\":" + n + ",\"features\":[" + n + "]}")) {
                assertSameOutcome(decoder, json.getBytes(StandardCharsets.UTF_8), json);
            }
        }
    }

    @Test
    void mutatedRecordsDecodeAsThroughJackson() {
        ExampleDecoder decoder = new ExampleDecoder(DIGITS, 64 * 1024, 8);
        TabularDataset digits = TabularDataset.load("digits");
        Random random = new Random(7);
        byte[] alphabet = "{}[]\":,.-+eE0123456789 \n\tfeatureslabelweightsx\\".getBytes(StandardCharsets.US_ASCII);
        int taken = 0;
        for (int i = 0; i < 30000; i++) {
            int row = random.nextInt(digits.size());
            byte[] value = Style.values()[i % Style.values().length].record(digits.features()[row],
                    digits.labels()[row], random).getBytes(StandardCharsets.UTF_8);
            for (int m = 1 + random.nextInt(3); m > 0; m--) {
                value = mutate(value, random, alphabet);
            }
            if (value.length == 0) {
                continue;
            }
            assertSameOutcome(decoder, value, new String(value, StandardCharsets.UTF_8));
            taken += OneExampleJson.read(value, DIGITS.inputs()) != null ? 1 : 0;
        }
        // the mutations that leave a record well-formed (a digit for a digit, a space added) are the reader's to take
        assertThat(taken).isGreaterThan(1000);
    }

    /** The record through the decoder and through Jackson alone: the same block, or the same refusal. */
    private static ExampleBlock assertSameOutcome(ExampleDecoder decoder, byte[] value, String what) {
        ExampleBlock block = null;
        ExampleBlock reference = null;
        RejectedRecordException refusal = null;
        RejectedRecordException referenceRefusal = null;
        try {
            block = decoder.decode(value, SOURCE);
        } catch (RejectedRecordException e) {
            refusal = e;
        }
        try {
            // a first byte 0 is the schema registry's wire format, not JSON: the same path either way
            reference = value.length > 0 && value[0] == 0 ? decoder.decode(value, SOURCE)
                    : decoder.decodeWithJackson(value, SOURCE);
        } catch (RejectedRecordException e) {
            referenceRefusal = e;
        }
        if (referenceRefusal != null) {
            assertThat(refusal).as("refused as through Jackson: %s", what).isNotNull();
            assertThat(refusal.reason()).as(what).isEqualTo(referenceRefusal.reason());
            assertThat(refusal.detail()).as(what).isEqualTo(referenceRefusal.detail());
            return null;
        }
        assertThat(refusal).as("decoded as through Jackson: %s", what).isNull();
        assertThat(block.count()).as(what).isEqualTo(reference.count());
        assertThat(bits(block.features())).as(what).containsExactly(bits(reference.features()));
        assertThat(bits(block.labels())).as(what).containsExactly(bits(reference.labels()));
        assertThat(block.weights() == null ? null : bits(block.weights())).as(what)
                .isEqualTo(reference.weights() == null ? null : bits(reference.weights()));
        return block;
    }

    private static int[] bits(float[] values) {
        int[] bits = new int[values.length];
        for (int i = 0; i < values.length; i++) {
            bits[i] = Float.floatToRawIntBits(values[i]);
        }
        return bits;
    }

    private static byte[] mutate(byte[] value, Random random, byte[] alphabet) {
        int at = value.length == 0 ? 0 : random.nextInt(value.length);
        byte insert = alphabet[random.nextInt(alphabet.length)];
        return switch (random.nextInt(3)) {
            case 0 -> splice(value, at, 1, new byte[0]);
            case 1 -> splice(value, at, 0, new byte[] {insert});
            default -> splice(value, at, 1, new byte[] {insert});
        };
    }

    private static byte[] splice(byte[] value, int at, int remove, byte[] insert) {
        int cut = Math.min(remove, value.length - at);
        byte[] out = new byte[value.length - cut + insert.length];
        System.arraycopy(value, 0, out, 0, at);
        System.arraycopy(insert, 0, out, at, insert.length);
        System.arraycopy(value, at + cut, out, at + insert.length, value.length - at - cut);
        return out;
    }

    /** Ways producers write one example. {@code exact}: the text is the float's own, so it must come back bit for bit. */
    private enum Style {
        SHORTEST(true), FOUR_DECIMALS(false), AS_DOUBLE(true), SPACED_WEIGHTED_LABEL_FIRST(true);

        private final boolean exact;

        Style(boolean exact) {
            this.exact = exact;
        }

        String record(float[] x, int label, Random random) {
            StringBuilder features = new StringBuilder("[");
            for (int j = 0; j < x.length; j++) {
                features.append(j == 0 ? "" : this == SPACED_WEIGHTED_LABEL_FIRST ? ", " : ",").append(switch (this) {
                    case SHORTEST, SPACED_WEIGHTED_LABEL_FIRST -> Float.toString(x[j]);
                    case FOUR_DECIMALS -> String.format(Locale.ROOT, "%.4f", x[j]);
                    case AS_DOUBLE -> Double.toString(x[j]);
                });
            }
            features.append(']');
            if (this == SPACED_WEIGHTED_LABEL_FIRST) {
                return "{ \"label\" : " + label + ",\n \"weight\": " + (random.nextInt(4) + 1) / 2.0
                        + ",\t\"features\": " + features + " }\n";
            }
            return "{\"features\":" + features + ",\"label\":" + label + "}";
        }
    }
}
