package dev.streamtrain.model;

import org.jboss.logging.Logger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Random;

import dev.streamtrain.model.explain.Baseline;
import dev.streamtrain.model.explain.Explanation;
import dev.streamtrain.model.explain.InvalidExplanationException;
import dev.streamtrain.model.spec.ModelSpec;
import dev.streamtrain.model.spec.ModelSpecParser;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/**
 * Integrated gradients on trained networks: completeness (the attributions add up to f(x) - f(baseline)) within
 * 1 % with enough steps and clearly not with two, for every kind of layer a spec can have; nothing is attributed
 * to a feature that does not differ from the baseline, and next to nothing to one the target does not depend on.
 */
class IntegratedGradientsTest {

    private static final Logger LOG = Logger.getLogger(IntegratedGradientsTest.class);
    private static final int ROWS = 8;

    @ParameterizedTest(name = "{0} with {1} steps")
    @CsvSource(delimiter = '|', value = {
        "[{dense: {units: 128, activation: relu}}] | 256",
        "[{dense: {units: 128, activation: relu}}, {batch-norm: {}}, {dropout: {rate: 0.3}}, {dense: {units: 64, activation: relu}}] | 256",
        // layer normalisation is steep near the mean input (it divides by a small spread): more steps
        "[{dense: {units: 64, activation: relu}}, {residual: {units: 64, activation: relu, norm: layer, depth: 2}}] | 1024",
    })
    void theAttributionsAddUpToTheChangeOfTheOutputWithEnoughSteps(String layers, int steps) {
        ModelSnapshot snapshot = DigitsNetworks.trained(DigitsNetworks.spec(layers), 3).snapshot(1);
        float[] x = DigitsNetworks.rows(1000, ROWS);
        float[] p = snapshot.predict(x, ROWS);
        Explanation enough = snapshot.explain(x, ROWS, null, null, steps);
        Explanation two = snapshot.explain(x, ROWS, null, null, 2);
        LOG.infof("%s: worst completeness gap / |f(x) - f(baseline)| %.2e with %d steps, %.2e with 2", layers,
                worstRelativeGap(enough), steps, worstRelativeGap(two));
        assertThat(worstRelativeGap(enough)).isLessThanOrEqualTo(0.01);
        assertThat(worstRelativeGap(two)).isGreaterThan(0.1);
        for (int row = 0; row < ROWS; row++) {
            Explanation.Row r = enough.rows().get(row);
            assertThat(r.target()).isEqualTo(argmax(p, row, 10));
            assertThat(r.output()).isCloseTo(p[row * 10 + r.target()], within(1e-5));
            assertThat(r.attributions()).hasSize(64);
        }
        assertThat(enough.baseline().kind()).isEqualTo(Baseline.Kind.MEAN);
    }

