package dev.streamtrain.model;

import org.jboss.logging.Logger;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Arrays;

import dev.streamtrain.model.explain.Explanation;
import dev.streamtrain.model.explain.IntegratedGradients;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What an explanation costs: milliseconds per row at the default 64 steps on digits-shaped specs (64 rows per
 * request, median of five after a warm-up), next to a plain prediction of the same rows, and what the first
 * explanation of a snapshot costs (it builds the snapshot's gradient copy). Measures; asserts only that it did.
 */
@Tag("benchmark")
class ExplanationCostBenchmarkTest {

    private static final Logger LOG = Logger.getLogger(ExplanationCostBenchmarkTest.class);
    private static final int ROWS = 64;

    @ParameterizedTest
    @ValueSource(strings = {"[{dense: {units: 128, activation: relu}}]",
        "[{dense: {units: 512, activation: relu}}, {dense: {units: 512, activation: relu}}]",
        "[{dense: {units: 256, activation: relu}}, {batch-norm: {}}, {dropout: {rate: 0.2}},"
                + " {residual: {units: 256, activation: relu, norm: layer, depth: 2}}]"})
    void explanationCostPerRow(String layers) {
        ModelSnapshot snapshot = DigitsNetworks.trained(DigitsNetworks.spec(layers), 1).snapshot(1);
        float[] x = DigitsNetworks.rows(0, ROWS);
        long built = System.nanoTime();
        snapshot.explain(Arrays.copyOf(x, 64), 1, null, null, 1);
        double firstMillis = (System.nanoTime() - built) / 1e6;
        snapshot.explain(x, ROWS, null, null, Explanation.DEFAULT_STEPS);
        double[] explain = new double[5];
        double[] predict = new double[5];
        for (int i = 0; i < explain.length; i++) {
            long start = System.nanoTime();
            snapshot.explain(x, ROWS, null, null, Explanation.DEFAULT_STEPS);
            explain[i] = (System.nanoTime() - start) / 1e6 / ROWS;
            start = System.nanoTime();
            snapshot.predict(x, ROWS);
            predict[i] = (System.nanoTime() - start) / 1e6 / ROWS;
        }
        Arrays.sort(explain);
        Arrays.sort(predict);
        LOG.infof("%s: explain %.2f ms per row (64 steps, %d rows per request, %d points per pass); predict %.4f ms"
                + " per row; first explanation of a snapshot (builds its gradient copy) %.1f ms", layers, explain[2], ROWS,
                IntegratedGradients.POINTS_PER_PASS, predict[2], firstMillis);
        assertThat(explain[2]).isPositive();
    }
}
