package dev.streamtrain.model;

import org.jboss.logging.Logger;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Arrays;
import java.util.function.IntConsumer;

import dev.streamtrain.model.explain.Explanation;
import dev.streamtrain.support.Measure;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Explanations and single-row predictions of one snapshot on the plain-Java pass against the same parameters on DL4J's
 * graph (how the snapshot answered before: the graph predicted layer norm and residual blocks, and every explanation
 * differentiated a graph copy), in the same run: medians of interleaved windows after a warm-up. Explanations: 64
 * rows per request at the default 64 steps, microseconds per explained row. Measures; asserts only that it did.
 */
@Tag("benchmark")
class ExplanationEngineBenchmarkTest {

    private static final Logger LOG = Logger.getLogger(ExplanationEngineBenchmarkTest.class);
    private static final int ROWS = 64;
    private static final int WINDOWS = 7;
    private static final long WINDOW_NANOS = 1_500_000_000L;

    @ParameterizedTest
    @ValueSource(strings = {"[{dense: {units: 128, activation: relu}}]",
        "[{dense: {units: 64, activation: relu, norm: layer}}, {residual: {units: 64, activation: relu, norm: layer, depth: 2}}]",
        "[{dense: {units: 256, activation: relu}}, {dropout: {rate: 0.2}},"
                + " {residual: {units: 256, activation: relu, norm: layer, depth: 2}}]"})
    void plainAgainstGraph(String layers) {
        ModelSnapshot plain = DigitsNetworks.trained(DigitsNetworks.spec(layers), 1).snapshot(1);
        GraphSnapshot graph = FactorySnapshots.onGraph(plain);
        float[] x = DigitsNetworks.rows(0, ROWS);
        float[] one = Arrays.copyOf(x, 64);
        IntConsumer[] calls = {
            i -> graph.explain(x, ROWS, null, null, Explanation.DEFAULT_STEPS),
            i -> plain.explain(x, ROWS, null, null, Explanation.DEFAULT_STEPS),
            i -> graph.predict(one, 1),
            i -> plain.predict(one, 1),
        };
        for (int round = 0; round < 2; round++) {
            for (IntConsumer call : calls) {
                Measure.perSecond(call, 3_000_000_000L);
            }
        }
        double[][] micros = new double[calls.length][WINDOWS];
        for (int w = 0; w < WINDOWS; w++) {
            for (int c = 0; c < calls.length; c++) {
                micros[c][w] = 1e6 / Measure.perSecond(calls[c], WINDOW_NANOS) / (c < 2 ? ROWS : 1);
            }
        }
        double graphExplain = Measure.median(micros[0]);
        double plainExplain = Measure.median(micros[1]);
        double graphPredict = Measure.median(micros[2]);
        double plainPredict = Measure.median(micros[3]);
        LOG.infof("%s: explain µs per row (64 steps, %d rows per request): graph %.1f, plain %.1f, graph / plain %.2f;"
                + " 1-row predict µs: graph %.1f, plain %.2f, graph / plain %.1f; windows %s", layers, ROWS,
                graphExplain, plainExplain, graphExplain / plainExplain, graphPredict, plainPredict,
                graphPredict / plainPredict, Arrays.deepToString(round(micros)));
        assertThat(plainExplain).isPositive();
    }

    private static double[][] round(double[][] values) {
        double[][] rounded = new double[values.length][];
        for (int i = 0; i < values.length; i++) {
            rounded[i] = Arrays.stream(values[i]).map(v -> Math.round(v * 10) / 10.0).toArray();
        }
        return rounded;
    }
}
