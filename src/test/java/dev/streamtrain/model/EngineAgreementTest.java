package dev.streamtrain.model;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.List;

import dev.streamtrain.support.TabularDataset;
import dev.streamtrain.support.Measure;
import dev.streamtrain.model.spec.ModelSpec;
import dev.streamtrain.model.spec.ModelSpecParser;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * The network on the lean engine and on DL4J's graph (the reference) takes the same test-then-train steps: the same
 * scores of the tested rows, held-out rows left out of the step, the health signals of sampled steps, learning-rate
 * back-offs and warm restarts, rollbacks to the good state; and a checkpoint of either engine restores into the other
 * and trains on as the other would. Row weights are where the two differ: DL4J's per-example label mask also
 * multiplies the hidden layers' activations by the weight, so the lean engine's weights are checked against their
 * meaning instead (a weight of k counts the row k times).
 */
class EngineAgreementTest {

    private static final TabularDataset WAVEFORM = TabularDataset.load("waveform");
    private static final int STEPS = 40;

    @ParameterizedTest(name = "{0}: {1} {2}")
    @CsvSource(delimiter = '|', value = {
        "digits   | [{dense: {units: 32}}, {dense: {units: 16, activation: tanh}}] | {type: adam, learning-rate: 0.01}                  | {type: constant}",
        "digits   | [{dense: {units: 32}}]                                          | {type: sgd, learning-rate: 0.1, momentum: 0.9, nesterov: true}| {type: warmup-cosine, warmup-steps: 5, total-steps: 60}",
        "waveform | [{dense: {units: 24, activation: elu}}]                         | {type: rmsprop, learning-rate: 0.003, l2: 1.0e-4} | {type: step, factor: 0.5, every: 15}",
        "waveform | [{dense: {units: 24}}, {dense: {units: 12}}]                    | {type: adamw, learning-rate: 0.005}               | {type: exponential, gamma: 0.99}",
        "digits   | [{dense: {units: 32, activation: tanh}}, {batch-norm: {}}, {dense: {units: 16, activation: tanh}}] | {type: adam, learning-rate: 0.01} | {type: constant}",
        "waveform | [{dense: {units: 24, activation: tanh}}, {batch-norm: {decay: 0.8}}, {dense: {units: 12, activation: tanh}}, {batch-norm: {}}] | {type: sgd, learning-rate: 0.05, momentum: 0.9} | {type: step, factor: 0.5, every: 15}",
        // a block's last layer reports its own output, before the add and the block's activation, on both engines
        "digits   | [{dense: {units: 32}}, {residual: {units: 32, activation: relu, depth: 2}}, {residual: {units: 16, activation: tanh, depth: 1, norm: layer}}] | {type: adam, learning-rate: 0.01} | {type: constant}",
    })
    void bothEnginesTakeTheSameTestThenTrainSteps(String data, String layers, String optimizer, String schedule) {
        ModelSpec spec = spec(data, layers, optimizer, schedule);
        Network lean = new Network(spec, EngineKind.LEAN);
        Network dl4j = new Network(spec, EngineKind.DL4J);
        assertThat(lean.engine()).isEqualTo(EngineKind.LEAN);
        assertThat(dl4j.engine()).isEqualTo(EngineKind.DL4J);
        assertThat(lean.layerNames()).isEqualTo(dl4j.layerNames());
        assertThat(lean.parameters()).containsExactly(dl4j.parameters());

        for (int step = 0; step < STEPS; step++) {
            boolean sample = step % 3 == 0;
            StepResult a = lean.step(batch(spec, data, step), sample, step);
            StepResult b = dl4j.step(batch(spec, data, step), sample, step);
            String at = "step " + step;
            assertThat(a.train().examples()).as(at).isEqualTo(b.train().examples()).isLessThan(spec.batchSize());
            assertThat(a.train().lossSum()).as(at).isCloseTo(b.train().lossSum(), within(1e-5 * Math.abs(b.train().lossSum())));
            assertThat(a.train().correct()).as(at).isEqualTo(b.train().correct());
            assertThat(a.holdout().lossSum()).as(at).isCloseTo(b.holdout().lossSum(), within(1e-5 * Math.abs(b.holdout().lossSum())));
            assertThat(a.train().trainLoss()).as(at).isCloseTo(b.train().trainLoss(), within(1e-5 * Math.abs(b.train().trainLoss())));
            assertThat(lean.learningRate()).as(at).isEqualTo(dl4j.learningRate());
            // sampled when asked, and on the first step after a raise of the rate (the warm restart at step 25)
            if (sample || step == 26) {
                assertSameHealth(a.layers(), b.layers(), at);
            } else {
                assertThat(a.layers()).as(at).isNull();
                assertThat(b.layers()).as(at).isNull();
            }
            switch (step) {
                case 8 -> {
                    lean.saveGood();
                    dl4j.saveGood();
                }
                case 12 -> assertThat(lean.scaleLearningRate(0.5) && dl4j.scaleLearningRate(0.5)).isTrue();
                case 20 -> {
                    assertThat(lean.restoreGood()).isEqualTo(dl4j.restoreGood()).isEqualTo(9);
                }
                case 25 -> assertThat(lean.boostLearningRate(3, 10) && dl4j.boostLearningRate(3, 10)).isTrue();
                default -> {
                }
            }
        }
        assertThat(Measure.relativeDistance(lean.parameters(), dl4j.parameters())).isLessThan(1e-5);
        assertThat(Measure.relativeDistance(lean.optimizerState(), dl4j.optimizerState())).isLessThan(1e-4);
    }

