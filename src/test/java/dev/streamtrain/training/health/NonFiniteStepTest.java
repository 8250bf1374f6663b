package dev.streamtrain.training.health;

import org.jboss.logging.Logger;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.IntFunction;

import dev.streamtrain.demo.DigitsDataset;
import dev.streamtrain.model.spec.ModelSpec;
import dev.streamtrain.model.spec.ModelSpecParser;
import dev.streamtrain.model.Network;
import dev.streamtrain.training.ExampleBlock;
import dev.streamtrain.training.TrainingEvent;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A non-finite step is judged on the last good state. A poisoned record (finite values so large that the loss or
 * the weights overflow) is the record's fault: it alone is dead-lettered as {@code non-finite}, the rest of its
 * mini-batch trains, and the model and its optimizer state are exactly those of a run that never saw the record.
 * A model that breaks on good records (a learning rate far too high) is the model's fault: it goes back to the
 * last good state, the learning rate is backed off, the batches since are trained again, the batch is tried
 * again, and no record is dead-lettered. Serving never sees a non-finite weight.
 */
class NonFiniteStepTest {

    private static final Logger LOG = Logger.getLogger(NonFiniteStepTest.class);

    static final int POISONED_BATCH = 23;
    static final int BATCH = 32;
    static final long POISONED_OFFSET = POISONED_BATCH * BATCH + 7;

    static HealthSettings settings(double backoff) {
        HealthSettings d = HealthSettings.defaults();
        // no sampling: the poisoned run and the reference must take exactly the same arithmetic path
        return new HealthSettings(0, 10, d.gradients(), backoff, 1e-3, d.holdoutHalfLife(), d.overfitting(),
                new HealthSettings.Drift("none", 0.002, 30, 0.005, 50, 0.9999, "none", 1, 1, 10));
    }

    /**
     * The reference: the same stream without the poisoned record, cut so that its mini-batches are those of the
     * poisoned run (the poisoned batch trains with one row fewer).
     */
    static HealthHarness reference(ModelSpec spec, boolean classification) throws InterruptedException {
        HealthHarness reference = new HealthHarness(spec, settings(1.0));
        List<ExampleBlock> blocks = stream(reference, classification, i -> null, false);
        int cut = (POISONED_BATCH + 1) * BATCH - 1;
        reference.train(blocks.subList(0, cut));
        reference.train(blocks.subList(cut, blocks.size()));
        return reference;
    }

    static List<ExampleBlock> stream(HealthHarness harness, boolean classification, IntFunction<float[]> poison,
                                     boolean withPoisonedBatch) {
        DigitsDataset data = DigitsDataset.load();
        List<ExampleBlock> blocks = new ArrayList<>();
        int[] order = data.shuffledOrder(1);
        for (int i = 0; i < order.length; i++) {
            int row = order[i];
            boolean poisoned = i == POISONED_OFFSET;
            if (poisoned && !withPoisonedBatch) {
                continue;
            }
            float[] x = data.features()[row].clone();
            float[] y;
            if (classification) {
                y = new float[DigitsDataset.CLASSES];
                y[data.labels()[row]] = 1f;
            } else {
                y = new float[] {data.labels()[row]};
            }
            if (poisoned) {
                float[] bad = poison.apply(0);
                if (bad.length == x.length) {
                    x = bad;
                } else {
                    y = bad;
                }
            }
            blocks.add(new ExampleBlock(1, x, y, null, harness.new Handle(i)));
        }
        return blocks;
    }

    static final String CLASSIFIER = """
            name: poison
            inputs: 64
            task: classification
            outputs: 10
            normalize: false
            seed: 5
            layers:
              - dense: {units: 64, activation: relu}
            optimizer: {type: adam, learning-rate: 0.001}
            batch-size: 32
            """;

    @Test
    void aRecordWhoseLossOverflowsIsDeadLetteredAndTheRestOfItsBatchTrains() throws Exception {
        ModelSpec spec = ModelSpecParser.parse(CLASSIFIER);
        float[] huge = new float[64];
        java.util.Arrays.fill(huge, 3e38f);
        HealthHarness poisoned = new HealthHarness(spec, settings(0.5));
        poisoned.train(stream(poisoned, true, i -> huge, true));
        HealthHarness reference = reference(spec, true);

        List<TrainingEvent> events = poisoned.events("non-finite-loss");
        assertThat(events).hasSize(1);
        assertThat(events.get(0).step()).isEqualTo(POISONED_BATCH + 1);
        assertThat(events.get(0).detail()).containsEntry("non-finite", "loss").containsEntry("blamed", "records")
                .containsEntry("quarantined-records", 1).containsEntry("records", List.of("memory-0@" + POISONED_OFFSET));
        assertThat(poisoned.quarantined).extracting(h -> h.offset).containsExactly(POISONED_OFFSET);
        assertThat(poisoned.quarantined).allMatch(h -> "non-finite".equals(h.reason));
        assertThat(poisoned.trained).hasSize(1797 - 1);
        // the records were at fault, not the model: no back-off, no rollback of the model, no alarm
        assertThat(poisoned.trainer.learningRate()).isEqualTo(0.001);
        assertThat(poisoned.events("rolled-back")).isEmpty();
        assertThat(poisoned.trainer.health().view().alarms()).containsEntry("non-finite", false);
        // weights and Adam's moments equal those of a run that never saw the record
        Network after = network(poisoned, spec);
        Network expected = network(reference, spec);
        assertThat(Arrays.equals(after.parameters(), expected.parameters())).as("same weights").isTrue();
        assertThat(Arrays.equals(after.optimizerState(), expected.optimizerState())).as("same Adam state").isTrue();
        assertThat(poisoned.publishedNonFinite).isZero();
    }

