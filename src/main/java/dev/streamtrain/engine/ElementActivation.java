package dev.streamtrain.engine;

import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationELU;
import org.nd4j.linalg.activations.impl.ActivationGELU;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.activations.impl.ActivationLReLU;
import org.nd4j.linalg.activations.impl.ActivationMish;
import org.nd4j.linalg.activations.impl.ActivationReLU;
import org.nd4j.linalg.activations.impl.ActivationReLU6;
import org.nd4j.linalg.activations.impl.ActivationSELU;
import org.nd4j.linalg.activations.impl.ActivationSigmoid;
import org.nd4j.linalg.activations.impl.ActivationSoftPlus;
import org.nd4j.linalg.activations.impl.ActivationSoftmax;
import org.nd4j.linalg.activations.impl.ActivationSwish;
import org.nd4j.linalg.activations.impl.ActivationTanH;

/**
 * ND4J's activation functions in plain Java over a float[] range, forward and back, for {@link DenseForward}. Each follows libnd4j's float kernel, overflow included: softplus is {@code log(1 + exp(x))}
 * in float, so it is infinite beyond x ≈ 88.7 as ND4J's is, and a wrecked model answers what the graph would.
 * Softmax is the one that is not elementwise: it normalises the whole range (one row's outputs).
 */
enum ElementActivation {
    IDENTITY, RELU, LEAKY_RELU, ELU, GELU, SELU, TANH, SIGMOID, SOFTPLUS, SWISH, MISH, RELU6, SOFTMAX;

    /** libnd4j's SELU constants. */
    private static final float SELU_LAMBDA = 1.0507009873554804934193349852946f;
    private static final float SELU_ALPHA = 1.6732632423543772848170429916717f;

    /**
     * The activation {@code fn} computes, with its parameter (leaky ReLU's and ELU's alpha; 0 for the others).
     *
     * @throws UnsupportedSpecException for an activation, or a variant of one (a ReLU with a threshold, the precise
     *                                  GELU), that is not here
     */
    static Parameterised of(String spec, IActivation fn) {
        if (fn instanceof ActivationReLU r && r.getMax() == null && r.getThreshold() == null
                && r.getNegativeSlope() == null) {
            return new Parameterised(RELU, 0f);
        }
        if (fn instanceof ActivationLReLU l) {
            return new Parameterised(LEAKY_RELU, (float) l.getAlpha());
        }
        if (fn instanceof ActivationELU e) {
            return new Parameterised(ELU, (float) e.getAlpha());
        }
        if (fn instanceof ActivationGELU g && !g.isPrecise()) {
            return new Parameterised(GELU, 0f);
        }
        ElementActivation plain = fn instanceof ActivationIdentity ? IDENTITY
                : fn instanceof ActivationSELU ? SELU
                : fn instanceof ActivationTanH ? TANH
                : fn instanceof ActivationSigmoid ? SIGMOID
                : fn instanceof ActivationSoftPlus ? SOFTPLUS
                : fn instanceof ActivationSwish ? SWISH
                : fn instanceof ActivationMish ? MISH
                : fn instanceof ActivationReLU6 ? RELU6
                : fn instanceof ActivationSoftmax ? SOFTMAX
                : null;
        if (plain == null) {
            throw new UnsupportedSpecException(spec, "activation " + fn + " in the plain-Java forward pass");
        }
        return new Parameterised(plain, 0f);
    }

    /** An activation and its one parameter (alpha of leaky ReLU and ELU). */
    record Parameterised(ElementActivation kind, float alpha) {

        /** Applies the activation in place to {@code v[from, to)}. */
        void apply(float[] v, int from, int to) {
            // one loop per kind: the JIT compiles (and for the simple ones vectorises) a loop without a switch in it
            switch (kind) {
                case IDENTITY -> { }
                case RELU -> {
                    for (int i = from; i < to; i++) {
                        v[i] = Math.max(v[i], 0f);
                    }
                }
                case LEAKY_RELU -> {
                    for (int i = from; i < to; i++) {
                        v[i] = v[i] < 0f ? alpha * v[i] : v[i];
                    }
                }
                case ELU -> {
                    for (int i = from; i < to; i++) {
                        v[i] = v[i] > 0f ? v[i] : alpha * ((float) Math.exp(v[i]) - 1f);
                    }
                }
                case GELU -> {
                    for (int i = from; i < to; i++) {
                        v[i] = v[i] * sigmoid(1.702f * v[i]);
                    }
                }
                case SELU -> {
                    for (int i = from; i < to; i++) {
                        v[i] = v[i] > 0f ? SELU_LAMBDA * v[i] : SELU_LAMBDA * SELU_ALPHA * ((float) Math.exp(v[i]) - 1f);
                    }
                }
                case TANH -> {
                    for (int i = from; i < to; i++) {
                        v[i] = (float) Math.tanh(v[i]);
                    }
                }
                case SIGMOID -> {
                    for (int i = from; i < to; i++) {
                        v[i] = sigmoid(v[i]);
                    }
                }
                case SOFTPLUS -> {
                    for (int i = from; i < to; i++) {
                        v[i] = softplus(v[i]);
                    }
                }
                case SWISH -> {
                    for (int i = from; i < to; i++) {
                        v[i] = v[i] * sigmoid(v[i]);
                    }
                }
                case MISH -> {
                    for (int i = from; i < to; i++) {
                        v[i] = v[i] * (float) Math.tanh(softplus(v[i]));
                    }
                }
                case RELU6 -> {
                    for (int i = from; i < to; i++) {
                        v[i] = Math.min(Math.max(v[i], 0f), 6f);
                    }
                }
                case SOFTMAX -> softmax(v, from, to);
                default -> throw new IllegalStateException("no forward pass for " + kind);
            }
        }
    }