    /** With batch norm the optimizer state is in DL4J's blocks and the running statistics are parameters. */
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "[{dense: {units: 32}}]",
        "[{dense: {units: 32, activation: tanh}}, {batch-norm: {}}, {dense: {units: 16, activation: tanh}}, {batch-norm: {}}]"})
    void aCheckpointOfEitherEngineRestoresIntoTheOtherAndTrainsOnAsTheOtherWould(String layers) throws Exception {
        ModelSpec spec = spec("digits", layers, "{type: adam, learning-rate: 0.01}",
                "{type: warmup-cosine, warmup-steps: 5, total-steps: 60}");
        for (EngineKind from : EngineKind.values()) {
            Network trained = new Network(spec, from);
            for (int step = 0; step < 10; step++) {
                trained.step(batch(spec, "digits", step), false, step);
            }
            // an adjusted schedule is part of the state: it must come back in either engine
            trained.scaleLearningRate(0.25);
            Network.State state = trained.state();
            Network asLean = Network.restore(spec, state, EngineKind.LEAN);
            Network asDl4j = Network.restore(spec, state, EngineKind.DL4J);
            for (Network restored : List.of(asLean, asDl4j)) {
                assertThat(restored.parameters()).as("%s -> %s", from, restored.engine()).containsExactly(trained.parameters());
                assertThat(restored.optimizerState()).as("%s -> %s", from, restored.engine())
                        .containsExactly(trained.optimizerState()).isNotEmpty();
                assertThat(restored.learningRate()).isEqualTo(trained.learningRate());
                assertThat(restored.learningRateScale()).isEqualTo(0.25);
            }
            for (int step = 10; step < 20; step++) {
                StepResult a = asLean.step(batch(spec, "digits", step), false, step);
                StepResult b = asDl4j.step(batch(spec, "digits", step), false, step);
                assertThat(a.train().trainLoss()).isCloseTo(b.train().trainLoss(), within(1e-5 * b.train().trainLoss()));
                assertThat(asLean.learningRate()).isEqualTo(asDl4j.learningRate());
            }
            assertThat(Measure.relativeDistance(asLean.parameters(), asDl4j.parameters())).as("from %s", from).isLessThan(1e-5);
        }
    }

    /**
     * No fallback any more: the shapes that once trained on DL4J (batch norm, then dropout entries in a row) train on
     * the lean engine, and DL4J runs only when asked for by name.
     */
    @Test
    void everySpecTrainsOnTheEngineAskedFor() {
        Network asked = new Network(DigitsNetworks.spec("[{dense: {units: 16}}]"), EngineKind.DL4J);
        assertThat(asked.engine()).isEqualTo(EngineKind.DL4J);
        for (String layers : List.of("[{dense: {units: 16}}]", "[{dense: {units: 16}}, {batch-norm: {}}]",
                "[{dense: {units: 16}}, {dropout: {rate: 0.2}}, {dropout: {rate: 0.1}}]")) {
            Network network = new Network(DigitsNetworks.spec(layers));
            assertThat(network.engine()).as(layers).isEqualTo(EngineKind.LEAN);
        }
    }

    private static void assertSameHealth(List<LayerHealth> lean, List<LayerHealth> dl4j, String at) {
        assertThat(lean).as(at).hasSameSizeAs(dl4j).isNotEmpty();
        for (int i = 0; i < lean.size(); i++) {
            LayerHealth a = lean.get(i);
            LayerHealth b = dl4j.get(i);
            assertThat(a.layer()).isEqualTo(b.layer());
            assertThat(a.gradientNorm()).as("%s %s gradient norm", at, a.layer())
                    .isCloseTo(b.gradientNorm(), within(1e-4 * b.gradientNorm()));
            assertThat(a.updateRatio()).as("%s %s update ratio", at, a.layer())
                    .isCloseTo(b.updateRatio(), within(1e-3 * b.updateRatio()));
            assertThat(a.activationStd()).as("%s %s activation std", at, a.layer())
                    .isCloseTo(b.activationStd(), within(1e-4 * b.activationStd()));
            if (Double.isNaN(b.deadFraction())) {
                assertThat(a.deadFraction()).isNaN();
            } else {
                assertThat(a.deadFraction()).as("%s %s dead fraction", at, a.layer()).isEqualTo(b.deadFraction());
            }
        }
    }

    private static ModelSpec spec(String data, String layers, String optimizer, String schedule) {
        return spec(data, layers, optimizer, schedule, true);
    }

    private static ModelSpec spec(String data, String layers, String optimizer, String schedule, boolean normalize) {
        int inputs = data.equals("digits") ? 64 : WAVEFORM.inputs();
        int classes = data.equals("digits") ? 10 : WAVEFORM.classes();
        return ModelSpecParser.parse("name: agreement\ninputs: " + inputs + "\ntask: classification\noutputs: " + classes
                + "\nnormalize: " + normalize + "\nseed: 5\nlayers: " + layers + "\nloss: cross-entropy\noptimizer: " + optimizer
                + "\nschedule: " + schedule + "\nbatch-size: 24\n");
    }

    @Test
    void aRowsWeightCountsItAsManyTimesOnTheLeanEngine() {
        // plain SGD: a step is the rate times the mean gradient, so rows {a: 2, b: 1} at rate r step as {a, a, b} at 1.5 r
        String layers = "[{dense: {units: 16}}, {dense: {units: 8, activation: tanh}}]";
        ModelSpec weightedSpec = spec("waveform", layers, "{type: sgd, learning-rate: 0.2}", "{type: constant}", false);
        ModelSpec repeatedSpec = spec("waveform", layers, "{type: sgd, learning-rate: 0.3}", "{type: constant}", false);
        Network weighted = new Network(weightedSpec, EngineKind.LEAN);
        Network repeated = new Network(repeatedSpec, EngineKind.LEAN);
        assertThat(weighted.engine()).isEqualTo(EngineKind.LEAN);
        float[] y = new float[weightedSpec.outputs()];
        MiniBatch a = new MiniBatch(weightedSpec.batchSize() * 2, weightedSpec.inputs(), weightedSpec.outputs());
        MiniBatch b = new MiniBatch(weightedSpec.batchSize() * 2, weightedSpec.inputs(), weightedSpec.outputs());
        for (int row = 0; row < 8; row++) {
            java.util.Arrays.fill(y, 0f);
            y[WAVEFORM.labels()[row]] = 1f;
            float weight = row % 2 == 0 ? 2f : 1f;
            a.add(WAVEFORM.features()[row], y, weight, 0);
            for (int copy = 0; copy < weight; copy++) {
                b.add(WAVEFORM.features()[row], y, 1f, 0);
            }
        }
        // without normalisation, so that both see the same inputs
        StepResult first = weighted.step(a, false, 0);
        StepResult second = repeated.step(b, false, 0);
        assertThat(first.train().lossSum()).isCloseTo(second.train().lossSum(), within(1e-5 * second.train().lossSum()));
        float[] p = weighted.parameters();
        float[] q = repeated.parameters();
        float[] initial = new Network(weightedSpec, EngineKind.LEAN).parameters();
        assertThat(Measure.relativeDistance(TestNetworks.difference(initial, p), TestNetworks.difference(initial, q)))
                .isLessThan(1e-4);
    }

    /** Batch {@code step}: every fifth row held out. */
    private static MiniBatch batch(ModelSpec spec, String data, int step) {
        MiniBatch batch = new MiniBatch(spec.batchSize(), spec.inputs(), spec.outputs());
        float[] y = new float[spec.outputs()];
        for (int i = 0; i < spec.batchSize(); i++) {
            int row = step * spec.batchSize() + i;
            float[] x;
            java.util.Arrays.fill(y, 0f);
            if (data.equals("digits")) {
                x = DigitsNetworks.DATA.features()[row];
                y[DigitsNetworks.DATA.labels()[row]] = 1f;
            } else {
                x = WAVEFORM.features()[row];
                y[WAVEFORM.labels()[row]] = 1f;
            }
            batch.add(x, y, 1f, 0, i % 5 == 2);
        }
        return batch;
    }
}
