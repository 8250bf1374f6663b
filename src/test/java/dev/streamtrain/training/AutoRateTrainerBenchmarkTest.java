package dev.streamtrain.training;

import org.jboss.logging.Logger;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

import dev.streamtrain.model.ComputeSettings;
import dev.streamtrain.model.Network;
import dev.streamtrain.model.spec.ModelSpec;
import dev.streamtrain.model.spec.ModelSpecParser;
import dev.streamtrain.support.Measure;
import dev.streamtrain.support.TabularDataset;
import dev.streamtrain.support.TestRecord;
import dev.streamtrain.training.health.HealthSettings;
import dev.streamtrain.training.health.TrainingHealth;
import dev.streamtrain.tuning.PopulationTuner;
import dev.streamtrain.tuning.TunerSettings;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code learning-rate: auto} inside the trainer (the guard, the default health monitors, the serving member
 * switching) against fixed rates, one pass test-then-train through {@link OnlineTrainer}: first-pass prequential
 * accuracy and examples/s of the whole pass, the runs of one stream interleaved (fixed 1e-3, 1e-2 and 3e-2, auto with
 * populations of 2, 4 and 8 at the default settings otherwise; three rounds, medians of the speeds). The figures are
 * in docs/learning-rate-auto.md ("In the service, measured" and "Cost").
 */
@Tag("benchmark")
class AutoRateTrainerBenchmarkTest {

    private static final Logger LOG = Logger.getLogger(AutoRateTrainerBenchmarkTest.class);

    @Test
    void autoInTheTrainerAgainstFixedRates() throws Exception {
        ComputeSettings.apply(Optional.of(1), null);
        for (String[] stream : new String[][] {{"digits", "128"}, {"waveform", "64"}, {"rbf", "128"},
                {"sea-drift", "32"}}) {
            TabularDataset data = TabularDataset.load(stream[0]);
            String[] rates = {"0.001", "0.01", "0.03", "auto/2", "auto/4", "auto/8"};
            double[][] accuracy = new double[rates.length][3];
            double[][] speed = new double[rates.length][3];
            for (int round = 0; round < 3; round++) {
                int[] order = stream[0].equals("digits") ? data.shuffledOrder(round) : null;
                for (int r = 0; r < rates.length; r++) {
                    String[] rate = rates[r].split("/");
                    ModelSpec spec = ModelSpecParser.parse(spec(data, stream[1], rate[0], 7 + round));
                    double[] result = pass(spec, data, order, rate.length > 1 ? Integer.parseInt(rate[1]) : 0);
                    accuracy[r][round] = result[0];
                    speed[r][round] = result[1];
                }
            }
            for (int r = 0; r < rates.length; r++) {
                double[] ratio = new double[3];
                for (int round = 0; round < 3; round++) {
                    ratio[round] = speed[r][round] / speed[1][round];
                }
                LOG.info(String.format(Locale.ROOT, "%s %s: accuracy %.1f %% (mean of 3: %.1f, %.1f, %.1f), %.0f ex/s (median"
                        + " of 3), %.2f of fixed 0.01's (median of the rounds' ratios; load average %.1f)", stream[0],
                        rates[r], 100 * mean(accuracy[r]), 100 * accuracy[r][0], 100 * accuracy[r][1],
                        100 * accuracy[r][2], Measure.median(speed[r]), Measure.median(ratio),
                        ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage()));
            }
            assertThat(mean(accuracy[4])).as(stream[0] + ": auto against Adam's default rate")
                    .isGreaterThan(mean(accuracy[0]));
        }
    }

    private static String spec(TabularDataset data, String units, String rate, long seed) {
        return "name: " + data.name() + "\ninputs: " + data.inputs() + "\ntask: classification\noutputs: "
                + data.classes() + "\nnormalize: true\nseed: " + seed + "\nlayers: [{dense: {units: " + units
                + ", activation: relu}}]\nloss: cross-entropy\noptimizer: {type: adam, learning-rate: " + rate
                + "}\nbatch-size: 32\n";
    }

    // one pass through the trainer: {prequential accuracy, examples per second}
    private static double[] pass(ModelSpec spec, TabularDataset data, int[] order, int population)
            throws InterruptedException {
        ExampleBatcher batcher = new ExampleBatcher(1 << 16);
        List<ExampleBlock> blocks = new ArrayList<>();
        for (int i = 0; i < data.size(); i++) {
            int row = order == null ? i : order[i];
            float[] y = new float[data.classes()];
            y[data.labels()[row]] = 1f;
            blocks.add(new ExampleBlock(1, data.features()[row].clone(), y, null, new TestRecord(i)));
        }
        PopulationTuner tuner = spec.optimizer().autoLearningRate()
                ? PopulationTuner.create(spec, TunerSettings.defaults(spec.seed()).withPopulation(population)) : null;
        OnlineTrainer trainer = new OnlineTrainer(tuner == null ? new Network(spec) : null, tuner,
                OnlineTrainer.freshState(), batcher, new ServedModel(), List.of(),
                new OnlineTrainer.Settings(Duration.ZERO, 1000, Duration.ofHours(1), 1000, 0, Duration.ofHours(1)),
                null, new TrainingHealth(HealthSettings.defaults(), TrainingEvents.NONE), RecordGuard.OFF);
        for (ExampleBlock block : blocks) {
            batcher.submit(block);
        }
        long start = System.nanoTime();
        while (trainer.trainOnce(0)) {
            // one pass
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        return new double[] {trainer.stats().accuracy(), trainer.stats().examples() / seconds};
    }

    private static double mean(double[] values) {
        double sum = 0;
        for (double v : values) {
            sum += v;
        }
        return sum / values.length;
    }
}
