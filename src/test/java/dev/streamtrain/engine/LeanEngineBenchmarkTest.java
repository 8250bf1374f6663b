package dev.streamtrain.engine;

import org.jboss.logging.Logger;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.function.IntConsumer;

import dev.streamtrain.model.spec.ModelSpec;
import dev.streamtrain.support.Measure;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Training throughput (examples/s, one optimizer step per batch) and single-row inference latency (µs) of the
 * lean engine and of DL4J's graph on the same spec and batches, in the same run: repetitions interleaved, after
 * a warm-up, medians reported with their ratio. The models are S (64-128-10, batch 32) and M (64-256-256-10,
 * batch 64) of the performance notes, on digits, Adam 1e-3. Not a test of speed: it asserts only that it measured.
 */
@Tag("benchmark")
class LeanEngineBenchmarkTest {

    private static final Logger LOG = Logger.getLogger(LeanEngineBenchmarkTest.class);

    private static final int REPETITIONS = Integer.getInteger("bench.repetitions", 7);
    private static final long WINDOW_NANOS = Long.getLong("bench.window.ms", 2_000) * 1_000_000;
    private static final ReferenceRun DATA = ReferenceRun.digits();

    @Test
    void measure() {
        String s = row("S", "[{dense: {units: 128, activation: relu}}]", 32);
        String m = row("M", "[{dense: {units: 256, activation: relu}}, {dense: {units: 256, activation: relu}}]", 64);
        LOG.info("| model | batch | DL4J ex/s | lean ex/s | lean/DL4J | DL4J 1-row µs | lean 1-row µs | DL4J/lean |");
        LOG.info(s);
        LOG.info(m);
        assertThat(s).doesNotContain("NaN");
    }

    private static String row(String name, String layers, int batch) {
        ModelSpec spec = ReferenceRun.spec("classification", 64, 10, "cross-entropy", layers,
                "{type: adam, learning-rate: 0.001}");
        ComputationGraph graph = ReferenceRun.graph(spec);
        float[][][] batches = new float[64][][];
        for (int i = 0; i < batches.length; i++) {
            batches[i] = DATA.batch(i, batch);
        }
        INDArray features = ReferenceRun.matrix(batches[0][0], batch);
        INDArray labels = ReferenceRun.matrix(batches[0][1], batch);
        INDArray one = ReferenceRun.matrix(Arrays.copyOf(batches[0][0], 64), 1);
        try (LeanNetwork lean = LeanNetwork.create(spec)) {
            IntConsumer dl4jStep = i -> {
                features.data().setData(batches[i % batches.length][0]);
                labels.data().setData(batches[i % batches.length][1]);
                graph.fit(new INDArray[] {features}, new INDArray[] {labels});
            };
            IntConsumer leanStep = i -> lean.fit(batches[i % batches.length][0], batches[i % batches.length][1], batch);
            float[] row = Arrays.copyOf(batches[0][0], 64);
            IntConsumer dl4jInfer = i -> graph.outputSingle(false, one);
            IntConsumer leanInfer = i -> lean.output(row, 1);
            // warm-up: DL4J needs many seconds to reach its steady speed
            for (int i = 0; i < 3; i++) {
                Measure.perSecond(dl4jStep, WINDOW_NANOS);
                Measure.perSecond(leanStep, WINDOW_NANOS);
                Measure.perSecond(dl4jInfer, WINDOW_NANOS);
                Measure.perSecond(leanInfer, WINDOW_NANOS);
            }
            double[][] rates = new double[4][REPETITIONS];
            for (int r = 0; r < REPETITIONS; r++) {
                rates[0][r] = Measure.perSecond(dl4jStep, WINDOW_NANOS) * batch;
                rates[1][r] = Measure.perSecond(leanStep, WINDOW_NANOS) * batch;
                rates[2][r] = Measure.perSecond(dl4jInfer, WINDOW_NANOS);
                rates[3][r] = Measure.perSecond(leanInfer, WINDOW_NANOS);
            }
            double dl4j = Measure.median(rates[0]);
            double leanRate = Measure.median(rates[1]);
            double dl4jMicros = 1e6 / Measure.median(rates[2]);
            double leanMicros = 1e6 / Measure.median(rates[3]);
            return String.format("| %s | %d | %,.0f | %,.0f | %.2f | %.1f | %.1f | %.2f |", name, batch, dl4j, leanRate,
                    leanRate / dl4j, dl4jMicros, leanMicros, dl4jMicros / leanMicros);
        }
    }
}
