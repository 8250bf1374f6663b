package dev.streamtrain.model;

import org.junit.jupiter.api.Test;

import dev.streamtrain.model.spec.ModelSpec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** A restored network continues exactly where the saved one stopped: weights, optimizer moments, schedule. */
class NetworkStateTest {

    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.CsvSource(delimiter = '|', value = {
        "[{dense: {units: 16}}] | {type: constant} | {type: none}",
        "[{dense: {units: 16}}] | {type: constant} | {type: global-norm, threshold: 1.0}",
        "[{dense: {units: 16}}, {batch-norm: {}}] | {type: constant} | {type: none}",
        "[{dense: {units: 16}}, {residual: {units: 16, norm: layer}}] | {type: constant} | {type: none}",
        "[{dense: {units: 16}}] | {type: warmup-cosine, warmup-steps: 3, total-steps: 50} | {type: none}",
        "[{dense: {units: 16}}, {batch-norm: {}}, {residual: {units: 16, norm: layer}}] | {type: warmup-cosine, warmup-steps: 3, total-steps: 50} | {type: global-norm, threshold: 1.0}",
        "[{dense: {units: 16}}, {dense: {units: 8}}] | {type: step, factor: 0.5, every: 2} | {type: layer-norm, threshold: 1.0}",
    })
    void theStepAfterARestoreEqualsTheStepWithoutOne(String layers, String schedule, String clipping) throws Exception {
        ModelSpec spec = TestNetworks.spec(layers, "{type: adam, learning-rate: 0.01}", schedule, clipping, true);
        Network original = new Network(spec);
        for (int i = 0; i < 6; i++) {
            original.trainStep(TestNetworks.randomBatch(spec, i));
        }
        Network restored = Network.restore(spec, original.state());
        assertThat(restored.parameters()).containsExactly(original.parameters());
        assertThat(restored.learningRate()).isEqualTo(original.learningRate());

        for (int i = 6; i < 9; i++) {
            BatchScore a = original.trainStep(TestNetworks.randomBatch(spec, i));
            BatchScore b = restored.trainStep(TestNetworks.randomBatch(spec, i));
            assertThat(b.lossSum()).as("step %d: original %s restored %s", i, a, b).isEqualTo(a.lossSum());
        }
        // Adam's moments came back too: a fresh optimizer on the same weights would step differently
        assertThat(restored.parameters()).containsExactly(original.parameters());
    }

    @Test
    void aStateOfAnotherShapeIsRefused() {
        ModelSpec small = TestNetworks.spec("[{dense: {units: 4}}]", null, null, null, true);
        ModelSpec large = TestNetworks.spec("[{dense: {units: 8}}]", null, null, null, true);
        Network.State state = new Network(small).state();
        assertThatThrownBy(() -> Network.restore(large, state)).hasMessageContaining("shape");
    }

    @Test
    void aCaptureKeepsTheStateOfItsStepWhileTrainingGoesOn() throws Exception {
        ModelSpec spec = TestNetworks.spec("[{dense: {units: 16}}]", "{type: adam, learning-rate: 0.01}", null, null, true);
        Network network = new Network(spec);
        for (int i = 0; i < 4; i++) {
            network.trainStep(TestNetworks.randomBatch(spec, i));
        }
        Network.State atStep4 = network.state();
        try (Capture capture = network.capture()) {
            for (int i = 4; i < 8; i++) {
                network.trainStep(TestNetworks.randomBatch(spec, i));
            }
            Network fromCapture = Network.restore(spec, capture.serialize());
            Network fromState = Network.restore(spec, atStep4);
            assertThat(fromCapture.parameters()).containsExactly(fromState.parameters())
                    .isNotEqualTo(network.parameters());
            assertThat(fromCapture.optimizerState()).containsExactly(fromState.optimizerState()).isNotEmpty();
        }
    }
}
