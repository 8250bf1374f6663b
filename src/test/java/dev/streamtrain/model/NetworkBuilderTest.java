package dev.streamtrain.model;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.BaseOutputLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.DropoutLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.activations.impl.ActivationSigmoid;
import org.nd4j.linalg.activations.impl.ActivationSoftmax;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.lossfunctions.impl.LossBinaryXENT;
import org.nd4j.linalg.lossfunctions.impl.LossMAE;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;
import org.nd4j.linalg.lossfunctions.impl.LossMSE;

import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import dev.streamtrain.model.spec.ModelSpec;
import dev.streamtrain.model.spec.ModelSpecParser;
import dev.streamtrain.model.spec.NetworkBuilder;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import static dev.streamtrain.model.TestNetworks.BATCH;
import static dev.streamtrain.model.TestNetworks.changeNorm;
import static dev.streamtrain.model.TestNetworks.randomBatch;
import static dev.streamtrain.model.TestNetworks.spec;

/** The DL4J graph built from a spec: every optimizer and schedule trains, the topology matches the spec, seeds reproduce. */
class NetworkBuilderTest {

    private static final String ONE_DENSE = "[{dense: {units: 8, activation: tanh}}]";

    static Stream<Arguments> optimizers() {
        return Stream.of(
                Arguments.of("{type: sgd, learning-rate: 0.1}", 0.1),
                Arguments.of("{type: sgd, learning-rate: 0.05, momentum: 0.9}", 0.05),
                Arguments.of("{type: adam, learning-rate: 0.01, beta1: 0.8, beta2: 0.99, epsilon: 1.0e-6}", 0.01),
                Arguments.of("{type: adamw, learning-rate: 0.01}", 0.01),
                Arguments.of("{type: nadam}", 0.001),
                Arguments.of("{type: amsgrad, learning-rate: 0.02}", 0.02),
                Arguments.of("{type: adamax}", 0.001),
                Arguments.of("{type: rmsprop, rho: 0.9}", 0.001),
                Arguments.of("{type: adagrad}", 0.01),
                Arguments.of("{type: adadelta, rho: 0.9}", Double.NaN));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("optimizers")
    void everyOptimizerTrainsWithFiniteScoresAndChangesTheParameters(String optimizer, double learningRate) {
        Network network = new Network(spec(ONE_DENSE, optimizer, null, null, true));
        float[] initial = network.parameters();

        for (int step = 0; step < 3; step++) {
            float[] before = network.parameters();
            BatchScore score = network.trainStep(randomBatch(network.spec(), step));

            assertThat(score.examples()).isEqualTo(BATCH);
            assertThat(score.weightSum()).isEqualTo(BATCH);
            assertThat(score.meanLoss()).isFinite().isPositive();
            assertThat(score.trainLoss()).isFinite().isPositive();
            assertThat(score.correct()).isBetween(0, BATCH);
            assertThat(network.parameters()).isNotEqualTo(before);
        }
        float[] after = network.parameters();
        assertThat(after).hasSize(initial.length).isNotEqualTo(initial);
        for (float p : after) {
            assertThat(p).isFinite();
        }
        // adadelta has no learning rate: reported as NaN rather than failing the trainer's step report
        if (Double.isNaN(learningRate)) {
            assertThat(network.learningRate()).isNaN();
        } else {
            assertThat(network.learningRate()).isCloseTo(learningRate, within(1e-12));
        }
    }

    static Stream<Arguments> schedules() {
        double base = 0.1;
        return Stream.of(
                Arguments.of("{type: constant}", new double[] {base, base, base, base, base, base, base, base}),
                // halves after every 2 steps
                Arguments.of("{type: step, factor: 0.5, every: 2}",
                        new double[] {0.1, 0.1, 0.05, 0.05, 0.025, 0.025, 0.0125, 0.0125}),
                Arguments.of("{type: exponential, gamma: 0.8}",
                        new double[] {0.1, 0.08, 0.064, 0.0512, 0.04096, 0.032768, 0.0262144, 0.02097152}),
                // rises linearly over 3 warm-up steps, then cosine from 0.1 to 0.01 over steps 3..7, then stays
                Arguments.of("{type: warmup-cosine, warmup-steps: 3, total-steps: 7, min-learning-rate: 0.01}",
                        new double[] {0.1 / 3, 0.2 / 3, 0.1, 0.1, 0.01 + 0.045 * (1 + Math.sqrt(0.5)), 0.055,
                                0.01 + 0.045 * (1 - Math.sqrt(0.5)), 0.01}));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("schedules")
    void everyScheduleTrainsAndTheReportedLearningRateFollowsIt(String schedule, double[] expected) {
        Network network = new Network(spec(ONE_DENSE, "{type: sgd, learning-rate: 0.1}", schedule, null, true));

        for (int step = 0; step < expected.length; step++) {
            assertThat(network.learningRate()).as("learning rate of step %d", step)
                    .isCloseTo(expected[step], within(1e-9));
            float[] before = network.parameters();
            BatchScore score = network.trainStep(randomBatch(network.spec(), step));
            assertThat(score.meanLoss()).isFinite();
            assertThat(score.trainLoss()).isFinite();
            assertThat(network.parameters()).isNotEqualTo(before);
        }
    }

    @Test
    void theScheduledRateIsTheOneTheOptimizerApplies() {
        // plain SGD moves the parameters by lr * gradient; same seed and batch give the same gradient
        MiniBatch batch = randomBatch(spec(ONE_DENSE, null, null, null, false), 1);
        Network constant = new Network(spec(ONE_DENSE, "{type: sgd, learning-rate: 0.1}", null, null, false));
        Network warmup = new Network(spec(ONE_DENSE, "{type: sgd, learning-rate: 0.1}",
                "{type: warmup-cosine, warmup-steps: 4, total-steps: 10}", null, false));
        float[] initial = constant.parameters();
        assertThat(warmup.parameters()).isEqualTo(initial);

        constant.trainStep(copy(batch));
        warmup.trainStep(copy(batch));

        double full = changeNorm(initial, constant.parameters());
        double first = changeNorm(initial, warmup.parameters());
        assertThat(full).isPositive();
        assertThat(first / full).isCloseTo(0.25, within(1e-4));
    }

    @Test
    void residualBlocksAddElementWiseVerticesWithAProjectionOnAWidthChange() {
        ModelSpec spec = spec("[{dense: {units: 16, activation: relu}},"
                + " {residual: {units: 8, activation: relu, depth: 2, norm: batch}},"
                + " {residual: {units: 8, activation: tanh, depth: 1, norm: layer}}]", null, null, null, true);
        ComputationGraphConfiguration conf = NetworkBuilder.configuration(spec);
        Map<String, GraphVertex> vertices = conf.getVertices();
        Map<String, List<String>> inputs = conf.getVertexInputs();

        List<String> adds = vertices.entrySet().stream()
                .filter(e -> e.getValue() instanceof ElementWiseVertex)
                .map(Map.Entry::getKey).toList();
        assertThat(adds).containsExactlyInAnyOrder("layer1_add", "layer2_add");
        assertThat(((ElementWiseVertex) vertices.get("layer1_add")).getOp()).isEqualTo(ElementWiseVertex.Op.Add);
        assertThat(((ElementWiseVertex) vertices.get("layer2_add")).getOp()).isEqualTo(ElementWiseVertex.Op.Add);

        // 16 -> 8: the skip path is projected; the residual path is dense, batch-norm, dense, batch-norm
        assertThat(inputs.get("layer1_projection")).containsExactly("layer0_dense");
        assertThat(inputs.get("layer1_dense0")).containsExactly("layer1_projection");
        assertThat(inputs.get("layer1_batchnorm1")).containsExactly("layer1_dense1");
        assertThat(inputs.get("layer1_add")).containsExactly("layer1_projection", "layer1_batchnorm1");
        assertThat(inputs.get("layer1_activation")).containsExactly("layer1_add");
        // 8 -> 8: no projection; the skip path is the previous block's output
        assertThat(vertices).doesNotContainKey("layer2_projection");
        assertThat(inputs.get("layer2_add")).containsExactly("layer1_activation", "layer2_dense0");
        assertThat(((DenseLayer) layer(conf, "layer2_dense0")).hasLayerNorm()).isTrue();
        assertThat(((DenseLayer) layer(conf, "layer1_dense0")).hasLayerNorm()).isFalse();
        assertThat(inputs.get(NetworkBuilder.OUTPUT)).containsExactly("layer2_activation");

        Network network = new Network(spec);
        float[] before = network.parameters();
        assertThat(network.trainStep(randomBatch(spec, 3)).meanLoss()).isFinite();
        assertThat(network.parameters()).isNotEqualTo(before);
    }

    @Test
    void layerNormIsFoldedIntoThePrecedingDenseLayerAndDropoutKeepsOneMinusRate() {
        ModelSpec spec = spec("[{dense: {units: 8}}, {layer-norm: {}}, {dense: {units: 8, norm: layer}},"
                + " {dense: {units: 8}}, {dropout: {rate: 0.2}}, {batch-norm: {}}]", null, null, null, true);
        ComputationGraphConfiguration conf = NetworkBuilder.configuration(spec);

        assertThat(((DenseLayer) layer(conf, "layer0_dense")).hasLayerNorm()).isTrue();
        assertThat(conf.getVertices().keySet()).noneMatch(name -> name.startsWith("layer1"));
        assertThat(conf.getVertexInputs().get("layer2_dense")).containsExactly("layer0_dense");
        assertThat(((DenseLayer) layer(conf, "layer2_dense")).hasLayerNorm()).isTrue();
        assertThat(((DenseLayer) layer(conf, "layer3_dense")).hasLayerNorm()).isFalse();
        DropoutLayer dropout = (DropoutLayer) layer(conf, "layer4_dropout");
        assertThat(((org.deeplearning4j.nn.conf.dropout.Dropout) dropout.getIDropout()).getP())
                .as("DL4J's dropout takes the retain probability").isCloseTo(0.8, within(1e-12));
        assertThat(conf.getVertexInputs().get(NetworkBuilder.OUTPUT)).containsExactly("layer5_batchnorm");

        Network network = new Network(spec);
        assertThat(network.trainStep(randomBatch(spec, 4)).meanLoss()).isFinite();
    }

    @ParameterizedTest
    @ValueSource(strings = {"cross-entropy", "binary-cross-entropy", "mse", "mae"})
    void outputLayerFollowsTheLoss(String loss) {
        boolean classification = loss.contains("cross-entropy");
        ModelSpec spec = ModelSpecParser.parse("name: out\ninputs: 4\noutputs: 2\nlayers: [{dense: {units: 4}}]\n"
                + "task: " + (classification ? "classification" : "regression") + "\nloss: " + loss + "\n");
        BaseOutputLayer output = (BaseOutputLayer) layer(NetworkBuilder.configuration(spec), NetworkBuilder.OUTPUT);

        assertThat(output.getNOut()).isEqualTo(2);
        switch (loss) {
            case "cross-entropy" -> {
                assertThat(output.getLossFn()).isInstanceOf(LossMCXENT.class);
                assertThat(output.getActivationFn()).isInstanceOf(ActivationSoftmax.class);
            }
            case "binary-cross-entropy" -> {
                assertThat(output.getLossFn()).isInstanceOf(LossBinaryXENT.class);
                assertThat(output.getActivationFn()).isInstanceOf(ActivationSigmoid.class);
            }
            case "mse" -> {
                assertThat(output.getLossFn()).isInstanceOf(LossMSE.class);
                assertThat(output.getActivationFn()).isInstanceOf(ActivationIdentity.class);
            }
            default -> {
                assertThat(output.getLossFn()).isInstanceOf(LossMAE.class);
                assertThat(output.getActivationFn()).isInstanceOf(ActivationIdentity.class);
            }
        }
    }

    @Test
    void sameSeedGivesIdenticalInitialParametersAndAnotherSeedDoesNot() {
        String layers = "[{dense: {units: 8}}, {residual: {units: 8, depth: 2}}]";
        ModelSpec spec = spec(layers, null, null, null, true);
        ModelSpec otherSeed = ModelSpecParser.parse(spec.source().replace("seed: 11", "seed: 12"));

        float[] first = new Network(spec).parameters();
        float[] second = new Network(spec).parameters();
        float[] third = new Network(otherSeed).parameters();

        assertThat(second).isEqualTo(first);
        assertThat(third).hasSameSizeAs(first).isNotEqualTo(first);
    }

    @Test
    void sameSeedAndSameBatchesTrainToIdenticalNetworks() {
        // dropout and batch-norm included: their randomness and running statistics must reproduce too
        ModelSpec spec = spec("[{dense: {units: 8}}, {batch-norm: {}}, {dropout: {rate: 0.3}},"
                + " {residual: {units: 8, depth: 2, norm: layer}}]", "{type: adam, learning-rate: 0.01}", null, null, true);

        float[] first = trainFiveSteps(spec);
        float[] second = trainFiveSteps(spec);

        assertThat(second).isEqualTo(first);
    }

    @ParameterizedTest
    @ValueSource(strings = {"sgd", "adam", "adagrad", "rmsprop"})
    void scheduledUpdaterSurvivesCloningAndAJsonRoundTrip(String optimizer) {
        // DL4J clones the updater into each layer, and a checkpoint stores the configuration as JSON
        ModelSpec spec = spec(ONE_DENSE, "{type: " + optimizer + ", learning-rate: 0.1}",
                "{type: warmup-cosine, warmup-steps: 3, total-steps: 7, min-learning-rate: 0.01}", null, true);
        ComputationGraphConfiguration conf = NetworkBuilder.configuration(spec);

        ComputationGraphConfiguration restored = ComputationGraphConfiguration.fromJson(conf.toJson());

        IUpdater original = ((BaseLayer) layer(conf, NetworkBuilder.OUTPUT)).getIUpdater();
        IUpdater copy = ((BaseLayer) layer(restored, NetworkBuilder.OUTPUT)).getIUpdater();
        IUpdater cloned = original.clone();
        assertThat(copy.getClass()).isEqualTo(original.getClass());
        for (int i = 0; i < 10; i++) {
            assertThat(copy.getLearningRate(i, 0)).isEqualTo(original.getLearningRate(i, 0));
            assertThat(cloned.getLearningRate(i, 0)).isEqualTo(original.getLearningRate(i, 0));
        }
        assertThat(copy.getLearningRate(0, 0)).isCloseTo(0.1 / 3, within(1e-12));
        assertThat(copy.getLearningRate(20, 0)).isCloseTo(0.01, within(1e-12));
    }

    @Test
    void adagradWithAScheduleKeepsItsParametersFinite() {
        Network network = new Network(spec(ONE_DENSE, "{type: adagrad, learning-rate: 0.05, epsilon: 1.0e-5}",
                "{type: step, factor: 0.5, every: 2}", null, true));

        for (int step = 0; step < 4; step++) {
            assertThat(network.learningRate()).isCloseTo(0.05 * Math.pow(0.5, step / 2), within(1e-12));
            assertThat(network.trainStep(randomBatch(network.spec(), step)).trainLoss()).isFinite();
            for (float p : network.parameters()) {
                assertThat(p).isFinite();
            }
        }
    }

    @Test
    void weightsScaleEachExamplesLossAndAZeroWeightExampleDoesNotTrain() {
        ModelSpec spec = spec(ONE_DENSE, "{type: sgd, learning-rate: 0.1}", null, null, false);
        MiniBatch rows = randomBatch(spec, 5);
        Network alone = new Network(spec);
        Network withB = new Network(spec);
        Network withC = new Network(spec);
        float[] initial = alone.parameters();

        BatchScore a = alone.trainStep(rowsOf(rows, new int[] {0}, new float[] {1f}));
        BatchScore ab = withB.trainStep(rowsOf(rows, new int[] {0, 1}, new float[] {2f, 0f}));
        BatchScore ac = withC.trainStep(rowsOf(rows, new int[] {0, 2}, new float[] {2f, 0f}));

        assertThat(ab.examples()).isEqualTo(2);
        assertThat(ab.weightSum()).isEqualTo(2.0);
        assertThat(ab.lossSum()).isCloseTo(2 * a.lossSum(), within(1e-6));
        assertThat(ab.meanLoss()).isCloseTo(a.meanLoss(), within(1e-6));
        // whatever the zero-weight example is, it changes nothing
        assertThat(withB.parameters()).isNotEqualTo(initial).isEqualTo(withC.parameters());
        assertThat(ac.trainLoss()).isEqualTo(ab.trainLoss());
    }

    private static MiniBatch rowsOf(MiniBatch source, int[] rows, float[] weights) {
        MiniBatch batch = new MiniBatch(source.capacity(), source.inputs(), source.labelWidth());
        for (int i = 0; i < rows.length; i++) {
            batch.add(source.features(), source.labels(), weights[i], rows[i]);
        }
        return batch;
    }

    private static float[] trainFiveSteps(ModelSpec spec) {
        Network network = new Network(spec);
        for (int step = 0; step < 5; step++) {
            network.trainStep(randomBatch(spec, 100 + step));
        }
        return network.parameters();
    }

    private static MiniBatch copy(MiniBatch batch) {
        MiniBatch copy = new MiniBatch(batch.capacity(), batch.inputs(), batch.labelWidth());
        for (int i = 0; i < batch.size(); i++) {
            copy.add(batch.features(), batch.labels(), batch.weights()[i], i);
        }
        return copy;
    }

    private static Layer layer(ComputationGraphConfiguration conf, String name) {
        return ((LayerVertex) conf.getVertices().get(name)).getLayerConf().getLayer();
    }
}
