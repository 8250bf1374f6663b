package dev.streamtrain.tuning;

import java.util.Locale;

import dev.streamtrain.model.MiniBatch;
import dev.streamtrain.model.spec.ModelSpec;
import dev.streamtrain.model.spec.ModelSpecParser;
import dev.streamtrain.model.Network;
import dev.streamtrain.support.TabularDataset;

/**
 * The tuner's test streams and their one-pass, test-then-train runs: a fixed rate on one network, or the
 * population. Each run records the prequential accuracy of every batch (for a population, that of the member that
 * served while the batch arrived), so that first-pass accuracy and recovery after a drift come from the same run.
 */
final class TunerStreams {

    private TunerStreams() {
    }

    /** A stream: rows in arrival order with their class labels, and the spec it is learnt with. */
    record Stream(String name, float[][] features, int[] labels, int classes, String specTemplate, int driftAt) {

        /** The stream's spec at {@code rate} with network seed {@code seed}. */
        ModelSpec spec(double rate, long seed) {
            return ModelSpecParser.parse(String.format(Locale.ROOT, specTemplate, seed, rate));
        }
    }

    /**
     * The wide span an operator configures when the optimizer's rate may be far off ({@code streamtrain.tuner.lowest}
     * 0.1, {@code highest} 100): from a rate ten to a hundred times too small the default span (1 to 30 times) does
     * not reach the useful rates within the digits' 56 steps (docs/learning-rate-auto.md).
     */
    static TunerSettings wideSpan(long seed) {
        return new TunerSettings(4, 0.1, 100, 4, 8, 0.25, 2.0, 1e-3, 1e3, seed, 0, 0, 10);
    }

    static final String DIGITS_SPEC = "name: digits\ninputs: 64\ntask: classification\noutputs: 10\nnormalize: true\n"
            + "seed: %d\nlayers: [{dense: {units: 128, activation: relu}}]\nloss: cross-entropy\n"
            + "optimizer: {type: adam, learning-rate: %s}\nbatch-size: 32\n";

    /** The setup: one shuffled pass of the digits (1797 rows), 64-128-10 ReLU, Adam, batch 32. */
    static Stream digits(long shuffleSeed) {
        TabularDataset data = TabularDataset.load("digits");
        int[] order = data.shuffledOrder(shuffleSeed);
        float[][] x = new float[order.length][];
        int[] y = new int[order.length];
        for (int i = 0; i < order.length; i++) {
            x[i] = data.features()[order[i]];
            y[i] = data.labels()[order[i]];
        }
        return new Stream("digits", x, y, data.classes(), DIGITS_SPEC, -1);
    }

    /**
     * Two shuffled passes of the digits, the second with its labels permuted (class c becomes (c + 3) mod 10): an
     * abrupt concept drift at row 1797, after which everything learnt about the classes' names is wrong.
     */
    static Stream permutedDigits(long shuffleSeed) {
        Stream first = digits(shuffleSeed);
        Stream second = digits(shuffleSeed + 1000);
        int n = first.labels().length;
        float[][] x = new float[2 * n][];
        int[] y = new int[2 * n];
        for (int i = 0; i < n; i++) {
            x[i] = first.features()[i];
            y[i] = first.labels()[i];
            x[n + i] = second.features()[i];
            y[n + i] = (second.labels()[i] + 3) % 10;
        }
        return new Stream("digits-permuted", x, y, 10, DIGITS_SPEC, n);
    }

    /** A MOA stream of the test data sets, in its stored order, learnt by one hidden ReLU layer of {@code units}. */
    static Stream moa(String name, int units) {
        TabularDataset data = TabularDataset.load(name);
        String spec = "name: " + name + "\ninputs: " + data.inputs() + "\ntask: classification\noutputs: "
                + data.classes() + "\nnormalize: true\nseed: %d\nlayers: [{dense: {units: " + units
                + ", activation: relu}}]\nloss: cross-entropy\noptimizer: {type: adam, learning-rate: %s}\n"
                + "batch-size: 32\n";
        return new Stream(name, data.features(), data.labels(), data.classes(), spec,
                name.equals("sea-drift") ? 10_000 : -1);
    }

    /** Per-batch prequential results of a run and its training time. */
    record Curve(int[] correct, int[] examples, long nanos, int exploits, double finalRate) {

        double accuracy() {
            return accuracy(0, correct.length);
        }

        /** Accuracy over batches {@code from} (inclusive) to {@code to} (exclusive). */
        double accuracy(int from, int to) {
            long right = 0;
            long all = 0;
            for (int b = from; b < Math.min(to, correct.length); b++) {
                right += correct[b];
                all += examples[b];
            }
            return (double) right / all;
        }

        double examplesPerSecond() {
            long all = 0;
            for (int e : examples) {
                all += e;
            }
            return all / (nanos / 1e9);
        }
    }

    /** One pass at a fixed rate (the spec's). */
    static Curve fixed(Stream stream, ModelSpec spec) {
        Network network = new Network(spec);
        return run(stream, spec, batch -> network.step(batch, false, 0).train().correct(), () -> 0,
                network::learningRate);
    }

    /** One pass with the population tuning the rate around the spec's. */
    static Curve tuned(Stream stream, ModelSpec spec, TunerSettings settings) {
        PopulationTuner tuner = PopulationTuner.create(spec, settings);
        int[] exploits = new int[1];
        return run(stream, spec, batch -> {
            TunerStep step = tuner.step(batch);
            exploits[0] += step.exploits().size();
            return step.served().correct();
        }, () -> exploits[0], () -> tuner.leader().learningRate());
    }

    private interface Learner {
        int step(MiniBatch batch);
    }

    private static Curve run(Stream stream, ModelSpec spec, Learner learner, java.util.function.IntSupplier exploits,
                             java.util.function.DoubleSupplier rate) {
        int n = stream.labels().length;
        int batches = (n + spec.batchSize() - 1) / spec.batchSize();
        int[] correct = new int[batches];
        int[] examples = new int[batches];
        MiniBatch batch = new MiniBatch(spec.batchSize(), spec.inputs(), spec.outputs());
        float[] y = new float[stream.classes()];
        long start = System.nanoTime();
        for (int b = 0; b < batches; b++) {
            batch.clear();
            for (int row = b * spec.batchSize(); row < Math.min(n, (b + 1) * spec.batchSize()); row++) {
                java.util.Arrays.fill(y, 0f);
                y[stream.labels()[row]] = 1f;
                batch.add(stream.features()[row], y, 1f, 0);
            }
            examples[b] = batch.size();
            correct[b] = learner.step(batch);
        }
        return new Curve(correct, examples, System.nanoTime() - start, exploits.getAsInt(), rate.getAsDouble());
    }
}
