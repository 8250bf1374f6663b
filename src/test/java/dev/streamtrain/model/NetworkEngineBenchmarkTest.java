package dev.streamtrain.model;

import org.jboss.logging.Logger;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;
import java.util.function.IntConsumer;

import dev.streamtrain.support.Measure;
import dev.streamtrain.model.spec.ModelSpec;
import dev.streamtrain.model.spec.ModelSpecParser;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The trainer's own test-then-train step ({@link Network#step}: normaliser, scoring every row, the optimizer step)
 * on the lean engine and on DL4J's graph, same spec, same batches, in the same run: repetitions interleaved after a
 * warm-up, medians and their ratio. S and M are digits as in the performance notes; W (512-1024-1024-10, batch 256)
 * is fed seeded Gaussian rows, its cost being the products, not the data. Not a test of speed: it asserts only that
 * it measured. {@code -Dbench.repetitions}, {@code -Dbench.window.ms}.
 */
@Tag("benchmark")
class NetworkEngineBenchmarkTest {

    private static final Logger LOG = Logger.getLogger(NetworkEngineBenchmarkTest.class);
    private static final int REPETITIONS = Integer.getInteger("bench.repetitions", 7);
    private static final long WINDOW_NANOS = Long.getLong("bench.window.ms", 2_000) * 1_000_000;

    @Test
    void measure() {
        String[] rows = {
            row("S", 64, "[{dense: {units: 128}}]", 32),
            row("M", 64, "[{dense: {units: 256}}, {dense: {units: 256}}]", 64),
            row("W", 512, "[{dense: {units: 1024}}, {dense: {units: 1024}}]", 256),
        };
        LOG.info("| model | batch | threads | DL4J ex/s | lean two-pass ex/s | lean ex/s | two-pass/DL4J | lean/DL4J |");
        for (String row : rows) {
            LOG.info(row);
            assertThat(row).doesNotContain("NaN");
        }
    }

    private static String row(String name, int inputs, String layers, int batchSize) {
        ModelSpec spec = ModelSpecParser.parse("name: " + name.toLowerCase() + "\ninputs: " + inputs + "\ntask: classification\n"
                + "outputs: 10\nnormalize: true\nseed: 1\nlayers: " + layers + "\nloss: cross-entropy\n"
                + "optimizer: {type: adam, learning-rate: 0.001}\nbatch-size: " + batchSize + "\n");
        // the ND4J/BLAS threads the trainer would set for this model
        int threads = ComputeSettings.apply(java.util.Optional.empty(), spec);
        MiniBatch[] batches = new MiniBatch[16];
        Random random = new Random(3);
        for (int b = 0; b < batches.length; b++) {
            batches[b] = new MiniBatch(batchSize, inputs, 10);
            float[] x = new float[inputs];
            float[] y = new float[10];
            for (int i = 0; i < batchSize; i++) {
                int row = (b * batchSize + i) % DigitsNetworks.DATA.size();
                if (inputs == 64) {
                    x = DigitsNetworks.DATA.features()[row];
                    Arrays.fill(y, 0f);
                    y[DigitsNetworks.DATA.labels()[row]] = 1f;
                } else {
                    for (int j = 0; j < inputs; j++) {
                        x[j] = (float) random.nextGaussian();
                    }
                    Arrays.fill(y, 0f);
                    y[random.nextInt(10)] = 1f;
                }
                batches[b].add(x, y, 1f, 0);
            }
        }
        Network dl4j = new Network(spec, EngineKind.DL4J);
        Network lean = new Network(spec, EngineKind.LEAN);
        // the lean step with scoring and training from separate forward passes, as before they were fused
        Network twoPass = new Network(spec, EngineKind.LEAN);
        twoPass.fuseScoring(false);
        IntConsumer dl4jStep = i -> dl4j.step(batches[i % batches.length], false, i);
        IntConsumer twoPassStep = i -> twoPass.step(batches[i % batches.length], false, i);
        IntConsumer leanStep = i -> lean.step(batches[i % batches.length], false, i);
        for (int i = 0; i < 3; i++) {
            Measure.perSecond(dl4jStep, WINDOW_NANOS);
            Measure.perSecond(twoPassStep, WINDOW_NANOS);
            Measure.perSecond(leanStep, WINDOW_NANOS);
        }
        double[][] rates = new double[3][REPETITIONS];
        for (int r = 0; r < REPETITIONS; r++) {
            rates[0][r] = Measure.perSecond(dl4jStep, WINDOW_NANOS) * batchSize;
            rates[1][r] = Measure.perSecond(twoPassStep, WINDOW_NANOS) * batchSize;
            rates[2][r] = Measure.perSecond(leanStep, WINDOW_NANOS) * batchSize;
        }
        double a = Measure.median(rates[0]);
        double b = Measure.median(rates[1]);
        double c = Measure.median(rates[2]);
        return String.format("| %s | %d | %d | %,.0f | %,.0f | %,.0f | %.2f | %.2f |", name, batchSize, threads, a, b, c,
                b / a, c / a);
    }
}
