package dev.streamtrain.engine;

import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.activations.impl.ActivationReLU;
import org.nd4j.linalg.activations.impl.ActivationSoftmax;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;

import java.nio.FloatBuffer;

/**
 * The small elementwise steps of a {@link LeanNetwork} step as plain loops over ND4J's own direct buffers: the bias
 * and activation of a dense layer, softmax, ReLU's backward pass, the bias gradients, the division of the summed
 * gradient by the rows and Adam's update. On the small layers of a streaming model each of these is a few thousand
 * multiply-adds, which costs less than one ND4J op's call (a JNI crossing with its shape checks and op descriptor);
 * the matrix products stay with BLAS. Arrays are column-major [rows, units] (DL4J's layout), flat buffers are read
 * at the view's offset. The arithmetic is ND4J's kernels' in float, in the same order where that is defined (bias,
 * ReLU and its derivative, the division and Adam's elementwise update are the same numbers); sums over the rows and
 * the softmax's exponentials may round differently in the last bit.
 */
final class FloatLoops {

    /** What a dense layer's activation is, for the loops: the kinds they cover, or {@link #OTHER} (ND4J's op). */
    enum Kind { IDENTITY, RELU, SOFTMAX, OTHER }

    /**
     * The largest layer (rows × units) whose bias, activation and bias gradient go through the loops: above it ND4J's
     * vectorised native loop outruns the JIT's scalar one over a direct buffer by more than an op's call costs.
     */
    static final long LAYER_LOOP_MAX = 1L << 15;
    /** The largest parameter count whose Adam step goes through {@link #adam}, for the same reason. */
    static final long ADAM_LOOP_MAX = 1L << 18;

    private FloatLoops() {
    }

    /** The kind the loops compute for {@code fn}: plain ReLU (no cap, threshold or slope), identity, softmax. */
    static Kind kindOf(IActivation fn) {
        if (fn instanceof ActivationReLU r && r.getMax() == null && r.getThreshold() == null
                && r.getNegativeSlope() == null) {
            return Kind.RELU;
        }
        if (fn instanceof ActivationIdentity) {
            return Kind.IDENTITY;
        }
        return fn instanceof ActivationSoftmax ? Kind.SOFTMAX : Kind.OTHER;
    }

    /** Whether {@link #adam} computes {@code updater}'s step: plain Adam (not one of its variants). */
    static boolean isAdam(IUpdater updater) {
        return updater.getClass() == Adam.class;
    }

    /** The array's whole direct buffer; index it from {@code array.offset()}. */
    static FloatBuffer buffer(INDArray array) {
        return array.data().asNioFloat();
    }

    /**
     * {@code z += bias} per row, then {@code a = activation(z)} ({@code kind} not {@link Kind#OTHER}), both
     * column-major [rows, units]; the bias is {@code units} floats from {@code biasOffset}.
     */
    static void biasActivate(FloatBuffer z, FloatBuffer bias, int biasOffset, int rows, int units, Kind kind,
                             FloatBuffer a) {
        for (int j = 0; j < units; j++) {
            float b = bias.get(biasOffset + j);
            int base = j * rows;
            for (int i = base; i < base + rows; i++) {
                float v = z.get(i) + b;
                z.put(i, v);
                // ND4J's relu: x < 0 ? 0 : x (NaN passes through)
                a.put(i, kind == Kind.RELU && v < 0f ? 0f : v);
            }
        }
        if (kind == Kind.SOFTMAX) {
            softmaxRows(a, rows, units);
        }
    }

    /** Softmax of each row of the column-major [rows, units] {@code a}, in place: the maximum subtracted first. */
    static void softmaxRows(FloatBuffer a, int rows, int units) {
        for (int i = 0; i < rows; i++) {
            float max = Float.NEGATIVE_INFINITY;
            for (int j = 0; j < units; j++) {
                max = Math.max(max, a.get(j * rows + i));
            }
            float sum = 0f;
            for (int j = 0; j < units; j++) {
                float e = (float) Math.exp(a.get(j * rows + i) - max);
                a.put(j * rows + i, e);
                sum += e;
            }
            for (int j = 0; j < units; j++) {
                a.put(j * rows + i, a.get(j * rows + i) / sum);
            }
        }
    }

    /**
     * ReLU's backward pass: {@code z = z > 0 ? error : 0} over the first {@code n} elements, in place in the
     * pre-activations (ND4J's leaky-ReLU derivative with slope 0, which ReLU's backward pass uses, gives +0 there).
     */
    static void reluBackward(FloatBuffer z, FloatBuffer error, int n) {
        for (int i = 0; i < n; i++) {
            float e = error.get(i);
            z.put(i, z.get(i) > 0f ? e : 0f);
        }
    }

    /** Each column's sum of the column-major [rows, units] {@code delta} into {@code target} from {@code offset}. */
    static void columnSums(FloatBuffer delta, int rows, int units, FloatBuffer target, int offset) {
        for (int j = 0; j < units; j++) {
            float sum = 0f;
            int base = j * rows;
            for (int i = base; i < base + rows; i++) {
                sum += delta.get(i);
            }
            target.put(offset + j, sum);
        }
    }

    /** {@code v[i] /= divisor} over the first {@code n} elements (ND4J's {@code divi} by a scalar: a division). */
    static void divide(FloatBuffer v, int n, float divisor) {
        for (int i = 0; i < n; i++) {
            v.put(i, v.get(i) / divisor);
        }
    }

    /** {@code p[i] -= g[i]} over the first {@code n} elements. */
    static void subtract(FloatBuffer p, FloatBuffer g, int n) {
        for (int i = 0; i < n; i++) {
            p.put(i, p.get(i) - g.get(i));
        }
    }

    /**
     * Adam's step over the flat gradient of {@code n} elements, as ND4J's {@code adam_updater} op in float: the
     * moments (the state's first half m, second half v, DL4J's layout) updated in place and the gradient replaced by
     * the update. With {@code parameters} non-null the update is also subtracted from them in the same pass.
     */
    static void adam(FloatBuffer g, FloatBuffer state, int n, double learningRate, double beta1, double beta2,
                     double epsilon, int iteration, FloatBuffer parameters) {
        float lr = (float) learningRate;
        float b1 = (float) beta1;
        float b2 = (float) beta2;
        float eps = (float) epsilon;
        float t = iteration + 1f;
        // libnd4j's bias correction, its mix of float and double included
        float epsilonT = (float) (lr * (float) Math.sqrt((float) (1.0 - (float) Math.pow(b2, t)))
                / (1.0 - (float) Math.pow(b1, t)));
        if (Float.isNaN(epsilonT) || Float.isInfinite(epsilonT) || epsilonT == 0f) {
            epsilonT = eps;
        }
        float mb1 = 1f - b1;
        float mb2 = 1f - b2;
        for (int i = 0; i < n; i++) {
            float gi = g.get(i);
            // libnd4j's x86 builds contract b1 * m + g * (1 - b1) into one fused multiply-add: so does this
            float m = Math.fma(b1, state.get(i), gi * mb1);
            float v = Math.fma(b2, state.get(n + i), gi * gi * mb2);
            state.put(i, m);
            state.put(n + i, v);
            float update = m * epsilonT / ((float) Math.sqrt(v) + eps);
            g.put(i, update);
            if (parameters != null) {
                parameters.put(i, parameters.get(i) - update);
            }
        }
    }
}