    /**
     * Explanations run on the plain-Java pass now: the attributions, outputs and gaps are those the DL4J graph copy
     * (what explained every snapshot before) gives for the same parameters, within float rounding, and the snapshot
     * never builds a graph.
     */
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "[{dense: {units: 128, activation: relu}}]",
        "[{dense: {units: 64, activation: tanh}}, {dropout: {rate: 0.2}}, {residual: {units: 64, activation: gelu, norm: layer, depth: 2}}]",
    })
    void theAttributionsAreThoseOfTheGraph(String layers) {
        ModelSnapshot plain = DigitsNetworks.trained(DigitsNetworks.spec(layers), 1).snapshot(1);
        GraphSnapshot graph = FactorySnapshots.onGraph(plain);
        float[] x = DigitsNetworks.rows(500, ROWS);
        Explanation expected = graph.explain(x, ROWS, null, null, 64);
        Explanation actual = plain.explain(x, ROWS, null, null, 64);
        double worst = 0;
        for (int row = 0; row < ROWS; row++) {
            Explanation.Row e = expected.rows().get(row);
            Explanation.Row a = actual.rows().get(row);
            assertThat(a.target()).isEqualTo(e.target());
            assertThat(a.output()).isCloseTo(e.output(), within(1e-5));
            assertThat(a.baselineOutput()).isCloseTo(e.baselineOutput(), within(1e-5));
            float largest = 0;
            for (float v : e.attributions()) {
                largest = Math.max(largest, Math.abs(v));
            }
            for (int j = 0; j < 64; j++) {
                double difference = Math.abs(a.attributions()[j] - e.attributions()[j]) / largest;
                worst = Math.max(worst, difference);
                assertThat(difference).as("row %d, feature %d", row, j).isLessThanOrEqualTo(1e-4);
            }
            assertThat(a.completenessGap()).isCloseTo(e.completenessGap(),
                    within(1e-4 * Math.abs(e.output() - e.baselineOutput())));
        }
        LOG.infof("%s: plain vs graph attributions, worst difference / largest attribution of the row %.1e", layers,
                worst);
    }

    @Test
    void pixelsThatAreAlwaysBlankGetNoAttribution() {
        ModelSnapshot snapshot = DigitsNetworks.trained(DigitsNetworks.spec("[{dense: {units: 128, activation: relu}}]"), 3)
                .snapshot(1);
        boolean[] blank = new boolean[64];
        java.util.Arrays.fill(blank, true);
        for (float[] row : DigitsNetworks.DATA.features()) {
            for (int j = 0; j < 64; j++) {
                blank[j] &= row[j] == 0f;
            }
        }
        float[] x = DigitsNetworks.rows(0, ROWS);
        Explanation e = snapshot.explain(x, ROWS, null, null, 256);
        int blanks = 0;
        for (int j = 0; j < 64; j++) {
            blanks += blank[j] ? 1 : 0;
        }
        assertThat(blanks).isGreaterThanOrEqualTo(3);
        for (Explanation.Row r : e.rows()) {
            double sum = 0;
            for (int j = 0; j < 64; j++) {
                sum += r.attributions()[j];
                if (blank[j]) {
                    assertThat(Math.abs(r.attributions()[j])).isLessThanOrEqualTo(1e-6f);
                }
            }
            assertThat(sum).isCloseTo(r.output() - r.baselineOutput(), within(0.01 * Math.abs(r.output() - r.baselineOutput())));
        }
    }

    @Test
    void aFeatureTheTargetDoesNotDependOnGetsNextToNothing() {
        ModelSpec spec = ModelSpecParser.parse("name: synthetic\ninputs: 4\ntask: regression\noutputs: 1\nloss: mse\n"
                + "normalize: true\nseed: 3\nbatch-size: 32\noptimizer: {type: adam, learning-rate: 0.003}\n"
                + "layers: [{dense: {units: 32, activation: tanh}}, {dense: {units: 32, activation: tanh}}]\n");
        Network network = new Network(spec);
        Random random = new Random(1);
        for (int step = 0; step < 2000; step++) {
            network.trainStep(syntheticBatch(spec, random));
        }
        ModelSnapshot snapshot = network.snapshot(2000);
        float[] x = syntheticRows(ROWS, new Random(2));
        Explanation e = snapshot.explain(x, ROWS, null, null, 256);
        double[] mean = new double[4];
        System.arraycopy(toDouble(e.baseline().values()), 0, mean, 0, 4);
        for (int row = 0; row < ROWS; row++) {
            Explanation.Row r = e.rows().get(row);
            float[] a = r.attributions();
            double change = Math.abs(r.output() - r.baselineOutput());
            double total = Math.abs(a[0]) + Math.abs(a[1]) + Math.abs(a[2]) + Math.abs(a[3]);
            LOG.infof("synthetic row %d: attributions %s, f(x) - f(baseline) %.3f, gap %.1e, 2 dx0 %.3f, -dx1 %.3f", row,
                    java.util.Arrays.toString(a), r.output() - r.baselineOutput(), r.completenessGap(),
                    2 * (x[row * 4] - mean[0]), -(x[row * 4 + 1] - mean[1]));
            assertThat(r.target()).isZero();
            assertThat(r.completenessGap()).isLessThanOrEqualTo(0.01 * change);
            // feature 3 was 3.0 in every example and is here too: it is where the baseline is
            assertThat(Math.abs(a[3])).isLessThanOrEqualTo(1e-6f);
            // feature 2 varied in training, but y never depended on it
            assertThat((double) Math.abs(a[2])).isLessThanOrEqualTo(0.05 * total);
            // y = 2 x0 - x1: what a linear model's attributions would be
            assertThat((double) a[0]).isCloseTo(2 * (x[row * 4] - mean[0]), within(0.05 * total));
            assertThat((double) a[1]).isCloseTo(-(x[row * 4 + 1] - mean[1]), within(0.05 * total));
        }
    }

    @Test
    void targetsAndBaselinesCanBeChosen() {
        ModelSpec spec = TestNetworks.spec("[{dense: {units: 16, activation: relu}}]", null, null, null, true);
        Network network = new Network(spec);
        for (int i = 0; i < 20; i++) {
            network.trainStep(TestNetworks.randomBatch(spec, i));
        }
        ModelSnapshot snapshot = network.snapshot(20);
        float[] x = TestNetworks.randomBatch(spec, 100).featureRows();
        int rows = TestNetworks.BATCH;
        float[] p = snapshot.predict(x, rows);

        Explanation forAll = snapshot.explain(x, rows, new int[] {2}, Baseline.zeros(), 64);
        assertThat(forAll.rows()).extracting(Explanation.Row::target).containsOnly(2);
        assertThat(forAll.baseline().kind()).isEqualTo(Baseline.Kind.ZEROS);
        assertThat(forAll.baseline().values()).containsOnly(0f).hasSize(TestNetworks.INPUTS);
        assertThat(forAll.steps()).isEqualTo(64);
        int[] perRow = {0, 1, 2, 0, 1, 2, 0, 1};
        Explanation each = snapshot.explain(x, rows, perRow, Baseline.of(new float[] {1, 1, 1, 1, 1, 1}), 64);
        for (int row = 0; row < rows; row++) {
            Explanation.Row r = each.rows().get(row);
            assertThat(r.target()).isEqualTo(perRow[row]);
            assertThat(r.output()).isCloseTo(p[row * 3 + perRow[row]], within(1e-5));
            assertThat(r.baselineOutput()).isCloseTo(snapshot.predict(new float[] {1, 1, 1, 1, 1, 1}, 1)[perRow[row]],
                    within(1e-5));
        }
        assertThat(each.baseline().kind()).isEqualTo(Baseline.Kind.CUSTOM);
        // the mean baseline is the normaliser's running mean, in raw feature units
        float[] mean = snapshot.explain(x, rows, null, null, 1).baseline().values();
        assertThat(mean).hasSize(TestNetworks.INPUTS);
        for (float m : mean) {
            // the features are 3 N(0, 1) + 1
            assertThat(m).isBetween(0f, 2f);
        }
    }

    @Test
    void withoutNormalisationTheDefaultBaselineIsZerosAndTheMeanIsRefused() {
        ModelSpec spec = TestNetworks.spec("[{dense: {units: 16, activation: relu}}]", null, null, null, false);
        Network network = new Network(spec);
        network.trainStep(TestNetworks.randomBatch(spec, 1));
        ModelSnapshot snapshot = network.snapshot(1);
        float[] x = TestNetworks.randomBatch(spec, 2).featureRows();
        Explanation e = snapshot.explain(x, TestNetworks.BATCH, null, null, 16);
        assertThat(e.baseline().kind()).isEqualTo(Baseline.Kind.ZEROS);
        assertThat(e.baseline().values()).containsOnly(0f);
        assertThatThrownBy(() -> snapshot.explain(x, TestNetworks.BATCH, null, Baseline.mean(), 16))
                .isInstanceOf(InvalidExplanationException.class).hasMessageContaining("'baseline' is 'mean'")
                .hasMessageContaining("normalize: false");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "3 | -1 | 64 | parameter 'target' is 3; model 'test-net' has 3 outputs: use 0 to 2",
        "-1 | -1 | 64 | parameter 'target' is -1",
        "0 | 5 | 64 | parameter 'baseline' has 5 numbers; the model takes 6 features",
        "0 | -1 | 0 | parameter 'steps' is 0; allowed: 1 to 1024",
        "0 | -1 | 1025 | parameter 'steps' is 1025",
    })
    void wrongArgumentsAreRefusedNamingTheParameter(int target, int baselineLength, int steps, String message) {
        ModelSpec spec = TestNetworks.spec("[{dense: {units: 4}}]", null, null, null, true);
        ModelSnapshot snapshot = new Network(spec).snapshot(0);
        float[] x = new float[TestNetworks.INPUTS];
        Baseline baseline = baselineLength < 0 ? null : Baseline.of(new float[baselineLength]);
        assertThatThrownBy(() -> snapshot.explain(x, 1, new int[] {target}, baseline, steps))
                .isInstanceOf(InvalidExplanationException.class).hasMessageContaining(message);
        assertThatThrownBy(() -> snapshot.explain(new float[2 * TestNetworks.INPUTS], 2, new int[] {0, 1, 2}, null, 8))
                .isInstanceOf(InvalidExplanationException.class).hasMessageContaining("one per row (2)");
    }

    @Test
    void aRegressionWithSeveralOutputsNeedsATarget() {
        ModelSpec spec = ModelSpecParser.parse("name: reg\ninputs: 3\ntask: regression\noutputs: 2\n"
                + "layers: [{dense: {units: 4}}]\n");
        ModelSnapshot snapshot = new Network(spec).snapshot(0);
        assertThatThrownBy(() -> snapshot.explain(new float[3], 1, null, null, 8))
                .isInstanceOf(InvalidExplanationException.class)
                .hasMessageContaining("parameter 'target' is required: model 'reg' has 2 regression outputs");
        assertThat(snapshot.explain(new float[3], 1, new int[] {1}, null, 8).rows().get(0).target()).isEqualTo(1);
    }

    private static MiniBatch syntheticBatch(ModelSpec spec, Random random) {
        MiniBatch batch = new MiniBatch(spec.batchSize(), spec.inputs(), 1);
        float[] x = syntheticRows(spec.batchSize(), random);
        float[] y = new float[spec.batchSize()];
        for (int i = 0; i < y.length; i++) {
            y[i] = 2 * x[i * 4] - x[i * 4 + 1];
        }
        for (int i = 0; i < spec.batchSize(); i++) {
            batch.add(x, y, 1f, i);
        }
        return batch;
    }

    /** x0, x1, x2 ~ N(1, 1); x3 = 3 always. */
    private static float[] syntheticRows(int rows, Random random) {
        float[] x = new float[rows * 4];
        for (int i = 0; i < rows; i++) {
            x[i * 4] = (float) (random.nextGaussian() + 1);
            x[i * 4 + 1] = (float) (random.nextGaussian() + 1);
            x[i * 4 + 2] = (float) (random.nextGaussian() + 1);
            x[i * 4 + 3] = 3f;
        }
        return x;
    }

    static double worstRelativeGap(Explanation e) {
        double worst = 0;
        for (Explanation.Row r : e.rows()) {
            worst = Math.max(worst, r.completenessGap() / Math.abs(r.output() - r.baselineOutput()));
        }
        return worst;
    }

    static int argmax(float[] p, int row, int classes) {
        int best = 0;
        for (int k = 1; k < classes; k++) {
            best = p[row * classes + k] > p[row * classes + best] ? k : best;
        }
        return best;
    }

    private static double[] toDouble(float[] v) {
        double[] d = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            d[i] = v[i];
        }
        return d;
    }
}
