package dev.streamtrain.training.health;

import org.jboss.logging.Logger;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import dev.streamtrain.model.spec.ModelSpec;
import dev.streamtrain.model.spec.ModelSpecParser;
import dev.streamtrain.support.TabularDataset;
import dev.streamtrain.training.ExampleBlock;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Plain SGD at rates far too high for a ReLU network (wine: 13 features of very different scales) either overflows
 * the loss (a rollback, judged on the last good state) or, as often, kills a hidden layer: its units stop firing
 * for every example, no gradient flows, the output is constant and the loss looks like a fresh model's — finite
 * and sane, so no loss test sees it. The guard sees the dead layer on a sampled step, rolls back to the last good
 * state (whose layers fired) and backs the rate off. Across rates and seeds, the served model ends up classifying
 * the wine well every time, no record is dead-lettered and nothing non-finite is served; at healthy rates, on
 * two data sets of different shape, the guard never rolls back.
 */
class DeadLayerTest {

    private static final Logger LOG = Logger.getLogger(DeadLayerTest.class);

    static List<ExampleBlock> stream(TabularDataset data, HealthHarness harness, int passes) {
        List<ExampleBlock> blocks = new ArrayList<>();
        int offset = 0;
        for (int pass = 0; pass < passes; pass++) {
            for (int row : data.shuffledOrder(pass)) {
                float[] y = new float[data.classes()];
                y[data.labels()[row]] = 1f;
                blocks.add(new ExampleBlock(1, data.features()[row].clone(), y, null, harness.new Handle(offset++)));
            }
        }
        return blocks;
    }

    static ModelSpec spec(TabularDataset data, String optimizer, double rate, int seed) {
        return ModelSpecParser.parse("""
                name: %s
                inputs: %d
                task: classification
                outputs: %d
                seed: %d
                layers:
                  - dense: {units: 64, activation: relu}
                  - dense: {units: 64, activation: relu}
                optimizer: {type: %s, learning-rate: %s}
                batch-size: 16
                """.formatted(data.name(), data.inputs(), data.classes(), seed, optimizer, rate));
    }

    @Test
    void aLayerKilledByATooHighRateIsRolledBackAndTheModelLearns() throws Exception {
        TabularDataset wine = TabularDataset.load("wine");
        long deaths = 0;
        for (double rate : new double[] {2, 3, 5, 10}) {
            for (int seed = 1; seed <= 4; seed++) {
                HealthHarness h = new HealthHarness(spec(wine, "sgd", rate, seed), HealthSettings.defaults());
                h.train(stream(wine, h, 5));
                long dead = h.events("rolled-back").stream()
                        .filter(e -> "dead-layer".equals(e.detail().get("reason"))).count();
                deaths += dead;
                double served = WineStream.accuracy(h.served.current().orElseThrow());
                LOG.infof("sgd %s, seed %d: %d rollbacks (%d dead layer), rate now %s, prequential %.3f, served %.3f",
                        rate, seed, h.events("rolled-back").size(), dead, h.trainer.learningRate(),
                        h.trainer.stats().accuracy(), served);
                assertThat(served).as("served accuracy, sgd %s seed %d", rate, seed).isGreaterThan(0.95);
                assertThat(h.quarantined).isEmpty();
                assertThat(h.publishedNonFinite).isZero();
                assertThat(h.trainer.learningRate()).isLessThan(rate);
            }
        }
        // the rule is exercised: without it (the loss tests alone) several of these runs end at chance
        assertThat(deaths).isGreaterThanOrEqualTo(4);
    }

    @Test
    void healthyRatesNeverRollBack() throws Exception {
        for (String name : List.of("wine", "breast-cancer")) {
            TabularDataset data = TabularDataset.load(name);
            for (String optimizer : List.of("sgd 0.05", "adam 0.01", "adam 0.001")) {
                String[] o = optimizer.split(" ");
                HealthHarness h = new HealthHarness(spec(data, o[0], Double.parseDouble(o[1]), 1),
                        HealthSettings.defaults());
                h.train(stream(data, h, 20));
                LOG.infof("%s, %s: %d rollbacks, prequential %.3f", name, optimizer, h.events("rolled-back").size(),
                        h.trainer.stats().accuracy());
                assertThat(h.events("rolled-back")).as("%s %s", name, optimizer).isEmpty();
                assertThat(h.events("non-finite-loss")).isEmpty();
                assertThat(h.trainer.stats().recentAccuracy()).isGreaterThan(0.85);
            }
        }
    }
}
