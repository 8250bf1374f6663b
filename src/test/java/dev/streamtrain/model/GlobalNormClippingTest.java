package dev.streamtrain.model;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.MultiDataSet;
import org.nd4j.linalg.factory.Nd4j;

import dev.streamtrain.model.spec.ModelSpec;
import dev.streamtrain.model.spec.NetworkBuilder;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import static dev.streamtrain.model.TestNetworks.changeNorm;
import static dev.streamtrain.model.TestNetworks.difference;
import static dev.streamtrain.model.TestNetworks.randomBatch;
import static dev.streamtrain.model.TestNetworks.spec;

/** Gradient clipping bounds a plain SGD step (update = learning rate x mean gradient) without changing its direction. */
class GlobalNormClippingTest {

    private static final String LAYERS = "[{dense: {units: 8, activation: tanh}}, {dense: {units: 5, activation: relu}}]";
    private static final String SGD = "{type: sgd, learning-rate: 0.1}";
    private static final double LR = 0.1;

    @ParameterizedTest(name = "{0} of 8 rows")
    @ValueSource(ints = {8, 3, 1})
    void globalNormClippingBoundsTheWholeUpdateForAnyBatchSizeAndKeepsItsDirection(int rows) {
        double threshold = 1e-2;
        Network clipped = new Network(spec(LAYERS, SGD, null, "{type: global-norm, threshold: " + threshold + "}", false));
        Network free = new Network(spec(LAYERS, SGD, null, "{type: none}", false));
        float[] initial = free.parameters();
        assertThat(clipped.parameters()).isEqualTo(initial);

        clipped.trainStep(firstRows(randomBatch(clipped.spec(), 1), rows));
        free.trainStep(firstRows(randomBatch(free.spec(), 1), rows));

        double tolerance = roundingTolerance(initial);
        double clippedNorm = changeNorm(initial, clipped.parameters());
        double freeNorm = changeNorm(initial, free.parameters());
        assertThat(freeNorm).as("unclipped update").isGreaterThan(3 * LR * threshold);
        assertThat(clippedNorm).as("clipped update").isPositive().isLessThanOrEqualTo(LR * threshold + tolerance);
        // the gradient norm was above the threshold, so the clipped step is exactly lr * threshold long
        assertThat(clippedNorm).isCloseTo(LR * threshold, within(tolerance));
        assertThat(cosine(difference(initial, clipped.parameters()), difference(initial, free.parameters())))
                .as("clipping rescales, never rotates").isGreaterThan(0.999);
    }

    @Test
    void globalNormClippingLeavesASmallGradientAlone() {
        Network clipped = new Network(spec(LAYERS, SGD, null, "{type: global-norm, threshold: 1.0e6}", false));
        Network free = new Network(spec(LAYERS, SGD, null, null, false));

        clipped.trainStep(randomBatch(clipped.spec(), 2));
        free.trainStep(randomBatch(free.spec(), 2));

        assertThat(clipped.parameters()).isEqualTo(free.parameters());
    }

    @Test
    void reportedNormIsThatOfTheMeanGradientAndClippedStepsAreCounted() {
        ModelSpec spec = spec(LAYERS, SGD, null, null, false);
        ComputationGraph graph = new ComputationGraph(NetworkBuilder.configuration(spec));
        graph.init();
        float[] initial = graph.params().dup().data().asFloat();
        GlobalNormClipping clipping = new GlobalNormClipping(1e6);
        graph.addListeners(clipping);

        graph.fit(dataSet(spec, 5));

        // unclipped plain SGD: the step is lr times the mean gradient, whose norm the listener reports
        double stepNorm = changeNorm(initial, graph.params().dup().data().asFloat());
        assertThat(clipping.lastNorm()).isCloseTo(stepNorm / LR, within(roundingTolerance(initial) / LR));
        assertThat(clipping.clippedSteps()).isZero();

        GlobalNormClipping tight = new GlobalNormClipping(clipping.lastNorm() / 100);
        graph.setListeners(tight);
        graph.fit(dataSet(spec, 6));
        assertThat(tight.clippedSteps()).isEqualTo(1);
    }

