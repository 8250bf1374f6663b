package dev.streamtrain.training;

import org.jboss.logging.Logger;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.LongFunction;

import dev.streamtrain.model.ComputeSettings;
import dev.streamtrain.model.Network;
import dev.streamtrain.model.spec.ModelSpec;
import dev.streamtrain.model.spec.ModelSpecParser;
import dev.streamtrain.support.TabularDataset;
import dev.streamtrain.support.TestRecord;
import dev.streamtrain.training.health.HealthSettings;
import dev.streamtrain.training.health.TrainingHealth;
import dev.streamtrain.tuning.PopulationTuner;
import dev.streamtrain.tuning.TunerSettings;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The tuner's settings compared in the trainer's path (the guard, the default health monitors with their drift
 * detector and warm restart, the serving member switching): one pass, test-then-train through {@link OnlineTrainer}
 * on the digits, waveform, rbf, sea-drift and the permuted digits, three seeds each (network seed 7 + s, the digits
 * shuffled by s), against fixed rates measured the same way. Logs per variant and stream the mean first-pass
 * prequential accuracy with its range over the seeds, and for the drifting streams the accuracy in windows of
 * batches after the drift. {@code -Dsweep.variants=defaults,...} picks variants (all when absent: a long run),
 * {@code -Dsweep.streams=digits,...} the streams, {@code -Dsweep.fixed=0.01,0.03} the fixed rates. The figures are in
 * docs/learning-rate-auto.md ("Second round"; "defaults" there is "span 1-30, drift x10"). The ranking by the recent
 * error instead of the loss was tried with a throwaway change of {@code Member} and is not reproduced here.
 */
@Tag("benchmark")
class AutoRateTrainerSweepTest {

    private static final Logger LOG = Logger.getLogger(AutoRateTrainerSweepTest.class);
    private static final int SEEDS = 3;

    /** A stream: its rows in arrival order, its hidden units and the batch of its drift (-1: none). */
    private record Stream(String name, float[][] features, int[] labels, int classes, int units, int driftBatch) {
    }

    /** The variants compared: the tuner's settings for seed {@code s}. */
    private static Map<String, LongFunction<TunerSettings>> variants() {
        Map<String, LongFunction<TunerSettings>> v = new LinkedHashMap<>();
        v.put("defaults", TunerSettings::defaults);
        // the first round's defaults, and one change at a time from them
        v.put("first-round", s -> new TunerSettings(4, 0.1, 100, 4, 8, 0.25, 2.0, 1e-3, 1e3, s));
        v.put("span0.3-100", s -> new TunerSettings(4, 0.3, 100, 4, 8, 0.25, 2.0, 1e-3, 1e3, s));
        v.put("span1-30", s -> new TunerSettings(4, 1, 30, 4, 8, 0.25, 2.0, 1e-3, 1e3, s));
        v.put("early2x16", s -> new TunerSettings(4, 0.1, 100, 4, 8, 0.25, 2.0, 1e-3, 1e3, s, 2, 16, 0));
        v.put("early1x8", s -> new TunerSettings(4, 0.1, 100, 4, 8, 0.25, 2.0, 1e-3, 1e3, s, 1, 8, 0));
        v.put("halflife4", s -> new TunerSettings(4, 0.1, 100, 4, 4, 0.25, 2.0, 1e-3, 1e3, s));
        v.put("drift10", s -> new TunerSettings(4, 0.1, 100, 4, 8, 0.25, 2.0, 1e-3, 1e3, s, 0, 0, 10));
        v.put("drift30", s -> new TunerSettings(4, 0.1, 100, 4, 8, 0.25, 2.0, 1e-3, 1e3, s, 0, 0, 30));
        v.put("early2x16-drift10", s -> new TunerSettings(4, 0.1, 100, 4, 8, 0.25, 2.0, 1e-3, 1e3, s, 2, 16, 10));
        // combinations on the span 1-30
        v.put("s30-e2x16-d10", s -> new TunerSettings(4, 1, 30, 4, 8, 0.25, 2.0, 1e-3, 1e3, s, 2, 16, 10));
        v.put("s30-e2x16-d30", s -> new TunerSettings(4, 1, 30, 4, 8, 0.25, 2.0, 1e-3, 1e3, s, 2, 16, 30));
        v.put("s30-e2x16-d10-h16", s -> new TunerSettings(4, 1, 30, 4, 16, 0.25, 2.0, 1e-3, 1e3, s, 2, 16, 10));
        v.put("s30-e2x16-d10-p1.5", s -> new TunerSettings(4, 1, 30, 4, 8, 0.25, 1.5, 1e-3, 1e3, s, 2, 16, 10));
        v.put("s100-e2x16-d10", s -> new TunerSettings(4, 1, 100, 4, 8, 0.25, 2.0, 1e-3, 1e3, s, 2, 16, 10));
        v.put("s0.3-30-e2x16-d10", s -> new TunerSettings(4, 0.3, 30, 4, 8, 0.25, 2.0, 1e-3, 1e3, s, 2, 16, 10));
        // tried on sea-drift
        v.put("s100-e2x16-d10-p1.5", s -> new TunerSettings(4, 1, 100, 4, 8, 0.25, 1.5, 1e-3, 1e3, s, 2, 16, 10));
        v.put("s30-e2x16-d10-p1.5-h16", s -> new TunerSettings(4, 1, 30, 4, 16, 0.25, 1.5, 1e-3, 1e3, s, 2, 16, 10));
        v.put("s30-e2x16-d10-p1.5-t0.5", s -> new TunerSettings(4, 1, 30, 4, 8, 0.5, 1.5, 1e-3, 1e3, s, 2, 16, 10));
        v.put("s30-e2x16-d10-p1.5-n6", s -> new TunerSettings(6, 1, 30, 4, 8, 0.25, 1.5, 1e-3, 1e3, s, 2, 16, 10));
        v.put("s30-e2x16-d10-p1.5-i8", s -> new TunerSettings(4, 1, 30, 8, 16, 0.25, 1.5, 1e-3, 1e3, s, 2, 16, 10));
        v.put("s30-e2x16-d10-i8", s -> new TunerSettings(4, 1, 30, 8, 16, 0.25, 2.0, 1e-3, 1e3, s, 2, 16, 10));
        v.put("s30-e2x16-d10-f1", s -> new TunerSettings(4, 1, 30, 4, 8, 0.25, 2.0, 1, 1e3, s, 2, 16, 10));
        v.put("s30-e2x16-d10-p1.5-i8-f1", s -> new TunerSettings(4, 1, 30, 8, 16, 0.25, 1.5, 1, 1e3, s, 2, 16, 10));
        return v;
    }

