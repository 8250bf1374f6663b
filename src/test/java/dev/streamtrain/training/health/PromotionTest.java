package dev.streamtrain.training.health;

import org.jboss.logging.Logger;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import dev.streamtrain.demo.DigitsDataset;
import dev.streamtrain.model.ModelSnapshot;
import dev.streamtrain.model.spec.ModelSpec;
import dev.streamtrain.model.spec.ModelSpecParser;
import dev.streamtrain.training.ExampleBlock;
import dev.streamtrain.training.Promotion;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Promotion {@code not-worse}: after 100 good steps the learning rate is set x1000 with the health answer off,
 * and the trainee falls apart. With the rule, serving keeps the last good snapshot (and says so once, with the
 * losses); with {@code always} it serves the wrecked model. Before the change the rule promotes as usual.
 */
class PromotionTest {

    private static final Logger LOG = Logger.getLogger(PromotionTest.class);

    /** The digits of {@link ExplodingGradientTest}, every fifth held out. */
    static List<ExampleBlock> digits(HealthHarness harness, int passes) {
        List<ExampleBlock> blocks = new ArrayList<>(ExplodingGradientTest.digits(harness, passes));
        for (int i = 0; i < blocks.size(); i++) {
            blocks.set(i, blocks.get(i).heldOut(i % 5 == 0));
        }
        return blocks;
    }

    record Run(HealthHarness harness, long servedAtChange, double servedAccuracy) {
    }

    static Run run(Promotion promotion) throws Exception {
        ModelSpec spec = ModelSpecParser.parse(ExplodingGradientTest.SPEC);
        HealthHarness harness = new HealthHarness(spec, ExplodingGradientTest.settings(1.0), 0, promotion);
        List<ExampleBlock> blocks = digits(harness, 4);
        harness.train(blocks.subList(0, 100 * 32));
        long servedAtChange = harness.served.current().orElseThrow().step();
        harness.trainer.setLearningRate(1.0);
        harness.train(blocks.subList(100 * 32, blocks.size()));
        return new Run(harness, servedAtChange, accuracy(harness.served.current().orElseThrow()));
    }

    static double accuracy(ModelSnapshot snapshot) {
        DigitsDataset data = DigitsDataset.load();
        int n = data.size();
        float[] x = new float[n * DigitsDataset.FEATURES];
        for (int i = 0; i < n; i++) {
            System.arraycopy(data.features()[i], 0, x, i * DigitsDataset.FEATURES, DigitsDataset.FEATURES);
        }
        float[] p = snapshot.predict(x, n);
        int right = 0;
        for (int i = 0; i < n; i++) {
            int best = 0;
            for (int k = 1; k < DigitsDataset.CLASSES; k++) {
                best = p[i * DigitsDataset.CLASSES + k] > p[i * DigitsDataset.CLASSES + best] ? k : best;
            }
            right += best == data.labels()[i] ? 1 : 0;
        }
        return right / (double) n;
    }

    @Test
    void aWorseSnapshotIsWithheldAndTheGoodOneKeepsServing() throws Exception {
        Run gated = run(new Promotion(true, 0.0, 64, 256));
        Run always = run(Promotion.ALWAYS);
        long finalStep = gated.harness().trainer.step();
        long served = gated.harness().served.current().orElseThrow().step();
        var withheld = gated.harness().events("snapshot-withheld");
        LOG.infof("not-worse: served step %d of %d (at the change %d), accuracy served %.3f,"
                        + " withheld %d (first %s); always: served %d, accuracy %.3f", served, finalStep,
                gated.servedAtChange(), gated.servedAccuracy(),
                gated.harness().trainer.withheldSnapshots(), withheld.isEmpty() ? "-" : withheld.get(0).detail(),
                always.harness().served.current().orElseThrow().step(), always.servedAccuracy());

        // before the change the rule promoted the improving trainee
        assertThat(gated.servedAtChange()).isGreaterThanOrEqualTo(50);
        // the rule changes what serves, not how the trainee learns: both runs train alike, and with always the
        // final, wrecked trainee serves
        assertThat(always.harness().trainer.step()).isEqualTo(finalStep);
        assertThat(always.harness().trainer.holdoutStats().loss()).isEqualTo(gated.harness().trainer.holdoutStats().loss());
        assertThat(always.harness().served.current().orElseThrow().step()).isEqualTo(finalStep);
        assertThat(always.servedAccuracy()).isLessThan(0.4);
        assertThat(served).isLessThan(finalStep - 100);
        assertThat(gated.servedAccuracy()).isGreaterThan(0.8);
        assertThat(gated.harness().trainer.withheldSnapshots()).isGreaterThan(3);
        assertThat(withheld).hasSize(1);
        assertThat(withheld.get(0).detail()).containsKeys("candidate-holdout-loss", "serving-holdout-loss",
                "serving-version");
        assertThat((double) withheld.get(0).detail().get("candidate-holdout-loss"))
                .isGreaterThan((double) withheld.get(0).detail().get("serving-holdout-loss"));
    }
}
