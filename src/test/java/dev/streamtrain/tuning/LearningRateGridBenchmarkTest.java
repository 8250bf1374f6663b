package dev.streamtrain.tuning;

import org.jboss.logging.Logger;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

import dev.streamtrain.model.ComputeSettings;
import dev.streamtrain.tuning.TunerStreams.Curve;
import dev.streamtrain.tuning.TunerStreams.Stream;

/**
 * The measurements of docs/learning-rate-auto.md: one pass, test-then-train, first-pass prequential accuracy of a
 * grid of fixed Adam rates (half-decades, 1e-4 to 3e-1) against the population tuner started from Adam's default
 * (1e-3) and from a rate ten times too small (1e-4), on the digits, waveform, rbf and sea-drift, three seeds each;
 * recovery after an abrupt drift (sea-drift's at row 10,000; the digits with their labels permuted after one pass);
 * and the cost of the population (examples/s, fixed rate and tuner in the same run). One compute thread.
 * Prints Markdown tables. Run with {@code ./mvnw -B -o test -Pbenchmark -Dtest=LearningRateGridBenchmarkTest}.
 */
@Tag("benchmark")
class LearningRateGridBenchmarkTest {

    private static final Logger LOG = Logger.getLogger(LearningRateGridBenchmarkTest.class);
    static final double[] GRID = {1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 3e-1};
    private static final int SEEDS = Integer.getInteger("bench.seeds", 3);

    @Test
    void firstPassAccuracy() {
        StringBuilder table = new StringBuilder("\n| stream | rows | " + header()
                + " best fixed | auto from 1e-3 | auto from 1e-4 |\n");
        for (String name : List.of("digits", "waveform", "rbf", "sea-drift")) {
            double[] fixedMeans = new double[GRID.length];
            for (int r = 0; r < GRID.length; r++) {
                double rate = GRID[r];
                fixedMeans[r] = mean(seed -> TunerStreams.fixed(stream(name, seed),
                        stream(name, seed).spec(rate, 7 + seed)).accuracy());
            }
            int best = 0;
            for (int r = 1; r < GRID.length; r++) {
                best = fixedMeans[r] > fixedMeans[best] ? r : best;
            }
            double autoDefault = mean(seed -> tuned(stream(name, seed), 1e-3, seed).accuracy());
            double autoLow = mean(seed -> tuned(stream(name, seed), 1e-4, seed).accuracy());
            table.append("| ").append(name).append(" | ").append(stream(name, 0).labels().length).append(" | ");
            for (double m : fixedMeans) {
                table.append(pct(m)).append(" | ");
            }
            table.append(String.format(Locale.ROOT, "%s (%s) | %s | %s |%n", pct(fixedMeans[best]), GRID[best],
                    pct(autoDefault), pct(autoLow)));
        }
        LOG.info(table);
    }

    @Test
    void recoveryAfterDrift() {
        StringBuilder table = new StringBuilder("\n| stream | run | before drift | first 10 batches after | "
                + "batches 10-30 after | 30-60 after | rest |\n");
        for (String name : List.of("digits-permuted", "sea-drift")) {
            Stream probe = stream(name, 0);
            int drift = probe.driftAt() / 32;
            int end = (probe.labels().length + 31) / 32;
            List<String> runs = new ArrayList<>();
            for (double rate : new double[] {1e-3, 3e-3, 1e-2, 3e-2, 1e-1}) {
                runs.add("fixed " + rate);
            }
            runs.add("auto from 1e-3");
            runs.add("auto from 1e-4");
            for (String run : runs) {
                double[] windows = new double[5];
                for (int seed = 0; seed < SEEDS; seed++) {
                    Stream s = stream(name, seed);
                    Curve c = run.startsWith("fixed") ? TunerStreams.fixed(s, s.spec(Double.parseDouble(
                            run.substring(6)), 7 + seed)) : tuned(s, run.endsWith("1e-3") ? 1e-3 : 1e-4, seed);
                    windows[0] += c.accuracy(0, drift) / SEEDS;
                    windows[1] += c.accuracy(drift, drift + 10) / SEEDS;
                    windows[2] += c.accuracy(drift + 10, drift + 30) / SEEDS;
                    windows[3] += c.accuracy(drift + 30, drift + 60) / SEEDS;
                    windows[4] += c.accuracy(drift + 60, end) / SEEDS;
                }
                table.append(String.format(Locale.ROOT, "| %s | %s | %s | %s | %s | %s | %s |%n", name, run,
                        pct(windows[0]), pct(windows[1]), pct(windows[2]), pct(windows[3]), pct(windows[4])));
            }
        }
        LOG.info(table);
    }

    @Test
    void cost() {
        StringBuilder table = new StringBuilder("\n| stream | fixed ex/s | population | auto ex/s | ratio | "
                + "auto accuracy |\n");
        for (String name : List.of("digits", "waveform")) {
            Stream s = stream(name, 0);
            for (int population : new int[] {2, 4, 8}) {
                // interleaved windows: fixed, auto, fixed, auto, ... and the median of each
                List<Double> fixedRates = new ArrayList<>();
                List<Double> autoRates = new ArrayList<>();
                double accuracy = 0;
                for (int window = 0; window < 3; window++) {
                    fixedRates.add(TunerStreams.fixed(s, s.spec(1e-2, 7)).examplesPerSecond());
                    Curve auto = TunerStreams.tuned(s, s.spec(1e-3, 7),
                            TunerSettings.defaults(11).withPopulation(population));
                    autoRates.add(auto.examplesPerSecond());
                    accuracy = auto.accuracy();
                }
                double fixed = median(fixedRates);
                double auto = median(autoRates);
                table.append(String.format(Locale.ROOT, "| %s | %.0f | %d | %.0f | %.2f | %s |%n", name, fixed,
                        population, auto, auto / fixed, pct(accuracy)));
            }
        }
        LOG.info(table);
    }

    private static final java.util.Map<String, Stream> STREAMS = new java.util.HashMap<>();

    static Stream stream(String name, int seed) {
        ComputeSettings.apply(Optional.of(1), null);
        return STREAMS.computeIfAbsent(name + "/" + seed, key -> load(name, seed));
    }

    private static Stream load(String name, int seed) {
        return switch (name) {
            case "digits" -> TunerStreams.digits(seed);
            case "digits-permuted" -> TunerStreams.permutedDigits(seed);
            case "rbf" -> TunerStreams.moa(name, 128);
            case "sea-drift" -> TunerStreams.moa(name, 32);
            default -> TunerStreams.moa(name, 64);
        };
    }

    private static Curve tuned(Stream s, double rate, int seed) {
        return TunerStreams.tuned(s, s.spec(rate, 7 + seed), TunerSettings.defaults(11 + seed));
    }

    private interface SeedRun {
        double run(int seed);
    }

    private static double mean(SeedRun run) {
        double sum = 0;
        for (int seed = 0; seed < SEEDS; seed++) {
            sum += run.run(seed);
        }
        return sum / SEEDS;
    }

    private static double median(List<Double> values) {
        List<Double> sorted = new ArrayList<>(values);
        sorted.sort(null);
        return sorted.get(sorted.size() / 2);
    }

    private static String header() {
        StringBuilder h = new StringBuilder();
        for (double rate : GRID) {
            h.append(rate).append(" | ");
        }
        return h.toString();
    }

    static String pct(double accuracy) {
        return String.format(Locale.ROOT, "%.1f %%", 100 * accuracy);
    }
}
