package dev.streamtrain.training.health;

import org.jboss.logging.Logger;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import dev.streamtrain.demo.DigitsDataset;
import dev.streamtrain.model.spec.ModelSpec;
import dev.streamtrain.model.spec.ModelSpecParser;
import dev.streamtrain.training.ExampleBlock;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The learning rate is set ×1000 at step 100 (a bad hyperparameter change, as an operator could make): the
 * explosion is detected, reported and answered by backing the learning rate off and rolling the model back to
 * its last good state from before the explosion (the batches since trained again at the lower rate); serving
 * never sees a non-finite weight, and the model recovers; without the answer it does not.
 */
class ExplodingGradientTest {

    private static final Logger LOG = Logger.getLogger(ExplodingGradientTest.class);

    static final String SPEC = """
            name: explode
            inputs: 64
            task: classification
            outputs: 10
            seed: 3
            layers:
              - dense: {units: 64, activation: relu}
              - dense: {units: 64, activation: relu}
            optimizer: {type: adam, learning-rate: 0.001}
            batch-size: 32
            """;

    static HealthSettings settings(double backoff) {
        HealthSettings d = HealthSettings.defaults();
        return new HealthSettings(2, 10, new GradientMonitor.Settings(1e-2, 0, 2, 0, 0, 10, 2, 0.5), backoff, 1e-4,
                d.holdoutHalfLife(), d.overfitting(), new HealthSettings.Drift("none", 0.002, 30, 0.005, 50, 0.9999,
                "none", 1, 1, 100));
    }

    static List<ExampleBlock> digits(HealthHarness harness, int passes) {
        DigitsDataset data = DigitsDataset.load();
        List<ExampleBlock> blocks = new ArrayList<>();
        long offset = 0;
        for (int pass = 0; pass < passes; pass++) {
            for (int row : data.shuffledOrder(pass)) {
                float[] y = new float[DigitsDataset.CLASSES];
                y[data.labels()[row]] = 1f;
                blocks.add(new ExampleBlock(1, data.features()[row].clone(), y, null, harness.new Handle(offset++)));
            }
        }
        return blocks;
    }

    static HealthHarness run(ModelSpec spec, HealthSettings settings) throws Exception {
        HealthHarness harness = new HealthHarness(spec, settings);
        List<ExampleBlock> blocks = digits(harness, 5);
        harness.train(blocks.subList(0, 100 * 32));
        assertThat(harness.trainer.step()).isEqualTo(100);
        harness.trainer.setLearningRate(1.0);
        harness.train(blocks.subList(100 * 32, blocks.size()));
        return harness;
    }

    @Test
    void aLearningRateThousandTimesTooHighIsDetectedAndBackedOff() throws Exception {
        ModelSpec spec = ModelSpecParser.parse(SPEC);
        HealthHarness answered = run(spec, settings(0.5));
        HealthHarness unanswered = run(spec, settings(1.0));

        var explosions = answered.events("exploding-gradient");
        LOG.infof("explosions %d, first at %d: %s; lr scale %.4g; lr %.4g; recent acc %.3f vs %.3f; non-finite %d",
                explosions.size(), explosions.isEmpty() ? -1 : explosions.get(0).step(),
                explosions.isEmpty() ? "" : explosions.get(0).detail(),
                answered.trainer.health().view().learningRateScale(), answered.trainer.learningRate(),
                answered.trainer.stats().recentAccuracy(), unanswered.trainer.stats().recentAccuracy(),
                answered.events("non-finite-loss").size());
        assertThat(explosions).isNotEmpty();
        assertThat(explosions).allMatch(e -> e.step() > 100, "no explosion before the learning rate jumps");
        assertThat(explosions.get(0).step()).isLessThanOrEqualTo(110);
        assertThat(explosions.get(0).detail().get("answer").toString()).startsWith("learning rate x0.5");
        // the operator's x1000 (scale 1000) halved until the updates were back in range, and each explosion undone:
        // back to the good state from before it, the batches since trained again at the lower rate
        // (recoveries since climb back x2 every 500 stable steps towards the operator's 1.0; each climb's first step
        // is measured and a spike there is an explosion too, so the rate stays far below it)
        assertThat(answered.trainer.learningRate()).isLessThan(0.1);
        assertThat(answered.events("rolled-back")).hasSameSizeAs(explosions)
                .allMatch(e -> "exploding-gradient".equals(e.detail().get("reason")));
        assertThat(unanswered.events("rolled-back")).isEmpty();
        assertThat(unanswered.trainer.learningRate()).isEqualTo(1.0);
        assertThat(answered.publishedNonFinite).isZero();
        assertThat(unanswered.publishedNonFinite).isZero();
        // undone, not only damped: the model learns on as if the operator's mistake had been small
        assertThat(answered.trainer.stats().recentAccuracy())
                .isGreaterThan(0.9)
                .isGreaterThan(unanswered.trainer.stats().recentAccuracy() + 0.5);
        assertThat(unanswered.events("exploding-gradient")).allMatch(e -> e.detail().get("answer").toString()
                .startsWith("none"));
    }
}