    @Test
    void variantsAgainstFixedRates() throws Exception {
        ComputeSettings.apply(Optional.of(1), null);
        List<String> chosen = List.of(System.getProperty("sweep.variants", String.join(",", variants().keySet()))
                .split(","));
        List<String> fixed = List.of(System.getProperty("sweep.fixed", "0.01,0.03").split(","));
        for (String name : System.getProperty("sweep.streams", "digits,waveform,rbf,sea-drift,digits-permuted")
                .split(",")) {
            List<String> runs = new ArrayList<>(fixed);
            runs.addAll(chosen);
            for (String run : runs) {
                double[] accuracy = new double[SEEDS];
                double[][] windows = new double[SEEDS][];
                for (int s = 0; s < SEEDS; s++) {
                    Stream stream = stream(name, s);
                    boolean auto = !fixed.contains(run);
                    ModelSpec spec = ModelSpecParser.parse(spec(stream, auto ? "auto" : run, 7 + s));
                    PopulationTuner tuner = auto
                            ? PopulationTuner.create(spec, variants().get(run).apply(spec.seed())) : null;
                    int[][] curve = pass(spec, tuner, stream);
                    accuracy[s] = accuracy(curve, 0, curve[0].length);
                    if (stream.driftBatch() >= 0) {
                        int d = stream.driftBatch();
                        int n = curve[0].length;
                        windows[s] = new double[] {accuracy(curve, 0, d), accuracy(curve, 0, d),
                            accuracy(curve, d, d + 10), accuracy(curve, d + 10, d + 30),
                            accuracy(curve, d + 30, Math.min(n, d + 60))};
                    }
                }
                LOG.info(String.format(Locale.ROOT, "SWEEP %-16s %-18s %5.1f %% (%.1f..%.1f)%s", name, run,
                        100 * mean(accuracy), 100 * min(accuracy), 100 * max(accuracy), drift(windows)));
                assertThat(mean(accuracy)).as(name + " " + run).isGreaterThan(0);
            }
        }
    }

    private static String drift(double[][] windows) {
        if (windows[0] == null) {
            return "";
        }
        StringBuilder out = new StringBuilder("  before");
        String[] names = {"", " %.1f", " | 0-10 %.1f", " | 10-30 %.1f", " | 30-60 %.1f"};
        for (int w = 1; w < names.length; w++) {
            double[] values = new double[SEEDS];
            for (int s = 0; s < SEEDS; s++) {
                values[s] = windows[s][w];
            }
            out.append(String.format(Locale.ROOT, names[w], 100 * mean(values)));
        }
        return out.toString();
    }

