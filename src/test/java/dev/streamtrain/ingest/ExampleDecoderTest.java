package dev.streamtrain.ingest;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import dev.streamtrain.model.spec.ModelSpec;
import dev.streamtrain.model.spec.ModelSpecParser;
import dev.streamtrain.training.ExampleBlock;
import dev.streamtrain.training.RecordHandle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Records in the contract's JSON formats decode into example blocks; every unusable record is refused with its code. */
class ExampleDecoderTest {

    private static final ModelSpec DIGITS = ModelSpecParser.load(null);
    private static final int MAX_BYTES = 64 * 1024;
    private static final int MAX_EXAMPLES = 4;
    private static final RecordHandle SOURCE = new TestHandle();

    private final ExampleDecoder decoder = new ExampleDecoder(DIGITS, MAX_BYTES, MAX_EXAMPLES);

    /** 64 features whose values identify the example: {@code example + j / 100}. */
    private static String features(int example, int count) {
        return IntStream.range(0, count).mapToObj(j -> Float.toString(example + j / 100f))
                .collect(Collectors.joining(", ", "[", "]"));
    }

    private static String features(int example) {
        return features(example, 64);
    }

    private static float[] expectedFeatures(int... examples) {
        float[] x = new float[examples.length * 64];
        for (int i = 0; i < examples.length; i++) {
            for (int j = 0; j < 64; j++) {
                x[i * 64 + j] = examples[i] + j / 100f;
            }
        }
        return x;
    }

    private static float[] oneHot(int width, int... classes) {
        float[] y = new float[classes.length * width];
        for (int i = 0; i < classes.length; i++) {
            y[i * width + classes[i]] = 1f;
        }
        return y;
    }

    private static String oneHotRow(int cls) {
        float[] y = oneHot(10, cls);
        return IntStream.range(0, 10).mapToObj(k -> y[k] == 0 ? "0" : "1").collect(Collectors.joining(",", "[", "]"));
    }

    private ExampleBlock decode(ExampleDecoder with, String json) {
        return with.decode(json.getBytes(StandardCharsets.UTF_8), SOURCE);
    }

    private ExampleBlock decode(String json) {
        return decode(decoder, json);
    }

    @Test
    void goodSingleExample() {
        ExampleBlock block = decode("{\"features\": " + features(1) + ", \"label\": 3}");

        assertThat(block.count()).isEqualTo(1);
        assertThat(block.features()).containsExactly(expectedFeatures(1));
        assertThat(block.labels()).containsExactly(oneHot(10, 3));
        assertThat(block.weights()).isNull();
        assertThat(block.weight(0)).isEqualTo(1f);
        assertThat(block.source()).isSameAs(SOURCE);
    }

    @Test
    void fieldOrderAndUnknownFieldsDoNotMatter() {
        ExampleBlock block = decode("{\"id\": {\"nested\": [1, 2]}, \"label\": 9, \"note\": \"x\", \"features\": "
                + features(2) + "}");

        assertThat(block.features()).containsExactly(expectedFeatures(2));
        assertThat(block.labels()).containsExactly(oneHot(10, 9));
    }

    @Test
    void singleExampleWithAOneHotLabelAndAWeight() {
        ExampleBlock block = decode("{\"features\": " + features(0) + ", \"label\": " + oneHotRow(7)
                + ", \"weight\": 2.5}");

        assertThat(block.labels()).containsExactly(oneHot(10, 7));
        assertThat(block.weights()).containsExactly(2.5f);
    }

    @Test
    void goodBatchWithClassIndices() {
        ExampleBlock block = decode("{\"features\": [" + features(1) + ", " + features(2) + ", " + features(3)
                + "], \"labels\": [3, 0, 9]}");

        assertThat(block.count()).isEqualTo(3);
        assertThat(block.features()).containsExactly(expectedFeatures(1, 2, 3));
        assertThat(block.labels()).containsExactly(oneHot(10, 3, 0, 9));
        assertThat(block.weights()).isNull();
    }

    @Test
    void goodBatchWithOneHotRowsAndWeights() {
        ExampleBlock block = decode("{\"features\": [" + features(4) + ", " + features(5)
                + "], \"labels\": [" + oneHotRow(1) + ", " + oneHotRow(8) + "], \"weights\": [0.5, 0]}");

        assertThat(block.count()).isEqualTo(2);
        assertThat(block.features()).containsExactly(expectedFeatures(4, 5));
        assertThat(block.labels()).containsExactly(oneHot(10, 1, 8));
        assertThat(block.weights()).containsExactly(0.5f, 0f);
        assertThat(block.weight(1)).isZero();
    }

