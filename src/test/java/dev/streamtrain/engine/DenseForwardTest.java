package dev.streamtrain.engine;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import dev.streamtrain.model.spec.ModelSpec;
import dev.streamtrain.model.spec.NetworkBuilder;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The plain-Java forward pass against ND4J and DL4J, the references: every activation the spec offers against ND4J's
 * own on seeded random inputs (large ones too, where float overflows), and whole networks against a DL4J graph of
 * the same spec and parameters on real data (digits, wine). Agreement: within {@value #TOLERANCE} of the largest
 * output, and the same non-finite values where ND4J's are not finite.
 */
class DenseForwardTest {

    private static final double TOLERANCE = 1e-5;
    private static final int STEPS = 30;
    private static final int BATCH = 32;

    /** Every activation a spec may name (NetworkBuilder's list) and the output layers' softmax. */
    enum Named {
        RELU, LEAKYRELU, ELU, GELU, SELU, TANH, SIGMOID, SOFTPLUS, SWISH, MISH, RELU6, IDENTITY, SOFTMAX
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Named.class)
    void everyActivationMatchesNd4j(Named named) {
        Activation activation = Activation.valueOf(named.name());
        Random random = new Random(17);
        // rows of 10: softmax normalises each; scales from small to where exp overflows in float (x > 88.7)
        for (double scale : new double[] {0.1, 1, 5, 30, 120}) {
            int rows = 50;
            float[] x = new float[rows * 10];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) (scale * random.nextGaussian());
            }
            float[] expected = nd4j(activation, x, rows);
            float[] actual = x.clone();
            ElementActivation.Parameterised mine = ElementActivation.of("test", activation.getActivationFunction());
            for (int r = 0; r < rows; r++) {
                mine.apply(actual, r * 10, r * 10 + 10);
            }
            assertClose(named + " at scale " + scale, expected, actual);
        }
    }

    @Test
    void overflowIsNd4jsToo() {
        float[] x = {-200f, -100f, -89f, -88f, 88f, 89f, 100f, 200f};
        for (Activation a : List.of(Activation.SOFTPLUS, Activation.MISH, Activation.ELU, Activation.SELU,
                Activation.SIGMOID, Activation.GELU, Activation.SWISH)) {
            float[] expected = nd4j(a, x, 1);
            float[] actual = x.clone();
            ElementActivation.of("test", a.getActivationFunction()).apply(actual, 0, x.length);
            assertClose(a + " at the limits of float", expected, actual);
        }
        // softplus overflows to infinity in ND4J's float kernel: the plain pass must not be finite where it is not
        float[] softplus = {100f};
        ElementActivation.of("test", Activation.SOFTPLUS.getActivationFunction()).apply(softplus, 0, 1);
        assertThat(softplus[0]).isInfinite();
    }

    @ParameterizedTest(name = "digits, {0}")
    @CsvSource({"relu", "leaky-relu", "elu", "gelu", "selu", "tanh", "sigmoid", "softplus", "swish", "mish", "relu6",
        "identity"})
    void digitsNetworksMatchDl4j(String activation) {
        String layer = "{dense: {units: 48, activation: " + activation + "}}";
        ModelSpec spec = ReferenceRun.spec("classification", 64, 10, "cross-entropy",
                "[" + layer + ", " + layer.replace("48", "24") + "]", "{type: adam, learning-rate: 0.01}");
        assertSameOutputs(spec, ReferenceRun.digits());
    }

    @ParameterizedTest(name = "wine, {0}, {1}")
    @CsvSource({"regression, mse, relu", "regression, mae, tanh", "classification, binary-cross-entropy, swish"})
    void wineNetworksMatchDl4j(String task, String loss, String activation) {
        boolean sigmoid = task.equals("classification");
        ModelSpec spec = ReferenceRun.spec(task, 12, sigmoid ? 2 : 1, loss,
                "[{dense: {units: 24, activation: " + activation + "}}]", "{type: adam, learning-rate: 0.01}");
        ReferenceRun wine = ReferenceRun.wineAlcohol();
        if (sigmoid) {
            // two sigmoid outputs: alcohol above the mean, and below it
            float[][] labels = new float[wine.labels().length][];
            for (int i = 0; i < labels.length; i++) {
                float above = wine.labels()[i][0] > 0 ? 1f : 0f;
                labels[i] = new float[] {above, 1f - above};
            }
            wine = new ReferenceRun(wine.features(), labels);
        }
        assertSameOutputs(spec, wine);
    }

    /**
     * Layer norm (on the layer, or as an entry), batch norm (its running statistics, after DL4J trained them) and
     * residual blocks of every shape the spec builds, on digits.
     */
    @ParameterizedTest(name = "digits, {0}")
    @CsvSource(delimiter = '|', value = {
        "[{dense: {units: 48, activation: relu, norm: layer}}, {dense: {units: 24, activation: tanh}}]",
        "[{dense: {units: 32, activation: gelu}}, {layer-norm: {}}, {dense: {units: 16, activation: sigmoid, norm: layer}}]",
        "[{dense: {units: 32, activation: relu}}, {residual: {units: 32, activation: relu, depth: 2}}]",
        "[{dense: {units: 32, activation: elu}}, {residual: {units: 16, activation: tanh, depth: 1}}]",
        "[{dense: {units: 32, activation: relu}}, {residual: {units: 32, activation: relu, norm: layer}}, {residual: {units: 32, activation: swish}}]",
        "[{dense: {units: 32, activation: relu}}, {dropout: {rate: 0.2}}, {residual: {units: 32, activation: selu}}]",
        "[{dense: {units: 24, activation: mish}}, {residual: {units: 24, activation: softplus, depth: 3, norm: layer}}]",
        "[{dense: {units: 32, activation: relu}}, {batch-norm: {}}, {dense: {units: 16, activation: tanh}}]",
        "[{batch-norm: {decay: 0.5, eps: 0.001}}, {dense: {units: 32, activation: gelu}}, {batch-norm: {}}]",
        "[{dense: {units: 32, activation: tanh}}, {residual: {units: 32, activation: relu, norm: batch}}]",
        "[{dense: {units: 32, activation: relu, norm: layer}}, {batch-norm: {}}, {dropout: {rate: 0.2}}, {residual: {units: 32, activation: swish, depth: 1, norm: batch}}]",
    })
    void layerNormBatchNormAndResidualNetworksMatchDl4j(String layers) {
        ModelSpec spec = ReferenceRun.spec("classification", 64, 10, "cross-entropy", layers,
                "{type: adam, learning-rate: 0.01}");
        assertSameOutputs(spec, ReferenceRun.digits());
    }

    /** A block whose skip is the network's input itself, and a projection into a layer-normalised block, on wine. */
    @ParameterizedTest(name = "wine, {0}")
    @CsvSource(delimiter = '|', value = {
        "[{residual: {units: 12, activation: relu}}]",
        "[{dense: {units: 24, activation: tanh}}, {residual: {units: 8, activation: relu, norm: layer}}]",
    })
    void wineResidualNetworksMatchDl4j(String layers) {
        assertSameOutputs(ReferenceRun.spec("regression", 12, 1, "mse", layers, "{type: adam, learning-rate: 0.01}"),
                ReferenceRun.wineAlcohol());
    }

    /**
     * ND4J's layer norm has no epsilon: it is scale-invariant however small x·W is, so weights shrunk 10^4 times answer
     * what they answered before, in the graph and here (with an epsilon, as in other libraries, they would not: the
     * spread of x·W is then ~1e-4). All-zero weights (a constant row: 0 / 0) give the bias alone in both.
     */
    @Test
    void layerNormOfTinyAndConstantRowsIsNd4js() {
        ModelSpec spec = ReferenceRun.spec("classification", 64, 10, "cross-entropy",
                "[{dense: {units: 32, activation: tanh, norm: layer}}, {dense: {units: 16, activation: relu, norm: layer}}]",
                "{type: adam, learning-rate: 0.01}");
        ComputationGraph graph = ReferenceRun.graph(spec);
        float[][] rows = ReferenceRun.digits().batch(1, 100);
        float[] before = DenseForward.of(spec, graph.params().toFloatVector()).output(rows[0], 100);
        graph.getLayer("layer0_dense").getParam("W").muli(1e-4);
        float[] reference = graph.outputSingle(false, ReferenceRun.matrix(rows[0], 100)).dup('c').data().asFloat();
        float[] shrunk = DenseForward.of(spec, graph.params().toFloatVector()).output(rows[0], 100);
        assertClose("weights x 1e-4 against DL4J", reference, shrunk);
        assertClose("weights x 1e-4 against unshrunk", before, shrunk);
        graph.getLayer("layer1_dense").getParam("W").assign(0);
        reference = graph.outputSingle(false, ReferenceRun.matrix(rows[0], 100)).dup('c').data().asFloat();
        assertClose("zero weights", reference, DenseForward.of(spec, graph.params().toFloatVector()).output(rows[0], 100));
    }

    /**
     * The input gradient of one output per row against central differences of {@link DenseForward#output} in double
     * the step (float rounding bounds the agreement), for every activation and each kind of layer; a gradient of the
     * wrong output, or with the sign flipped, would fail.
     */
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "[{dense: {units: 16, activation: tanh}}, {dense: {units: 12, activation: sigmoid}}]",
        "[{dense: {units: 16, activation: elu}}, {dense: {units: 12, activation: selu}}]",
        "[{dense: {units: 16, activation: gelu}}, {dense: {units: 12, activation: swish}}]",
        "[{dense: {units: 16, activation: mish}}, {dense: {units: 12, activation: softplus}}]",
        "[{dense: {units: 16, activation: leaky-relu}}, {dense: {units: 12, activation: relu6}}]",
        "[{dense: {units: 16, activation: relu}}, {dense: {units: 12, activation: identity}}]",
        "[{dense: {units: 16, activation: tanh, norm: layer}}, {residual: {units: 12, activation: softplus, norm: layer}}]",
        "[{residual: {units: 6, activation: tanh, depth: 1}}, {residual: {units: 6, activation: gelu, depth: 3}}]",
        "[{dense: {units: 16, activation: tanh}}, {batch-norm: {}}, {residual: {units: 12, activation: elu, norm: batch}}]",
    })
    void inputGradientsAreThoseOfTheOutputs(String layers) {
        for (String loss : List.of("cross-entropy", "binary-cross-entropy", "mse")) {
            ModelSpec spec = ReferenceRun.spec(loss.equals("mse") ? "regression" : "classification", 6, 3, loss, layers,
                    "{type: adam, learning-rate: 0.01}");
            ComputationGraph graph = ReferenceRun.graph(spec);
            // gains away from 1 and biases away from 0, as training leaves them
            Random random = new Random(5);
            float[] parameters = graph.params().toFloatVector();
            for (int i = 0; i < parameters.length; i++) {
                parameters[i] += (float) (0.3 * random.nextGaussian());
            }
            DenseForward forward = DenseForward.of(spec, parameters);
            int rows = 5;
            float[] x = new float[rows * 6];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) random.nextGaussian();
            }
            for (int target = 0; target < 3; target++) {
                int[] targets = new int[rows];
                Arrays.fill(targets, target);
                DenseForward.Gradients g = forward.inputGradients(x, rows, targets);
                assertThat(g.outputs()).containsExactly(forward.output(x, rows));
                double[] numeric = new double[x.length];
                for (int i = 0; i < x.length; i++) {
                    float[] up = x.clone();
                    float[] down = x.clone();
                    up[i] += 1e-2f;
                    down[i] -= 1e-2f;
                    int row = i / 6;
                    numeric[i] = (forward.output(up, rows)[row * 3 + target] - forward.output(down, rows)[row * 3 + target])
                            / ((double) up[i] - down[i]);
                }
                double error = relativeError(g.inputGradients(), numeric, 1);
                assertThat(error).as("%s, %s, target %d", layers, loss, target).isLessThan(layers.contains("relu")
                        ? 2e-2 : 2e-3);
                assertThat(relativeError(g.inputGradients(), numeric, -1)).isGreaterThan(1.0);
            }
        }
    }

    private static double relativeError(float[] gradient, double[] reference, int sign) {
        double diff = 0;
        double norm = 0;
        for (int i = 0; i < gradient.length; i++) {
            double d = sign * gradient[i] - reference[i];
            diff += d * d;
            norm += reference[i] * reference[i];
        }
        return Math.sqrt(diff / norm);
    }

    /**
     * The hidden layer's weights blown up 1000 times: pre-activations far beyond 88, where exp overflows in float
     * (softplus is then infinite in ND4J, and the outputs NaN: the plain pass must say the same).
     */
    @ParameterizedTest(name = "digits, saturated, {0}")
    @CsvSource({"softplus", "mish", "elu", "gelu", "tanh"})
    void saturatedNetworksMatchDl4j(String activation) {
        ModelSpec spec = ReferenceRun.spec("classification", 64, 10, "cross-entropy",
                "[{dense: {units: 32, activation: " + activation + "}}]", "{type: sgd, learning-rate: 0.1}");
        ComputationGraph graph = ReferenceRun.graph(spec);
        graph.getLayer("layer0_dense").getParam("W").muli(1000);
        // the output layer's weights shrunk as much: logits of a sane size, but non-finite where the hidden layer is
        graph.getLayer(NetworkBuilder.OUTPUT).getParam("W").divi(1000);
        float[][] rows = ReferenceRun.digits().batch(3, 200);
        INDArray expected = graph.outputSingle(false, ReferenceRun.matrix(rows[0], 200));
        float[] actual = DenseForward.of(spec, graph.params().toFloatVector()).output(rows[0], 200);
        float[] reference = expected.dup('c').data().asFloat();
        if (activation.equals("softplus")) {
            boolean overflows = false;
            for (float v : reference) {
                overflows |= !Float.isFinite(v);
            }
            assertThat(overflows).as("ND4J's softplus overflows here").isTrue();
        }
        assertClose(activation + ", saturated", reference, actual);
    }

    @Test
    void concurrentCallersGetTheSameAnswers() throws Exception {
        ModelSpec spec = ReferenceRun.spec("classification", 64, 10, "cross-entropy",
                "[{dense: {units: 64, activation: relu}}]", "{type: adam, learning-rate: 0.01}");
        ComputationGraph graph = ReferenceRun.graph(spec);
        DenseForward forward = DenseForward.of(spec, graph.params().toFloatVector());
        float[][] rows = ReferenceRun.digits().batch(5, 64);
        float[] alone = forward.output(rows[0], 64);
        ExecutorService threads = Executors.newFixedThreadPool(8);
        try {
            List<Future<float[]>> answers = new ArrayList<>();
            for (int t = 0; t < 64; t++) {
                answers.add(threads.submit(() -> forward.output(rows[0], 64)));
            }
            for (Future<float[]> answer : answers) {
                assertThat(answer.get()).containsExactly(alone);
            }
        } finally {
            threads.shutdown();
        }
    }

    @Test
    void refusesWrongParameterCounts() {
        ModelSpec batchNorm = ReferenceRun.spec("classification", 64, 10, "cross-entropy",
                "[{dense: {units: 16, activation: relu}}, {batch-norm: {}}]", "{type: adam, learning-rate: 0.01}");
        assertThatThrownBy(() -> DenseForward.of(batchNorm, new float[10]))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("1274 parameters; got 10");
        // a batch-norm layer is one multiply-add per feature
        assertThat(DenseForward.of(batchNorm, new float[1274]).multiplyAddsPerRow()).isEqualTo(64 * 16 + 16 + 16 * 10);
        ModelSpec dense = ReferenceRun.spec("classification", 64, 10, "cross-entropy",
                "[{dense: {units: 16, activation: relu}}]", "{type: adam, learning-rate: 0.01}");
        assertThatThrownBy(() -> DenseForward.of(dense, new float[10]))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("1210 parameters; got 10");
        DenseForward forward = DenseForward.of(dense, new float[64 * 16 + 16 + 16 * 10 + 10]);
        assertThat(forward.multiplyAddsPerRow()).isEqualTo(64 * 16 + 16 * 10);
        assertThatThrownBy(() -> forward.output(new float[63], 1)).isInstanceOf(IllegalArgumentException.class);
    }

    /** Trains DL4J's graph a few steps (weights away from their start), then compares outputs on every row. */
    private static void assertSameOutputs(ModelSpec spec, ReferenceRun data) {
        ComputationGraph graph = ReferenceRun.graph(spec);
        for (int step = 0; step < STEPS; step++) {
            float[][] batch = data.batch(step, BATCH);
            graph.fit(new INDArray[] {ReferenceRun.matrix(batch[0], BATCH)},
                    new INDArray[] {ReferenceRun.matrix(batch[1], BATCH)});
        }
        int rows = data.features().length;
        int width = data.features()[0].length;
        float[] x = new float[rows * width];
        for (int i = 0; i < rows; i++) {
            System.arraycopy(data.features()[i], 0, x, i * width, width);
        }
        DenseForward forward = DenseForward.of(spec, graph.params().toFloatVector());
        float[] expected = graph.outputSingle(false, ReferenceRun.matrix(x, rows)).dup('c').data().asFloat();
        // one row at a time too: what a single-row request computes
        float[] single = forward.output(java.util.Arrays.copyOf(x, width), 1);
        assertClose(spec.name() + " first row alone", java.util.Arrays.copyOf(expected, single.length), single);
        assertClose(spec.name() + " all " + rows + " rows", expected, forward.output(x, rows));
    }

    private static float[] nd4j(Activation activation, float[] x, int rows) {
        INDArray in = Nd4j.create(x.clone(), new long[] {rows, x.length / rows}, 'c').castTo(DataType.FLOAT);
        return activation.getActivationFunction().getActivation(in, false).dup('c').data().asFloat();
    }

    private static void assertClose(String what, float[] expected, float[] actual) {
        assertThat(actual).as(what).hasSameSizeAs(expected);
        double largest = 0;
        for (float e : expected) {
            if (Float.isFinite(e)) {
                largest = Math.max(largest, Math.abs(e));
            }
        }
        double bound = TOLERANCE * Math.max(largest, 1e-30);
        for (int i = 0; i < expected.length; i++) {
            if (!Float.isFinite(expected[i])) {
                // NaN, Infinity or -Infinity, as ND4J's
                assertThat(Float.toString(actual[i])).as("%s, value %d", what, i).isEqualTo(Float.toString(expected[i]));
            } else {
                assertThat((double) Math.abs(actual[i] - expected[i])).as("%s, value %d: %s vs ND4J's %s", what, i,
                        actual[i], expected[i]).isLessThanOrEqualTo(bound);
            }
        }
    }
}
