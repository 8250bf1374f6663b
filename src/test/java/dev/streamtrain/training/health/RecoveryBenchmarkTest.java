package dev.streamtrain.training.health;

import org.jboss.logging.Logger;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import dev.streamtrain.model.ModelSnapshot;
import dev.streamtrain.model.spec.ModelSpec;
import dev.streamtrain.model.spec.ModelSpecParser;
import dev.streamtrain.support.TabularDataset;
import dev.streamtrain.training.ExampleBlock;

/**
 * The recovery figures of the README ("Recovery, measured"): how soon the served model is back after the faults
 * the health answers exist for, with the default health settings, in memory. Per case: the served model's
 * accuracy on the held-out rows (every fifth row of the data set, never trained on) before the fault, its
 * lowest after it, and the examples after the fault until it is back within 90 % of the level before.
 * A benchmark (run with {@code -Pbenchmark -Dtest=RecoveryBenchmarkTest}): it logs a table rather than asserting
 * figures; {@code SgdExplosionTest} and {@code LearningRateInjectionTest} assert the bound through the real broker.
 */
@Tag("benchmark")
class RecoveryBenchmarkTest {

    private static final Logger LOG = Logger.getLogger(RecoveryBenchmarkTest.class);

    record Outcome(String data, String fault, double before, double lowest, long examplesToRecover, double after,
                   int rollbacks, int nonFinite, double finalRate, int publishedNonFinite) {
    }

    static String spec(TabularDataset data, String optimizer, int batch) {
        return """
                name: recovery
                inputs: %d
                task: classification
                outputs: %d
                seed: 7
                layers:
                  - dense: {units: 64, activation: relu}
                  - dense: {units: 64, activation: relu}
                optimizer: %s
                batch-size: %d
                """.formatted(data.inputs(), data.classes(), optimizer, batch);
    }

    /**
     * Trains {@code passes} shuffled passes of the non-held-out rows; {@code faultAtExample} (≥ 0): sets the
     * learning rate to {@code faultRate} there, through the route an operator uses. Measures the served model on
     * the held-out rows every publish.
     */
    static Outcome run(String name, String optimizer, int batch, int passes, long faultAtExample, double faultRate)
            throws Exception {
        TabularDataset data = TabularDataset.load(name);
        ModelSpec spec = ModelSpecParser.parse(spec(data, optimizer, batch));
        HealthHarness harness = new HealthHarness(spec, HealthSettings.defaults());
        List<Integer> heldOut = new ArrayList<>();
        List<ExampleBlock> blocks = new ArrayList<>();
        long offset = 0;
        for (int pass = 0; pass < passes; pass++) {
            for (int row : data.shuffledOrder(pass)) {
                if (row % 5 == 0) {
                    if (pass == 0) {
                        heldOut.add(row);
                    }
                    continue;
                }
                float[] y = new float[data.classes()];
                y[data.labels()[row]] = 1f;
                blocks.add(new ExampleBlock(1, data.features()[row].clone(), y, null, harness.new Handle(offset++)));
            }
        }
        double before = Double.NaN;
        double lowest = Double.NaN;
        double after = Double.NaN;
        long recovered = -1;
        int chunk = batch * 5;
        for (int from = 0; from < blocks.size(); from += chunk) {
            if (faultAtExample >= 0 && from == faultAtExample) {
                before = accuracy(harness.served.current().orElseThrow(), data, heldOut);
                harness.trainer.setLearningRate(faultRate);
                lowest = before;
            }
            harness.train(blocks.subList(from, Math.min(blocks.size(), from + chunk)));
            double served = accuracy(harness.served.current().orElseThrow(), data, heldOut);
            after = served;
            if (faultAtExample >= 0 && from >= faultAtExample) {
                lowest = Math.min(lowest, served);
                if (recovered < 0 && served >= 0.9 * before) {
                    recovered = from + chunk - faultAtExample;
                }
            }
        }
        if (faultAtExample < 0) {
            before = after;
        }
        return new Outcome(name, optimizer + (faultAtExample >= 0 ? " rate set to " + faultRate : ""), before,
                lowest, recovered, after, harness.events("rolled-back").size(),
                harness.events("non-finite-loss").size(), harness.trainer.learningRate(),
                harness.publishedNonFinite);
    }

    static double accuracy(ModelSnapshot snapshot, TabularDataset data, List<Integer> rows) {
        float[] x = new float[rows.size() * data.inputs()];
        for (int i = 0; i < rows.size(); i++) {
            System.arraycopy(data.features()[rows.get(i)], 0, x, i * data.inputs(), data.inputs());
        }
        float[] p = snapshot.predict(x, rows.size());
        int right = 0;
        for (int i = 0; i < rows.size(); i++) {
            int best = 0;
            for (int k = 1; k < data.classes(); k++) {
                best = p[i * data.classes() + k] > p[i * data.classes() + best] ? k : best;
            }
            right += best == data.labels()[rows.get(i)] ? 1 : 0;
        }
        return right / (double) rows.size();
    }

    @Test
    void recoveryAfterTheFaults() throws Exception {
        List<Outcome> outcomes = List.of(
                run("wine", "{type: sgd, learning-rate: 10}", 16, 5, -1, 0),
                run("wine", "{type: sgd, learning-rate: 0.05}", 16, 5, -1, 0),
                run("wine", "{type: sgd, learning-rate: 0.05}", 16, 20, 1440, 10),
                run("wine", "{type: adam, learning-rate: 0.01}", 16, 20, 1440, 10),
                run("digits", "{type: sgd, learning-rate: 10}", 32, 3, -1, 0),
                run("digits", "{type: adam, learning-rate: 0.01}", 32, 4, 2880, 10),
                run("breast-cancer", "{type: adam, learning-rate: 0.01}", 16, 10, 2560, 10));
        StringBuilder table = new StringBuilder(String.format(Locale.ROOT,
                "%n| data | optimizer and fault | served held-out accuracy before | lowest after | examples to 90 %% of"
                        + " before | final | rollbacks | non-finite steps | final rate | non-finite served |%n"));
        for (Outcome o : outcomes) {
            table.append(String.format(Locale.ROOT, "| %s | %s | %.3f | %.3f | %s | %.3f | %d | %d | %.4g | %d |%n",
                    o.data(), o.fault(), o.before(), o.lowest(), o.examplesToRecover() < 0 ? "-"
                            : Long.toString(o.examplesToRecover()), o.after(), o.rollbacks(), o.nonFinite(),
                    o.finalRate(), o.publishedNonFinite()));
        }
        LOG.info(table);
    }
}