    /**
     * The backward pass of {@link Parameterised#apply}: {@code g[from, to)}, d(something)/d(the activations), becomes
     * d/d(the pre-activations), from the pre-activations {@code z} and the activations {@code a} over the same range.
     * The derivatives are the analytic ones of the forward functions above (GELU's of its sigmoid approximation).
     */
    static void backward(Parameterised fn, float[] z, float[] a, float[] g, int from, int to) {
        float alpha = fn.alpha();
        switch (fn.kind()) {
            case IDENTITY -> { }
            case RELU -> {
                for (int i = from; i < to; i++) {
                    g[i] = z[i] > 0f ? g[i] : 0f;
                }
            }
            case LEAKY_RELU -> {
                for (int i = from; i < to; i++) {
                    g[i] = z[i] < 0f ? alpha * g[i] : g[i];
                }
            }
            case ELU -> {
                for (int i = from; i < to; i++) {
                    g[i] = z[i] > 0f ? g[i] : g[i] * alpha * (float) Math.exp(z[i]);
                }
            }
            case GELU -> {
                for (int i = from; i < to; i++) {
                    float s = sigmoid(1.702f * z[i]);
                    g[i] *= s + 1.702f * z[i] * s * (1f - s);
                }
            }
            case SELU -> {
                for (int i = from; i < to; i++) {
                    g[i] *= z[i] > 0f ? SELU_LAMBDA : SELU_LAMBDA * SELU_ALPHA * (float) Math.exp(z[i]);
                }
            }
            case TANH -> {
                for (int i = from; i < to; i++) {
                    g[i] *= 1f - a[i] * a[i];
                }
            }
            case SIGMOID -> {
                for (int i = from; i < to; i++) {
                    g[i] *= a[i] * (1f - a[i]);
                }
            }
            case SOFTPLUS -> {
                for (int i = from; i < to; i++) {
                    g[i] *= sigmoid(z[i]);
                }
            }
            case SWISH -> {
                for (int i = from; i < to; i++) {
                    float s = sigmoid(z[i]);
                    g[i] *= s + z[i] * s * (1f - s);
                }
            }
            case MISH -> {
                for (int i = from; i < to; i++) {
                    float t = (float) Math.tanh(softplus(z[i]));
                    g[i] *= t + z[i] * (1f - t * t) * sigmoid(z[i]);
                }
            }
            case RELU6 -> {
                for (int i = from; i < to; i++) {
                    g[i] = z[i] > 0f && z[i] < 6f ? g[i] : 0f;
                }
            }
            case SOFTMAX -> {
                // the Jacobian of softmax times g: p_k (g_k - sum_j g_j p_j)
                float dot = 0f;
                for (int i = from; i < to; i++) {
                    dot += g[i] * a[i];
                }
                for (int i = from; i < to; i++) {
                    g[i] = a[i] * (g[i] - dot);
                }
            }
            default -> throw new IllegalStateException("no backward pass for " + fn.kind());
        }
    }

    private static float sigmoid(float x) {
        return 1f / (1f + (float) Math.exp(-x));
    }

    private static float softplus(float x) {
        return (float) Math.log(1f + (float) Math.exp(x));
    }

    /** ND4J's softmax: the maximum subtracted first, so large logits do not overflow. */
    private static void softmax(float[] v, int from, int to) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = from; i < to; i++) {
            max = Math.max(max, v[i]);
        }
        float sum = 0f;
        for (int i = from; i < to; i++) {
            v[i] = (float) Math.exp(v[i] - max);
            sum += v[i];
        }
        for (int i = from; i < to; i++) {
            v[i] /= sum;
        }
    }
}
