package dev.streamtrain.training.health;

import org.jboss.logging.Logger;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.List;

import dev.streamtrain.demo.DigitsDataset;
import dev.streamtrain.model.spec.ModelSpec;
import dev.streamtrain.model.spec.ModelSpecParser;
import dev.streamtrain.training.ExampleBlock;
import dev.streamtrain.training.StepReport;
import dev.streamtrain.training.TrainingEvent;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A stream that changes under the model: after four passes over the digits, the labels are permuted (what
 * was a 3 is now called a 4, and so on). The drift is detected within a bounded delay, never on the
 * stationary part, and the configured answer makes accuracy recover faster than no answer does.
 */
class ConceptDriftTest {

    private static final Logger LOG = Logger.getLogger(ConceptDriftTest.class);

    static final int PASSES_BEFORE = 4;
    static final int PASSES_AFTER = 3;
    static final String SPEC = """
            name: drift
            inputs: 64
            task: classification
            outputs: 10
            seed: 9
            layers:
              - dense: {units: 64, activation: relu}
            optimizer: {type: adam, learning-rate: 0.002}
            batch-size: 32
            """;

    static HealthSettings settings(String detector, String answer) {
        HealthSettings d = HealthSettings.defaults();
        return new HealthSettings(10, 25, d.gradients(), d.backoffFactor(), d.minLearningRateScale(),
                d.holdoutHalfLife(), d.overfitting(), new HealthSettings.Drift(detector, 0.002, 30, 0.005, 50,
                1 - 1e-4, answer, 5, 200, 100));
    }

    /** The change point, in examples. */
    static final int CHANGE = PASSES_BEFORE * 1797;

    static HealthHarness run(String detector, String answer) throws Exception {
        ModelSpec spec = ModelSpecParser.parse(SPEC);
        HealthHarness harness = new HealthHarness(spec, settings(detector, answer));
        DigitsDataset data = DigitsDataset.load();
        List<ExampleBlock> blocks = new ArrayList<>();
        long offset = 0;
        for (int pass = 0; pass < PASSES_BEFORE + PASSES_AFTER; pass++) {
            boolean drifted = pass >= PASSES_BEFORE;
            for (int row : data.shuffledOrder(100 + pass)) {
                float[] y = new float[DigitsDataset.CLASSES];
                int label = data.labels()[row];
                y[drifted ? (label + 3) % DigitsDataset.CLASSES : label] = 1f;
                blocks.add(new ExampleBlock(1, data.features()[row].clone(), y, null, harness.new Handle(offset++)));
            }
        }
        return harness.train(blocks);
    }

    /** Prequential accuracy of the steps in [from, to) (steps counted from 1). */
    static double accuracy(HealthHarness harness, int from, int to) {
        long correct = 0;
        long examples = 0;
        for (StepReport report : harness.steps.subList(from - 1, to - 1)) {
            correct += report.score().correct();
            examples += report.score().examples();
        }
        return (double) correct / examples;
    }

    @ParameterizedTest
    @ValueSource(strings = {"adwin", "page-hinkley"})
    void aPermutedLabelingIsDetectedQuicklyAndAnsweredByAWarmRestart(String detector) throws Exception {
        HealthHarness answered = run(detector, "warm-restart");
        HealthHarness unanswered = run(detector, "none");
        HealthHarness reset = run(detector, "reset-moments");
        int changeStep = CHANGE / 32 + 1;
        List<TrainingEvent> drifts = answered.events("drift-detected");
        int window = 60;
        LOG.infof("%s: drifts at %s (change at step %d); acc after change over %d steps: restart %.3f,"
                        + " none %.3f, reset %.3f; end %.3f / %.3f / %.3f", detector,
                drifts.stream().map(TrainingEvent::step).toList(), changeStep, window,
                accuracy(answered, changeStep, changeStep + window), accuracy(unanswered, changeStep, changeStep + window),
                accuracy(reset, changeStep, changeStep + window),
                answered.trainer.stats().recentAccuracy(), unanswered.trainer.stats().recentAccuracy(),
                reset.trainer.stats().recentAccuracy());
        assertThat(drifts).isNotEmpty();
        assertThat(drifts).allMatch(e -> e.step() >= changeStep, "no false alarm on the stationary part");
        assertThat(drifts.get(0).step()).isLessThanOrEqualTo(changeStep + 15);
        assertThat(drifts.get(0).detail().get("answer").toString()).startsWith("learning rate x5");
        assertThat(answered.publishedNonFinite).isZero();
        double none = accuracy(unanswered, changeStep, changeStep + window);
        assertThat(accuracy(answered, changeStep, changeStep + window)).isGreaterThan(none + 0.1);
        assertThat(reset.events("drift-detected").get(0).detail()).containsEntry("answer", "optimizer state reset");
        assertThat(accuracy(reset, changeStep, changeStep + window)).isGreaterThan(none + 0.05);
    }
}
