package dev.streamtrain.training;

import org.jboss.logging.Logger;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

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
 * accuracy and examples/s of the whole pass, the runs of one stream interleaved (fixed 1e-3, fixed 1e-2, auto; three
 * rounds, medians of the speeds). The figures are in docs/learning-rate-auto.md ("In the service, measured").
 */
@Tag("benchmark")
class AutoRateTrainerBenchmarkTest {

    private static final Logger LOG = Logger.getLogger(AutoRateTrainerBenchmarkTest.class);

    @Test
    void autoInTheTrainerAgainstFixedRates() throws Exception {
        ComputeSettings.apply(Optional.of(1), null);
        for (String[] stream : new String[][] {{"digits", "128"}, {"waveform", "64"}, {"rbf", "128"}}) {
            TabularDataset data = TabularDataset.load(stream[0]);
            String[] rates = {"0.001", "0.01", "auto"};
            double[][] accuracy = new double[rates.length][3];
            double[][] speed = new double[rates.length][3];
            for (int round = 0; round < 3; round++) {
                int[] order = stream[0].equals("digits") ? data.shuffledOrder(round) : null;
                for (int r = 0; r < rates.length; r++) {
                    ModelSpec spec = ModelSpecParser.parse(spec(data, stream[1], rates[r], 7 + round));
                    double[] result = pass(spec, data, order);
                    accuracy[r][round] = result[0];
                    speed[r][round] = result[1];
                }
            }
            for (int r = 0; r < rates.length; r++) {
                LOG.info(String.format(Locale.ROOT, "%s %s: accuracy %.1f %% (mean of 3: %.1f, %.1f, %.1f), %.0f ex/s (median"
                        + " of 3), %.2f of fixed 0.01's", stream[0], rates[r], 100 * mean(accuracy[r]),
                        100 * accuracy[r][0], 100 * accuracy[r][1], 100 * accuracy[r][2], Measure.median(speed[r]),
                        Measure.median(speed[r]) / Measure.median(speed[1])));
            }
            assertThat(mean(accuracy[2])).as(stream[0] + ": auto against Adam's default rate")
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
    private static double[] pass(ModelSpec spec, TabularDataset data, int[] order) throws InterruptedException {
        ExampleBatcher batcher = new ExampleBatcher(1 << 16);
        List<ExampleBlock> blocks = new ArrayList<>();
        for (int i = 0; i < data.size(); i++) {
            int row = order == null ? i : order[i];
            float[] y = new float[data.classes()];
            y[data.labels()[row]] = 1f;
            blocks.add(new ExampleBlock(1, data.features()[row].clone(), y, null, new TestRecord(i)));
        }
        PopulationTuner tuner = spec.optimizer().autoLearningRate()
                ? PopulationTuner.create(spec, TunerSettings.defaults(spec.seed())) : null;
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