    @Test
    void regressionLabelsAsANumberAndAsAnArray() {
        ModelSpec oneTarget = ModelSpecParser.parse(regressionSpec(1));
        ModelSpec twoTargets = ModelSpecParser.parse(regressionSpec(2));
        ExampleDecoder one = new ExampleDecoder(oneTarget, MAX_BYTES, MAX_EXAMPLES);
        ExampleDecoder two = new ExampleDecoder(twoTargets, MAX_BYTES, MAX_EXAMPLES);

        assertThat(decode(one, "{\"features\": [1, 2], \"label\": -3.25}").labels()).containsExactly(-3.25f);
        assertThat(decode(one, "{\"features\": [[1, 2], [3, 4]], \"labels\": [0.5, 1e3]}").labels())
                .containsExactly(0.5f, 1000f);
        assertThat(decode(two, "{\"features\": [1, 2], \"label\": [7.5, -1]}").labels()).containsExactly(7.5f, -1f);
        ExampleBlock batch = decode(two, "{\"features\": [[1, 2], [3, 4]], \"labels\": [[1, 2], [3, 4.5]]}");
        assertThat(batch.features()).containsExactly(1f, 2f, 3f, 4f);
        assertThat(batch.labels()).containsExactly(1f, 2f, 3f, 4.5f);
    }

    @Test
    void multiHotLabelsAreAcceptedForBinaryCrossEntropy() {
        ModelSpec multiLabel = ModelSpecParser.parse("name: tags\ninputs: 2\ntask: classification\noutputs: 3\n"
                + "loss: binary-cross-entropy\nlayers: [{dense: {units: 4}}]\n");
        ExampleDecoder tags = new ExampleDecoder(multiLabel, MAX_BYTES, MAX_EXAMPLES);

        assertThat(decode(tags, "{\"features\": [1, 2], \"label\": [1, 0, 1]}").labels()).containsExactly(1f, 0f, 1f);
    }

    @Test
    void aBatchAtTheExampleLimitIsAccepted() {
        String rows = IntStream.range(0, MAX_EXAMPLES).mapToObj(ExampleDecoderTest::features)
                .collect(Collectors.joining(", "));
        String labels = IntStream.range(0, MAX_EXAMPLES).mapToObj(Integer::toString).collect(Collectors.joining(", "));

        assertThat(decode("{\"features\": [" + rows + "], \"labels\": [" + labels + "]}").count()).isEqualTo(MAX_EXAMPLES);
    }