    static final String REGRESSION = """
            name: poison-regression
            inputs: 64
            task: regression
            outputs: 1
            seed: 5
            layers:
              - dense: {units: 64, activation: relu}
            loss: mse
            optimizer: {type: adam, learning-rate: 0.001}
            batch-size: 32
            """;

    @Test
    void aRecordThatMakesTheWeightsOverflowIsBlamedAndTheModelIsExactlyAsWithoutIt() throws Exception {
        ModelSpec spec = ModelSpecParser.parse(REGRESSION);
        HealthHarness poisoned = new HealthHarness(spec, settings(0.5));
        poisoned.train(stream(poisoned, false, i -> new float[] {3e38f}, true));
        HealthHarness reference = reference(spec, false);

        List<TrainingEvent> events = poisoned.events("non-finite-loss");
        assertThat(events).hasSize(1);
        assertThat(events.get(0).detail()).containsEntry("non-finite", "parameters").containsEntry("blamed", "records");
        assertThat(poisoned.quarantined).extracting(h -> h.offset).containsExactly(POISONED_OFFSET);
        // the step was taken and broke the weights: back to the good state of step 20, steps 21-23 trained again,
        // then the batch of step 24 without the record: as if the record had never come
        Network after = network(poisoned, spec);
        Network expected = network(reference, spec);
        assertThat(Arrays.equals(after.parameters(), expected.parameters())).as("same weights").isTrue();
        assertThat(Arrays.equals(after.optimizerState(), expected.optimizerState())).as("same Adam state").isTrue();
        assertThat(poisoned.trainer.learningRate()).isEqualTo(0.001);
        assertThat(poisoned.publishedNonFinite).isZero();
    }

    @Test
    void anOptimizerStateThatOverflowsWhileTheWeightsStayFiniteIsFoundAndUndone() throws Exception {
        // features of 3e10 without normalisation: the loss and the weights stay finite, but squared gradients
        // overflow, so Adam's second moment becomes infinite and would freeze the weights for good
        ModelSpec spec = ModelSpecParser.parse(REGRESSION.replace("seed: 5", "seed: 5\nnormalize: false"));
        float[] big = new float[64];
        java.util.Arrays.fill(big, 3e10f);
        HealthHarness poisoned = new HealthHarness(spec, settings(1.0));
        poisoned.train(stream(poisoned, false, i -> big, true));

        List<TrainingEvent> events = poisoned.events("non-finite-loss");
        LOG.info("optimizer-state case: " + events);
        assertThat(events).hasSize(1);
        assertThat(events.get(0).detail()).containsEntry("non-finite", "optimizer-state");
        // found at the next check (a publish, every 5 steps here, or the good state, every 10), undone by
        // replaying the batches since step 20 without that of step 24
        assertThat(events.get(0).step()).isBetween(24L, 30L);
        assertThat(events.get(0).detail().get("action").toString()).endsWith("left out the batches of steps [24]");
        Network after = network(poisoned, spec);
        assertThat(after.stateFinite()).isTrue();
        assertThat(poisoned.publishedNonFinite).isZero();
    }

    static Network network(HealthHarness harness, ModelSpec spec) throws Exception {
        try (var snapshot = harness.trainer.snapshot()) {
            return Network.restore(spec, snapshot.network().serialize());
        }
    }

    @Test
    void aModelThatBreaksOnGoodRecordsIsRolledBackBackedOffAndTrainsTheBatchAgain() throws Exception {
        ModelSpec spec = ModelSpecParser.parse(REGRESSION.replace("type: adam", "type: sgd"));
        HealthHarness harness = new HealthHarness(spec, settings(0.5));
        List<ExampleBlock> blocks = stream(harness, false, i -> null, false);
        harness.train(blocks.subList(0, 20 * BATCH));
        double before = harness.steps.get(harness.steps.size() - 1).score().meanLoss();
        double rate = harness.trainer.learningRate();
        // an operator's rate 10,000 times too high: plain SGD's weights overflow within a few steps
        harness.trainer.setLearningRate(10);
        harness.train(blocks.subList(20 * BATCH, blocks.size()));

        List<TrainingEvent> events = harness.events("non-finite-loss");
        LOG.infof("model at fault: %d non-finite steps, %d rollbacks, final rate %s: %s", events.size(),
                harness.events("rolled-back").size(), harness.trainer.learningRate(), events);
        assertThat(events).allMatch(e -> "model".equals(e.detail().get("blamed")));
        // the step after the raise is measured even with sampling off: its update spike is an explosion, rolled back
        // to the state before the raise, with the rate it was reached at, before the weights overflow
        List<TrainingEvent> explosions = harness.events("exploding-gradient");
        assertThat(explosions).first().satisfies(e -> {
            assertThat(e.step()).isEqualTo(21);
            assertThat(e.detail()).containsEntry("reason", "update-ratio-spike-after-raise");
        });
        assertThat(harness.events("rolled-back")).hasSize(events.size() + explosions.size());
        // no good record is dead-lettered for a broken model; every one is trained
        assertThat(harness.quarantined).isEmpty();
        assertThat(harness.trained).hasSize(blocks.size());
        assertThat(harness.trainer.learningRate()).isEqualTo(rate);
        assertThat(harness.publishedNonFinite).isZero();
        // training went on and kept learning after the rollbacks
        var after = harness.steps.subList(20, harness.steps.size());
        assertThat(after).allMatch(r -> Double.isFinite(r.score().meanLoss()));
        assertThat(harness.steps.get(harness.steps.size() - 1).score().meanLoss()).isLessThan(before);
        assertThat(harness.trainer.health().view().alarms()).containsEntry("non-finite", false);
    }
}