    private static Stream stream(String name, int seed) {
        return switch (name) {
            case "digits" -> shuffled(TabularDataset.load("digits"), seed, false);
            case "digits-permuted" -> shuffled(TabularDataset.load("digits"), seed, true);
            case "waveform" -> moa(name, 64, -1);
            case "rbf" -> moa(name, 128, -1);
            case "sea-drift" -> moa(name, 32, 10_000 / 32);
            default -> throw new IllegalArgumentException("no stream " + name);
        };
    }

    private static Stream moa(String name, int units, int driftBatch) {
        TabularDataset data = TabularDataset.load(name);
        return new Stream(name, data.features(), data.labels(), data.classes(), units, driftBatch);
    }

    // one shuffled pass of the digits; permuted: a second shuffled pass after it with label c as (c + 3) mod 10
    private static Stream shuffled(TabularDataset data, int seed, boolean permuted) {
        int passes = permuted ? 2 : 1;
        int n = data.size();
        float[][] x = new float[passes * n][];
        int[] y = new int[passes * n];
        for (int p = 0; p < passes; p++) {
            int[] order = data.shuffledOrder(seed + 1000L * p);
            for (int i = 0; i < n; i++) {
                x[p * n + i] = data.features()[order[i]];
                y[p * n + i] = p == 0 ? data.labels()[order[i]] : (data.labels()[order[i]] + 3) % 10;
            }
        }
        // the digits' 1797 rows are 56 full batches and 5 rows: the drift is at batch 56
        return new Stream(permuted ? "digits-permuted" : "digits", x, y, data.classes(), 128, permuted ? n / 32 : -1);
    }

    private static String spec(Stream stream, String rate, long seed) {
        return "name: " + stream.name() + "\ninputs: " + stream.features()[0].length
                + "\ntask: classification\noutputs: " + stream.classes() + "\nnormalize: true\nseed: " + seed
                + "\nlayers: [{dense: {units: " + stream.units() + ", activation: relu}}]\nloss: cross-entropy\n"
                + "optimizer: {type: adam, learning-rate: " + rate + "}\nbatch-size: 32\n";
    }

    // one pass through the trainer: per step, the correct predictions and the examples scored
    private static int[][] pass(ModelSpec spec, PopulationTuner tuner, Stream stream) throws InterruptedException {
        ExampleBatcher batcher = new ExampleBatcher(1 << 17);
        List<Integer> correct = new ArrayList<>();
        List<Integer> examples = new ArrayList<>();
        TrainingListener curve = report -> {
            correct.add(report.score().correct());
            examples.add(report.score().examples());
        };
        OnlineTrainer trainer = new OnlineTrainer(tuner == null ? new Network(spec) : null, tuner,
                OnlineTrainer.freshState(), batcher, new ServedModel(), List.of(curve),
                new OnlineTrainer.Settings(Duration.ZERO, 1000, Duration.ofHours(1), 1000, 0, Duration.ofHours(1)),
                null, new TrainingHealth(HealthSettings.defaults(), TrainingEvents.NONE), RecordGuard.OFF);
        for (int i = 0; i < stream.labels().length; i++) {
            float[] y = new float[stream.classes()];
            y[stream.labels()[i]] = 1f;
            batcher.submit(new ExampleBlock(1, stream.features()[i].clone(), y, null, new TestRecord(i)));
        }
        while (trainer.trainOnce(0)) {
            // one pass
        }
        int[][] out = new int[2][correct.size()];
        for (int i = 0; i < correct.size(); i++) {
            out[0][i] = correct.get(i);
            out[1][i] = examples.get(i);
        }
        return out;
    }

    private static double accuracy(int[][] curve, int from, int to) {
        long right = 0;
        long all = 0;
        for (int i = from; i < Math.min(to, curve[0].length); i++) {
            right += curve[0][i];
            all += curve[1][i];
        }
        return all == 0 ? Double.NaN : (double) right / all;
    }

    private static double mean(double[] values) {
        double sum = 0;
        for (double v : values) {
            sum += v;
        }
        return sum / values.length;
    }

    private static double min(double[] values) {
        double m = Double.POSITIVE_INFINITY;
        for (double v : values) {
            m = Math.min(m, v);
        }
        return m;
    }

    private static double max(double[] values) {
        double m = Double.NEGATIVE_INFINITY;
        for (double v : values) {
            m = Math.max(m, v);
        }
        return m;
    }
}