    @Test
    void batchNormRunningStatisticsAreNotClipped() {
        ModelSpec spec = spec("[{dense: {units: 8, activation: tanh}}, {batch-norm: {}}]", SGD, null, null, false);
        ComputationGraph clipped = new ComputationGraph(NetworkBuilder.configuration(spec));
        ComputationGraph free = new ComputationGraph(NetworkBuilder.configuration(spec));
        clipped.init();
        free.init();
        clipped.addListeners(new GlobalNormClipping(1e-4));

        MultiDataSet data = dataSet(spec, 7);
        clipped.fit(data);
        free.fit(data);

        assertThat(clipped.getParam("layer0_dense_W")).isNotEqualTo(free.getParam("layer0_dense_W"));
        assertThat(clipped.getParam("layer1_batchnorm_mean")).isEqualTo(free.getParam("layer1_batchnorm_mean"));
        assertThat(clipped.getParam("layer1_batchnorm_mean").sumNumber().doubleValue()).isNotZero();
    }

    @Test
    void valueClippingBoundsEveryElementOfTheUpdate() {
        double threshold = 1e-3;
        Network clipped = new Network(spec(LAYERS, SGD, null, "{type: value, threshold: " + threshold + "}", false));
        Network free = new Network(spec(LAYERS, SGD, null, null, false));
        float[] initial = free.parameters();

        clipped.trainStep(randomBatch(clipped.spec(), 3));
        free.trainStep(randomBatch(free.spec(), 3));

        double ulp = Math.ulp((float) (maxAbs(initial) + LR * threshold));
        assertThat(maxAbs(difference(initial, free.parameters()))).isGreaterThan(3 * LR * threshold);
        assertThat(maxAbs(difference(initial, clipped.parameters()))).isPositive()
                .isCloseTo(LR * threshold, within(2 * ulp));
    }

    @Test
    void layerNormClippingBoundsTheUpdateOfEveryLayer() {
        double threshold = 1e-2;
        Network clipped = new Network(spec(LAYERS, SGD, null, "{type: layer-norm, threshold: " + threshold + "}", false));
        float[] initial = clipped.parameters();

        clipped.trainStep(randomBatch(clipped.spec(), 4));

        // three layers (two dense, one output), each clipped to lr * threshold: at most sqrt(3) of that together
        double norm = changeNorm(initial, clipped.parameters());
        assertThat(norm).isGreaterThan(LR * threshold)
                .isLessThanOrEqualTo(Math.sqrt(3) * LR * threshold + roundingTolerance(initial));
    }

    /** Float32 rounding of a parameter change: up to one ulp of the largest parameter per element, in L2. */
    private static double roundingTolerance(float[] parameters) {
        return Math.sqrt(parameters.length) * Math.ulp((float) (maxAbs(parameters) + 1e-2));
    }

    private static MiniBatch firstRows(MiniBatch batch, int rows) {
        MiniBatch part = new MiniBatch(batch.capacity(), batch.inputs(), batch.labelWidth());
        for (int i = 0; i < rows; i++) {
            part.add(batch.features(), batch.labels(), 1f, i);
        }
        return part;
    }

    private static MultiDataSet dataSet(ModelSpec spec, long seed) {
        MiniBatch batch = randomBatch(spec, seed);
        INDArray x = Nd4j.create(batch.featureRows(), new long[] {batch.size(), spec.inputs()}, DataType.FLOAT);
        INDArray y = Nd4j.create(batch.labels(), new long[] {batch.size(), spec.outputs()}, DataType.FLOAT);
        return new MultiDataSet(x, y);
    }

    private static double cosine(float[] a, float[] b) {
        double dot = 0;
        double na = 0;
        double nb = 0;
        for (int i = 0; i < a.length; i++) {
            dot += (double) a[i] * b[i];
            na += (double) a[i] * a[i];
            nb += (double) b[i] * b[i];
        }
        return dot / Math.sqrt(na * nb);
    }

    private static double maxAbs(float[] values) {
        double max = 0;
        for (float v : values) {
            max = Math.max(max, Math.abs(v));
        }
        return max;
    }
}
