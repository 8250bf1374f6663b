package dev.streamtrain.model;

import org.jboss.logging.Logger;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Random;

import dev.streamtrain.model.explain.InputGradients;
import dev.streamtrain.model.spec.ModelSpec;
import dev.streamtrain.model.spec.ModelSpecParser;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * The input gradient explanations integrate is the gradient of the served function (DL4J's graph copy, for batch norm,
 * and the reference for the plain-Java pass, which must agree with it): it matches central finite
 * differences of {@link ModelSnapshot#predict} (inference mode: running batch-norm statistics, no dropout) for
 * every output layer a spec can produce, and a gradient off by a sign or by the factor p_c would not.
 */
class GradientGraphTest {

    private static final Logger LOG = Logger.getLogger(GradientGraphTest.class);
    private static final int INPUTS = 6;
    private static final int ROWS = 4;
    private static final float H = 1e-2f;

    static ModelSpec spec(String task, int outputs, String loss, String layers) {
        return ModelSpecParser.parse("name: fd\ninputs: " + INPUTS + "\ntask: " + task + "\noutputs: " + outputs
                + "\nloss: " + loss + "\nnormalize: false\nseed: 5\nbatch-size: 16\nlayers: " + layers
                + "\noptimizer: {type: adam, learning-rate: 0.02}\n");
    }

    /** Smooth activations, so that a finite difference does not straddle a kink. */
    private static final String LAYERS = "[{dense: {units: 16, activation: tanh}}, {batch-norm: {}}, {dropout: {rate: 0.3}},"
            + " {residual: {units: 16, activation: tanh, norm: layer}}, {residual: {units: 12, activation: softplus, norm: batch}}]";

    @ParameterizedTest
    @ValueSource(strings = {"classification 4 cross-entropy", "classification 3 binary-cross-entropy",
        "regression 2 mse", "regression 2 mae"})
    void theInputGradientIsThatOfThePredictions(String setting) {
        String[] s = setting.split(" ");
        ModelSpec spec = spec(s[0], Integer.parseInt(s[1]), s[2], LAYERS);
        // the graph's own gradient (the reference the plain pass is held to below)
        GraphSnapshot snapshot = FactorySnapshots.onGraph(trained(spec));
        int outputs = spec.outputs();
        float[] x = gaussian(ROWS * INPUTS, 99);
        for (int target = 0; target < outputs; target++) {
            float[] seed = new float[ROWS * outputs];
            for (int row = 0; row < ROWS; row++) {
                seed[row * outputs + target] = 1f;
            }
            InputGradients.Pass pass = snapshot.gradientGraph().pass(x, seed, ROWS);
            float[] p = snapshot.predict(x, ROWS);
            double[] numeric = finiteDifferences(snapshot, x, outputs, target);
            double error = relativeError(pass.inputGradients(), numeric);
            // what a loss gradient would give for softmax or sigmoid outputs: the gradient of log p, i.e. off by p
            float[] scaled = pass.inputGradients().clone();
            for (int i = 0; i < scaled.length; i++) {
                scaled[i] /= p[(i / INPUTS) * outputs + target];
            }
            float[] negated = pass.inputGradients().clone();
            for (int i = 0; i < negated.length; i++) {
                negated[i] = -negated[i];
            }
            LOG.infof("%s, target %d: |g - fd| / |fd| = %.1e; sign flipped %.2f, divided by the output %.2f", setting,
                    target, error, relativeError(negated, numeric), relativeError(scaled, numeric));
            assertThat(error).isLessThan(2e-3);
            // the test can fail: a flipped sign fails it, and so does a factor of the output (not 1 for a regression)
            assertThat(relativeError(negated, numeric)).isGreaterThan(1.0);
            assertThat(relativeError(scaled, numeric)).isGreaterThan(0.05);
            for (int i = 0; i < ROWS; i++) {
                assertThat(pass.outputs()[i * outputs + target]).isCloseTo(p[i * outputs + target], within(1e-5f));
            }
        }
    }

    /**
     * Where the plain-Java pass covers the spec, explanations differentiate it instead of the graph: its input gradient
     * is the graph copy's (the reference) within float rounding, for every output layer and loss, every activation,
     * layer norm, dropout and residual blocks (with and without a projection, skip from a dropout entry).
     */
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "classification 4 cross-entropy | " + COVERED,
        "classification 3 binary-cross-entropy | " + COVERED,
        "regression 2 mse | " + COVERED,
        "regression 2 mae | " + COVERED,
        "classification 4 cross-entropy | [{dense: {units: 16, activation: relu}}, {dense: {units: 16, activation: elu}}, {dense: {units: 16, activation: gelu}}]",
        "regression 2 mse | [{dense: {units: 16, activation: relu}}, {dense: {units: 16, activation: elu}}, {dense: {units: 16, activation: gelu}}]",
        "classification 4 cross-entropy | [{dense: {units: 16, activation: selu}}, {dense: {units: 16, activation: mish}}, {dense: {units: 16, activation: swish}}]",
        "regression 2 mse | [{dense: {units: 16, activation: selu}}, {dense: {units: 16, activation: mish}}, {dense: {units: 16, activation: swish}}]",
        "classification 4 cross-entropy | [{dense: {units: 16, activation: leaky-relu}}, {dense: {units: 16, activation: relu6}}, {dense: {units: 16, activation: sigmoid}}]",
        "regression 2 mse | [{dense: {units: 16, activation: leaky-relu}}, {dense: {units: 16, activation: relu6}}, {dense: {units: 16, activation: identity}}]",
        "classification 4 cross-entropy | [{dense: {units: 16, activation: tanh}}, {batch-norm: {}}, {dropout: {rate: 0.3}}, {residual: {units: 16, activation: tanh, norm: layer}}, {residual: {units: 12, activation: softplus, norm: batch}}]",
        "regression 2 mae | [{batch-norm: {eps: 0.001}}, {dense: {units: 16, activation: elu}}, {batch-norm: {}}]",
    })
    void thePlainGradientIsTheGraphs(String setting, String layers) {
        String[] s = setting.split(" ");
        ModelSpec spec = spec(s[0], Integer.parseInt(s[1]), s[2], layers);
        ModelSnapshot plain = trained(spec);
        assertThat(plain.predictsWithoutLock()).isTrue();
        GraphSnapshot graph = FactorySnapshots.onGraph(plain);
        float[] x = gaussian(ROWS * INPUTS, 99);
        for (int target = 0; target < spec.outputs(); target++) {
            int[] targets = new int[ROWS];
            java.util.Arrays.fill(targets, target);
            InputGradients.Pass expected = graph.inputGradients().pass(x, targets, ROWS);
            InputGradients.Pass actual = plain.inputGradients().pass(x, targets, ROWS);
            assertThat(norm(toDouble(expected.inputGradients()))).as("the graph's gradient norm").isFinite().isPositive();
            double error = relativeError(actual.inputGradients(), toDouble(expected.inputGradients()));
            double outputs = relativeError(actual.outputs(), toDouble(expected.outputs()));
            LOG.infof("%s, %s, target %d: plain vs graph gradient %.1e, outputs %.1e", setting, layers, target, error,
                    outputs);
            assertThat(error).isLessThan(1e-5);
            assertThat(outputs).isLessThan(1e-5);
        }
    }

    private static final String COVERED = "[{dense: {units: 16, activation: tanh, norm: layer}}, {dropout: {rate: 0.3}},"
            + " {residual: {units: 16, activation: tanh, norm: layer}}, {residual: {units: 12, activation: softplus, depth: 1}}]";
    private static double[] toDouble(float[] v) {
        double[] d = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            d[i] = v[i];
        }
        return d;
    }

    private static ModelSnapshot trained(ModelSpec spec) {
        Network network = new Network(spec);
        Random random = new Random(3);
        for (int step = 0; step < 30; step++) {
            MiniBatch batch = new MiniBatch(spec.batchSize(), spec.inputs(), spec.outputs());
            while (!batch.isFull()) {
                float[] x = new float[spec.inputs()];
                for (int j = 0; j < x.length; j++) {
                    x[j] = (float) (2 * random.nextGaussian() + 0.5);
                }
                float[] y = new float[spec.outputs()];
                if (spec.isClassification()) {
                    y[((x[0] + x[1] > 1 ? 1 : 0) + (x[2] > 0.5 ? 2 : 0)) % spec.outputs()] = 1f;
                } else {
                    y[0] = (float) Math.tanh(x[0] - x[3]);
                    y[1] = x[1] * x[2] / 4;
                }
                batch.add(x, y, 1f, 0);
            }
            network.trainStep(batch);
        }
        return network.snapshot(30);
    }

    private static double[] finiteDifferences(GraphSnapshot snapshot, float[] x, int outputs, int target) {
        double[] gradient = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            float[] up = x.clone();
            float[] down = x.clone();
            up[i] += H;
            down[i] -= H;
            int row = i / INPUTS;
            double fUp = snapshot.predict(up, ROWS)[row * outputs + target];
            double fDown = snapshot.predict(down, ROWS)[row * outputs + target];
            gradient[i] = (fUp - fDown) / ((double) up[i] - down[i]);
        }
        return gradient;
    }

    static double relativeError(float[] gradient, double[] reference) {
        double diff = 0;
        for (int i = 0; i < gradient.length; i++) {
            double d = gradient[i] - reference[i];
            diff += d * d;
        }
        return Math.sqrt(diff) / norm(reference);
    }

    static double norm(double[] v) {
        double sum = 0;
        for (double d : v) {
            sum += d * d;
        }
        return Math.sqrt(sum);
    }

    static float[] gaussian(int n, long seed) {
        Random random = new Random(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (2 * random.nextGaussian() + 0.5);
        }
        return x;
    }
}
