package dev.streamtrain.engine;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.impl.ActivationReLU;
import org.nd4j.linalg.activations.impl.ActivationSoftmax;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.GradientUpdater;
import org.nd4j.linalg.learning.config.Adam;

import org.nd4j.linalg.ops.transforms.Transforms;

import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * Each loop of {@link FloatLoops} against the ND4J op it stands in for, on the same seeded numbers: bit-equal where
 * the op's arithmetic is elementwise (bias, ReLU and its derivative, the division, Adam), within a float rounding
 * where the op sums (the bias gradients) or exponentiates (softmax).
 */
class FloatLoopsTest {

    private static final int ROWS = 32;
    private static final int UNITS = 24;

    @Test
    void biasAndReluAreNd4jsBitForBit() {
        INDArray z = columnMajor(1);
        z.putScalar(3, 0f);
        INDArray bias = rowOf(2, UNITS);
        INDArray expected = z.dup('f').addiRowVector(bias);
        INDArray expectedActivation = new ActivationReLU().getActivation(expected.dup('f'), true);
        INDArray a = Nd4j.create(DataType.FLOAT, new long[] {ROWS, UNITS}, 'f');
        FloatLoops.biasActivate(FloatLoops.buffer(z), FloatLoops.buffer(bias), 0, ROWS, UNITS, FloatLoops.Kind.RELU,
                FloatLoops.buffer(a));
        assertThat(flat(z)).containsExactly(flat(expected));
        assertThat(flat(a)).containsExactly(flat(expectedActivation));
        assertThat(a.minNumber().floatValue()).isZero();
    }

    @Test
    void softmaxMatchesNd4jsWithinARounding() {
        INDArray z = columnMajor(3).muli(4);
        INDArray expected = new ActivationSoftmax().getActivation(z.dup('f'), true);
        FloatLoops.softmaxRows(FloatLoops.buffer(z), ROWS, UNITS);
        assertThat(maxDifference(z, expected)).isLessThan(1e-7);
        for (float rowSum : z.sum(1).toFloatVector()) {
            assertThat(rowSum).isCloseTo(1f, within(1e-6f));
        }
    }

    @Test
    void reluBackwardIsNd4jsBitForBit() {
        INDArray z = columnMajor(4);
        z.putScalar(5, 0f);
        INDArray error = columnMajor(5);
        INDArray expected = new ActivationReLU().backprop(z.dup('f'), error.dup('f')).getFirst();
        FloatLoops.reluBackward(FloatLoops.buffer(z), FloatLoops.buffer(error), ROWS * UNITS);
        assertThat(flat(z)).containsExactly(flat(expected));
    }

    @Test
    void biasGradientsAreTheColumnSumsWithinARounding() {
        INDArray delta = columnMajor(6);
        INDArray expected = delta.sum(0);
        INDArray target = Nd4j.create(DataType.FLOAT, 3 + UNITS);
        FloatLoops.columnSums(FloatLoops.buffer(delta), ROWS, UNITS, FloatLoops.buffer(target), 3);
        float[] sums = target.toFloatVector();
        float[] reference = expected.toFloatVector();
        for (int j = 0; j < UNITS; j++) {
            assertThat(sums[3 + j]).as("column %d", j).isCloseTo(reference[j],
                    within(1e-5f));
        }
    }

    @Test
    void adamIsNd4jsUpdaterBitForBit() {
        int n = 1000;
        Adam config = new Adam(0.01, 0.9, 0.999, 1e-8);
        INDArray referenceState = Nd4j.create(DataType.FLOAT, 1, 2 * n);
        GradientUpdater<?> reference = config.instantiate(referenceState, true);
        INDArray state = Nd4j.create(DataType.FLOAT, 1, 2 * n);
        INDArray parameters = rowOf(7, n);
        INDArray referenceParameters = parameters.dup();
        for (int step = 0; step < 20; step++) {
            INDArray gradient = rowOf(100 + step, n);
            INDArray referenceGradient = gradient.dup();
            reference.applyUpdater(referenceGradient, step, 0);
            referenceParameters.subi(referenceGradient);
            FloatLoops.adam(FloatLoops.buffer(gradient), FloatLoops.buffer(state), n, config.getLearningRate(step, 0),
                    config.getBeta1(), config.getBeta2(), config.getEpsilon(), step, FloatLoops.buffer(parameters));
            assertThat(gradient.toFloatVector()).as("update of step %d", step)
                    .containsExactly(referenceGradient.toFloatVector());
        }
        assertThat(state.toFloatVector()).containsExactly(referenceState.toFloatVector());
        assertThat(parameters.toFloatVector()).containsExactly(referenceParameters.toFloatVector());
    }

    @Test
    void divisionIsNd4jsBitForBit() {
        INDArray v = rowOf(8, 500);
        INDArray expected = v.dup().divi(ROWS);
        FloatLoops.divide(FloatLoops.buffer(v), 500, ROWS);
        assertThat(v.toFloatVector()).containsExactly(expected.toFloatVector());
    }

    private static INDArray columnMajor(long seed) {
        Random random = new Random(seed);
        INDArray a = Nd4j.create(DataType.FLOAT, new long[] {ROWS, UNITS}, 'f');
        for (int i = 0; i < ROWS * UNITS; i++) {
            a.data().put(i, (float) random.nextGaussian());
        }
        return a;
    }

    private static INDArray rowOf(long seed, int n) {
        Random random = new Random(seed);
        INDArray a = Nd4j.create(DataType.FLOAT, 1, n);
        for (int i = 0; i < n; i++) {
            a.putScalar(i, (float) random.nextGaussian() * 0.1f);
        }
        return a;
    }

    /** Column-major, as the loops see it. */
    private static float[] flat(INDArray a) {
        return a.dup('f').data().asFloat();
    }

    private static double maxDifference(INDArray a, INDArray b) {
        return Transforms.abs(a.sub(b)).maxNumber().doubleValue();
    }
}
