package dev.streamtrain.engine;

import org.jboss.logging.Logger;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.impl.ActivationReLU;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.GradientUpdater;
import org.nd4j.linalg.learning.config.Adam;

import java.util.Optional;
import java.util.function.IntConsumer;

import dev.streamtrain.model.ComputeSettings;
import dev.streamtrain.model.spec.ModelSpec;
import dev.streamtrain.support.Measure;

import static org.assertj.core.api.Assertions.assertThat;


/**
 * Where {@link FloatLoops} beats the ND4J ops it replaces, on one thread: a dense layer's bias and ReLU (ND4J: add
 * the bias row, copy, ReLU in place) at the layer sizes (rows × units) of S, M and W, and Adam's step with the
 * subtraction (ND4J: the updater op, then {@code subi}) at their parameter counts; µs per call, medians of
 * interleaved windows. It sets {@link FloatLoops#LAYER_LOOP_MAX} and {@link FloatLoops#ADAM_LOOP_MAX}. Not a test
 * of speed: it asserts only that it measured.
 */
@Tag("benchmark")
class FloatLoopsBenchmarkTest {

    private static final Logger LOG = Logger.getLogger(FloatLoopsBenchmarkTest.class);
    private static final int REPETITIONS = Integer.getInteger("bench.repetitions", 7);
    private static final long WINDOW_NANOS = Long.getLong("bench.window.ms", 500) * 1_000_000;

    @Test
    void measure() {
        ComputeSettings.apply(Optional.of(1), ReferenceRun.spec("classification", 64, 10, "cross-entropy",
                "[{dense: {units: 8}}]", "{type: adam, learning-rate: 0.001}"));
        LOG.info("| op | size | ND4J µs | loops µs | ND4J ÷ loops |");
        for (int[] layer : new int[][] {{32, 128}, {64, 256}, {128, 256}, {256, 256}, {256, 1024}}) {
            log("bias + ReLU", layer[0] + "×" + layer[1], biasRelu(layer[0], layer[1]));
        }
        for (int n : new int[] {9_610, 85_002, 262_144, 1_593_354}) {
            log("Adam + subtract", String.valueOf(n), adam(n));
        }
    }

    private static void log(String op, String size, double[] micros) {
        LOG.infof("| %s | %s | %.1f | %.1f | %.2f |", op, size, micros[0], micros[1], micros[0] / micros[1]);
        assertThat(micros[0]).isPositive();
    }

    private static double[] biasRelu(int rows, int units) {
        INDArray z = Nd4j.rand(DataType.FLOAT, 'f', rows, units).subi(0.5);
        INDArray a = Nd4j.create(DataType.FLOAT, new long[] {rows, units}, 'f');
        INDArray bias = Nd4j.rand(DataType.FLOAT, 1, units).subi(0.5);
        ActivationReLU relu = new ActivationReLU();
        IntConsumer nd4j = i -> {
            z.addiRowVector(bias);
            a.assign(z);
            relu.getActivation(a, true);
        };
        IntConsumer loops = i -> FloatLoops.biasActivate(FloatLoops.buffer(z), FloatLoops.buffer(bias), 0, rows, units,
                FloatLoops.Kind.RELU, FloatLoops.buffer(a));
        return interleaved(nd4j, loops);
    }

    private static double[] adam(int n) {
        Adam config = new Adam(1e-3);
        INDArray parameters = Nd4j.rand(DataType.FLOAT, 1, n);
        INDArray gradient = Nd4j.rand(DataType.FLOAT, 1, n).muli(1e-3);
        INDArray state = Nd4j.create(DataType.FLOAT, 1, 2L * n);
        GradientUpdater<?> updater = config.instantiate(state, true);
        IntConsumer nd4j = i -> {
            updater.applyUpdater(gradient, 0, 0);
            parameters.subi(gradient);
        };
        IntConsumer loops = i -> FloatLoops.adam(FloatLoops.buffer(gradient), FloatLoops.buffer(state), n, 1e-3, 0.9,
                0.999, 1e-8, 0, FloatLoops.buffer(parameters));
        return interleaved(nd4j, loops);
    }

    /** µs per call of each, medians of interleaved windows after two warm-up rounds. */
    private static double[] interleaved(IntConsumer first, IntConsumer second) {
        double[][] rates = new double[2][REPETITIONS];
        for (int r = -2; r < REPETITIONS; r++) {
            double a = Measure.perSecond(first, WINDOW_NANOS);
            double b = Measure.perSecond(second, WINDOW_NANOS);
            if (r >= 0) {
                rates[0][r] = a;
                rates[1][r] = b;
            }
        }
        return new double[] {1e6 / Measure.median(rates[0]), 1e6 / Measure.median(rates[1])};
    }
}