    static Stream<Arguments> rejected() {
        String f = features(0);
        String batchOfThree = "[" + f + ", " + f + ", " + f + "]";
        return Stream.of(
                // malformed
                Arguments.of("bad JSON", "{\"features\": [1, 2,", RejectReason.MALFORMED),
                Arguments.of("unquoted key", "{features: " + f + ", \"label\": 1}", RejectReason.MALFORMED),
                Arguments.of("two objects in one record", "{\"features\": " + f + ", \"label\": 1} {\"features\": "
                        + f + ", \"label\": 2}", RejectReason.MALFORMED),
                Arguments.of("trailing garbage", "{\"features\": " + f + ", \"label\": 1} ]", RejectReason.MALFORMED),
                Arguments.of("not an object", "[" + f + ", 3]", RejectReason.MALFORMED),
                Arguments.of("a bare number", "42", RejectReason.MALFORMED),
                Arguments.of("empty value", "", RejectReason.MALFORMED),
                Arguments.of("missing features", "{\"label\": 3}", RejectReason.MALFORMED),
                Arguments.of("missing label", "{\"features\": " + f + "}", RejectReason.MALFORMED),
                Arguments.of("batch with label instead of labels",
                        "{\"features\": " + batchOfThree + ", \"label\": [1, 2, 3]}", RejectReason.MALFORMED),
                Arguments.of("one example with labels", "{\"features\": " + f + ", \"labels\": [1]}",
                        RejectReason.MALFORMED),
                Arguments.of("string in features", "{\"features\": [1, \"2\", 3], \"label\": 1}", RejectReason.MALFORMED),
                Arguments.of("string in a batch row", "{\"features\": [[1, 2], [\"x\"]], \"labels\": [1, 2]}",
                        RejectReason.MALFORMED),
                Arguments.of("features an object", "{\"features\": {\"a\": 1}, \"label\": 1}", RejectReason.MALFORMED),
                Arguments.of("label a string", "{\"features\": " + f + ", \"label\": \"3\"}", RejectReason.MALFORMED),
                Arguments.of("negative weight", "{\"features\": " + f + ", \"label\": 3, \"weight\": -1}",
                        RejectReason.MALFORMED),
                // wrong-shape
                Arguments.of("an empty batch row", "{\"features\": [[]], \"labels\": [1]}", RejectReason.WRONG_SHAPE),
                Arguments.of("no features", "{\"features\": [], \"label\": 1}", RejectReason.WRONG_SHAPE),
                Arguments.of("63 features", "{\"features\": " + features(0, 63) + ", \"label\": 1}",
                        RejectReason.WRONG_SHAPE),
                Arguments.of("65 features", "{\"features\": " + features(0, 65) + ", \"label\": 1}",
                        RejectReason.WRONG_SHAPE),
                Arguments.of("a scalar feature", "{\"features\": 5, \"label\": 1}", RejectReason.WRONG_SHAPE),
                Arguments.of("batch row of wrong length",
                        "{\"features\": [" + f + ", " + features(1, 63) + "], \"labels\": [1, 2]}",
                        RejectReason.WRONG_SHAPE),
                Arguments.of("fewer labels than rows", "{\"features\": " + batchOfThree + ", \"labels\": [1, 2]}",
                        RejectReason.WRONG_SHAPE),
                Arguments.of("more labels than rows", "{\"features\": " + batchOfThree + ", \"labels\": [1, 2, 3, 4]}",
                        RejectReason.WRONG_SHAPE),
                Arguments.of("one-hot of wrong width", "{\"features\": " + f + ", \"label\": [0, 1, 0]}",
                        RejectReason.WRONG_SHAPE),
                Arguments.of("batch one-hot row of wrong width",
                        "{\"features\": [" + f + ", " + f + "], \"labels\": [" + oneHotRow(2) + ", [1, 0]]}",
                        RejectReason.WRONG_SHAPE),
                Arguments.of("weights count differs", "{\"features\": [" + f + ", " + f
                        + "], \"labels\": [1, 2], \"weights\": [1]}", RejectReason.WRONG_SHAPE),
                // non-finite
                Arguments.of("NaN literal", "{\"features\": [" + "1, ".repeat(63) + "NaN], \"label\": 1}",
                        RejectReason.NON_FINITE),
                Arguments.of("Infinity literal", "{\"features\": [-Infinity" + ", 1".repeat(63) + "], \"label\": 1}",
                        RejectReason.NON_FINITE),
                Arguments.of("1e400 overflow", "{\"features\": [1e400" + ", 1".repeat(63) + "], \"label\": 1}",
                        RejectReason.NON_FINITE),
                Arguments.of("float overflow 1e39", "{\"features\": [1e39" + ", 1".repeat(63) + "], \"label\": 1}",
                        RejectReason.NON_FINITE),
                Arguments.of("NaN in label", "{\"features\": " + f + ", \"label\": NaN}", RejectReason.NON_FINITE),
                Arguments.of("NaN in a one-hot label",
                        "{\"features\": " + f + ", \"label\": [NaN, 0, 0, 0, 0, 0, 0, 0, 0, 1]}", RejectReason.NON_FINITE),
                Arguments.of("NaN weight", "{\"features\": " + f + ", \"label\": 1, \"weight\": NaN}",
                        RejectReason.NON_FINITE),
                // bad-label
                Arguments.of("index 10 for 10 classes", "{\"features\": " + f + ", \"label\": 10}", RejectReason.BAD_LABEL),
                Arguments.of("fractional index", "{\"features\": " + f + ", \"label\": 2.5}", RejectReason.BAD_LABEL),
                Arguments.of("negative index", "{\"features\": " + f + ", \"label\": -1}", RejectReason.BAD_LABEL),
                Arguments.of("bad index in a batch", "{\"features\": [" + f + ", " + f + "], \"labels\": [1, 12]}",
                        RejectReason.BAD_LABEL),
                Arguments.of("one-hot summing to 2",
                        "{\"features\": " + f + ", \"label\": [0, 1, 1, 0, 0, 0, 0, 0, 0, 0]}", RejectReason.BAD_LABEL),
                Arguments.of("one-hot summing to 0",
                        "{\"features\": " + f + ", \"label\": [0, 0, 0, 0, 0, 0, 0, 0, 0, 0]}", RejectReason.BAD_LABEL),
                Arguments.of("one-hot value above 1",
                        "{\"features\": " + f + ", \"label\": [2, -1, 0, 0, 0, 0, 0, 0, 0, 0]}", RejectReason.BAD_LABEL),
                // too-large
                Arguments.of("rows over the example limit", "{\"features\": [" + f + ", " + f + ", " + f + ", " + f
                        + ", " + f + "], \"labels\": [1, 2, 3, 4, 5]}", RejectReason.TOO_LARGE));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("rejected")
    void unusableRecordIsRejectedWithItsCode(String description, String json, RejectReason reason) {
        assertThatThrownBy(() -> decode(json))
                .isInstanceOfSatisfying(RejectedRecordException.class, e -> {
                    assertThat(e.reason()).isEqualTo(reason);
                    assertThat(e.getMessage()).isEqualTo(reason.code());
                    // a short human sentence, not a code or a stack trace
                    assertThat(e.detail()).hasSizeGreaterThan(10).containsWhitespaces().doesNotContain("\n")
                            .doesNotStartWith(reason.code()).doesNotContain("Exception");
                });
    }

    @Test
    void aRecordOverTheByteLimitIsTooLargeBeforeItIsParsed() {
        ExampleDecoder small = new ExampleDecoder(DIGITS, 100, MAX_EXAMPLES);
        byte[] value = new byte[101];
        Arrays.fill(value, (byte) '{');

        assertThatThrownBy(() -> small.decode(value, SOURCE))
                .isInstanceOfSatisfying(RejectedRecordException.class, e -> {
                    assertThat(e.reason()).isEqualTo(RejectReason.TOO_LARGE);
                    assertThat(e.getMessage()).isEqualTo("too-large");
                    assertThat(e.detail()).isEqualTo("the record has 101 bytes; the limit is 100");
                });
    }

    @Test
    void nullValueIsMalformed() {
        assertThatThrownBy(() -> decoder.decode(null, SOURCE))
                .isInstanceOfSatisfying(RejectedRecordException.class,
                        e -> assertThat(e.reason()).isEqualTo(RejectReason.MALFORMED));
    }

    @Test
    void detailsNameTheProblemInWords() {
        assertThat(detailOf("{\"features\": " + features(0, 63) + ", \"label\": 1}"))
                .isEqualTo("\"features\" has 63 values; the model takes 64");
        assertThat(detailOf("{\"features\": " + features(0) + ", \"label\": 10}"))
                .isEqualTo("label 0 is 10.0; a class index must be an integer from 0 to 9");
        assertThat(detailOf("{\"features\": [[1], [2]], \"label\": [1, 2]}"))
                .isEqualTo("a batch (nested \"features\") needs \"labels\", one per row");
        assertThat(detailOf("{\"label\": 3}")).isEqualTo("the record has no \"features\"");
        assertThat(detailOf("{\"features\": [" + features(0) + ", " + features(1) + "], \"labels\": [1]}"))
                .isEqualTo("there are 2 examples but 1 labels");
        assertThat(detailOf("{\"features\": [" + "1, ".repeat(63) + "NaN], \"label\": 1}"))
                .isEqualTo("feature 63 of example 0 is NaN");
        assertThat(detailOf("{\"features\": [1, 2,")).startsWith("not valid JSON: ");
    }

    @Test
    void valuesBeyondTheDefaultBoundsAreOutOfRangeWithTheBoundNamed() {
        String absurd = "{\"features\": [" + "1e30, ".repeat(63) + "1e30], \"label\": 1}";
        assertThat(rejection(decoder, absurd)).isEqualTo(RejectReason.OUT_OF_RANGE);
        assertThat(detailOf(absurd)).isEqualTo("feature 0 of example 0 is 1.0E30; the bound is |feature| <= 1.0E14"
                + " (streamtrain.ingest.range.max-abs-feature)");
        // the second row of a batch, negative: the whole record is refused
        String batch = "{\"features\": [" + features(0) + ", [" + "0, ".repeat(10) + "-2e14" + ", 0".repeat(53)
                + "]], \"labels\": [1, 2]}";
        assertThat(detailOf(batch)).startsWith("feature 10 of example 1 is -2.00000001E14; the bound is |feature| <= 1.0E14");

        String heavy = "{\"features\": " + features(0) + ", \"label\": 1, \"weight\": 1e30}";
        assertThat(rejection(decoder, heavy)).isEqualTo(RejectReason.OUT_OF_RANGE);
        assertThat(detailOf(heavy)).isEqualTo("weight 0 is 1.0E30; the bound is weight <= 1000000.0"
                + " (streamtrain.ingest.range.max-weight)");

        ExampleDecoder regression = new ExampleDecoder(ModelSpecParser.parse(regressionSpec(2)), MAX_BYTES,
                MAX_EXAMPLES);
        String target = "{\"features\": [1, 2], \"label\": [7.5, -3e20]}";
        assertThatThrownBy(() -> regression.decode(target.getBytes(StandardCharsets.UTF_8), SOURCE))
                .isInstanceOfSatisfying(RejectedRecordException.class, e -> {
                    assertThat(e.reason()).isEqualTo(RejectReason.OUT_OF_RANGE);
                    assertThat(e.getMessage()).isEqualTo("out-of-range");
                    assertThat(e.detail()).isEqualTo("label 0 holds -3.0E20; the bound is |label| <= 1.0E14"
                            + " (streamtrain.ingest.range.max-abs-label)");
                });
        ExampleDecoder oneTarget = new ExampleDecoder(ModelSpecParser.parse(regressionSpec(1)), MAX_BYTES,
                MAX_EXAMPLES);
        assertThat(rejection(oneTarget, "{\"features\": [1, 2], \"label\": 2e14}"))
                .isEqualTo(RejectReason.OUT_OF_RANGE);
    }

    @Test
    void valuesAtTheBoundsAreAccepted() {
        String edge = "{\"features\": [" + "1e14, ".repeat(32) + "-1e14, ".repeat(31) + "-1e14], \"label\": 9,"
                + " \"weight\": 1e6}";
        ExampleBlock block = decode(edge);
        assertThat(block.features()[0]).isEqualTo(1e14f);
        assertThat(block.weight(0)).isEqualTo(1e6f);
        ExampleDecoder regression = new ExampleDecoder(ModelSpecParser.parse(regressionSpec(1)), MAX_BYTES,
                MAX_EXAMPLES);
        assertThat(decode(regression, "{\"features\": [3.5e13, -1e14], \"label\": -1e14}").labels())
                .containsExactly(-1e14f);
    }

    @Test
    void boundsAreConfigurableAndCanBeSwitchedOff() {
        ExampleDecoder tight = new ExampleDecoder(DIGITS, MAX_BYTES, MAX_EXAMPLES, new ValueBounds(100, 100, 2));
        assertThat(rejection(tight, "{\"features\": [" + "0, ".repeat(63) + "101], \"label\": 1}"))
                .isEqualTo(RejectReason.OUT_OF_RANGE);
        assertThat(rejection(tight, "{\"features\": " + features(0) + ", \"label\": 1, \"weight\": 2.5}"))
                .isEqualTo(RejectReason.OUT_OF_RANGE);
        assertThat(decode(tight, "{\"features\": " + features(99) + ", \"label\": 1, \"weight\": 2}").count())
                .isEqualTo(1);

        ExampleDecoder off = new ExampleDecoder(DIGITS, MAX_BYTES, MAX_EXAMPLES, ValueBounds.NONE);
        ExampleBlock absurd = decode(off, "{\"features\": [" + "3e38, ".repeat(63) + "-3e38], \"label\": 1,"
                + " \"weight\": 1e30}");
        assertThat(absurd.features()[63]).isEqualTo(-3e38f);
        assertThat(absurd.weight(0)).isEqualTo(1e30f);
        // finite is still required
        assertThat(rejection(off, "{\"features\": [" + "1, ".repeat(63) + "Infinity], \"label\": 1}"))
                .isEqualTo(RejectReason.NON_FINITE);

        assertThatThrownBy(() -> new ValueBounds(0, 1, 1)).hasMessageContaining("max-abs-feature must be > 0");
        assertThatThrownBy(() -> new ValueBounds(1, 1, Double.NaN)).hasMessageContaining("max-weight must be > 0");
    }

    private static RejectReason rejection(ExampleDecoder decoder, String json) {
        try {
            decoder.decode(json.getBytes(StandardCharsets.UTF_8), SOURCE);
        } catch (RejectedRecordException e) {
            return e.reason();
        }
        throw new AssertionError("accepted: " + json);
    }

    private String detailOf(String json) {
        try {
            decode(json);
        } catch (RejectedRecordException e) {
            return e.detail();
        }
        throw new AssertionError("accepted: " + json);
    }

    private static String regressionSpec(int outputs) {
        return "name: reg\ninputs: 2\ntask: regression\noutputs: " + outputs + "\nlayers: [{dense: {units: 4}}]\n";
    }

    private static final class TestHandle implements RecordHandle {
        @Override
        public String partition() {
            return "examples-0";
        }

        @Override
        public long offset() {
            return 17;
        }

        @Override
        public void trained() {
        }
    }
}
