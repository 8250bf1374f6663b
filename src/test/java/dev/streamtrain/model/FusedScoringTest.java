package dev.streamtrain.model;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import dev.streamtrain.demo.DigitsDataset;
import dev.streamtrain.model.spec.ModelSpec;

import static org.assertj.core.api.Assertions.assertThat;


/**
 * {@link Network#step} scoring from the training forward pass (one forward instead of two, where the lean engine's
 * training pass is its inference pass) gives the results of the two-pass step to the bit: the scores, the per-row
 * errors, the training loss and the parameters after every step, on digits, with weighted rows and a sampled step in
 * between. With rows held out the step keeps two passes and still agrees; with dropout the engine does not fuse.
 */
class FusedScoringTest {

    private static final String DENSE = "[{dense: {units: 32, activation: relu}}, {dense: {units: 16, activation: relu}}]";

    @Test
    void oneForwardPassStepsAsTwo() {
        ModelSpec spec = DigitsNetworks.spec(DENSE);
        assertSameSteps(spec, 0, 40);
    }

    @Test
    void heldOutRowsKeepTwoPassesAndAgree() {
        assertSameSteps(DigitsNetworks.spec(DENSE), 5, 20);
    }

    @Test
    void theLeanEngineFusesOnlyWithoutDropoutOrBatchNorm() {
        assertThat(new Network(DigitsNetworks.spec(DENSE)).engineFusesScoring()).isTrue();
        assertThat(new Network(DigitsNetworks.spec("[{dense: {units: 32}}, {dropout: {rate: 0.2}}, {dense: {units: 16}}]"))
                .engineFusesScoring()).isFalse();
        // batch norm trains on the batch's statistics and predicts with the running ones
        assertThat(new Network(DigitsNetworks.spec("[{dense: {units: 32}}, {batch-norm: {}}, {dense: {units: 16}}]"))
                .engineFusesScoring()).isFalse();
        assertThat(new Network(DigitsNetworks.spec(DENSE), EngineKind.DL4J).engineFusesScoring()).isFalse();
    }

    /** Steps a fusing and a two-pass network alike; every {@code holdOutEvery}-th row held out (0: none). */
    private static void assertSameSteps(ModelSpec spec, int holdOutEvery, int steps) {
        Network fused = new Network(spec);
        Network twoPass = new Network(spec);
        twoPass.fuseScoring(false);
        int[] order = DigitsNetworks.DATA.shuffledOrder(3);
        int next = 0;
        for (int s = 0; s < steps; s++) {
            List<MiniBatch> pair = new ArrayList<>();
            for (int copy = 0; copy < 2; copy++) {
                MiniBatch batch = new MiniBatch(spec.batchSize(), spec.inputs(), spec.outputs());
                for (int i = 0; i < spec.batchSize(); i++) {
                    int row = order[(next + i) % order.length];
                    float[] y = new float[DigitsDataset.CLASSES];
                    y[DigitsNetworks.DATA.labels()[row]] = 1f;
                    // every seventh row of the later steps counts twice
                    float weight = s > steps / 2 && i % 7 == 0 ? 2f : 1f;
                    batch.add(DigitsNetworks.DATA.features()[row], y, weight, 0,
                            holdOutEvery > 0 && i % holdOutEvery == 0);
                }
                pair.add(batch);
            }
            next += spec.batchSize();
            // a sampled step in between takes the two-pass path in both: the sequence still agrees after it
            boolean sample = s == 10;
            StepResult a = fused.step(pair.get(0), sample, s);
            StepResult b = twoPass.step(pair.get(1), sample, s);
            assertThat(a.train()).as("step %d", s).isEqualTo(b.train());
            assertThat(a.holdout()).as("step %d", s).isEqualTo(b.holdout());
            assertThat(a.errors()).as("step %d", s).containsExactly(b.errors());
            assertThat(a.fitted()).isEqualTo(b.fitted());
            assertThat(fused.parameters()).as("parameters after step %d", s)
                    .containsExactly(twoPass.parameters());
        }
    }
}
