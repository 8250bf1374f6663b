package dev.streamtrain.model.explain;

import java.util.ArrayList;
import java.util.List;

import dev.streamtrain.model.OnlineNormalizer;
import dev.streamtrain.model.spec.ModelSpec;

/**
 * Integrated gradients (Sundararajan, Taly, Yan, "Axiomatic Attribution for Deep Networks", ICML 2017): the
 * attribution of feature j is (x_j - x'_j) times the average of df/dx_j along the straight path from the baseline
 * x' to x. The network sees standardised inputs z = (x - mean) / std, and (x_j - x'_j) df/dx_j = (z_j - z'_j) df/dz_j,
 * so the path is walked in z and the attributions are those of the raw features. The average is the trapezoid rule
 * over {@code steps} intervals (steps + 1 gradients per row), all rows' points batched into few passes of
 * {@link InputGradients}.
 */
public final class IntegratedGradients {

    /** Interpolation points per forward/backward pass: bounds the activations held at once. */
    public static final int POINTS_PER_PASS = 1024;

    private final InputGradients network;
    private final OnlineNormalizer normalizer;
    private final int inputs;
    private final int outputs;

    /** {@code normalizer} is null when the model does not standardise its inputs. */
    IntegratedGradients(InputGradients network, OnlineNormalizer normalizer, int inputs, int outputs) {
        this.network = network;
        this.normalizer = normalizer;
        this.inputs = inputs;
        this.outputs = outputs;
    }

    /**
     * Explains {@code rows} raw rows of a model over {@code steps} trapezoid intervals
     * (1..{@value Explanation#MAX_STEPS}) by differentiating {@code network}. {@code targets} names the explained
     * output of each row (or one for all; null: the predicted class, or the only regression output); {@code baseline}
     * is null for the default, the running mean (zeros for a model that does not normalise). The arguments are
     * checked before any work and refused with an {@link InvalidExplanationException}.
     */
    public static Explanation explain(InputGradients network, ModelSpec spec, OnlineNormalizer normalizer,
                                      float[] features, int rows, int[] targets, Baseline baseline, int steps) {
        ExplanationArguments.checkSteps(steps);
        Baseline start = ExplanationArguments.baseline(spec, normalizer, baseline);
        int[] perRow = ExplanationArguments.targets(spec, targets, rows);
        IntegratedGradients method = new IntegratedGradients(network, spec.normalize() ? normalizer : null,
                spec.inputs(), spec.outputs());
        return method.explain(features, rows, perRow == null ? method.predictedTargets(features, rows) : perRow,
                start, steps);
    }

    /** Explains {@code rows} raw rows for the given output per row, from a resolved baseline (raw values). */
    Explanation explain(float[] x, int rows, int[] targets, Baseline baseline, int steps) {
        float[] z = standardised(x, rows);
        float[] start = standardised(baseline.values(), 1);
        double[] gradientSums = new double[rows * inputs];
        double[] output = new double[rows];
        double[] baselineOutput = new double[rows];
        int points = rows * (steps + 1);
        for (int first = 0; first < points; first += POINTS_PER_PASS) {
            int n = Math.min(POINTS_PER_PASS, points - first);
            float[] path = new float[n * inputs];
            int[] pointTargets = new int[n];
            for (int i = 0; i < n; i++) {
                int row = (first + i) / (steps + 1);
                float alpha = (float) ((first + i) % (steps + 1)) / steps;
                for (int j = 0; j < inputs; j++) {
                    path[i * inputs + j] = start[j] + alpha * (z[row * inputs + j] - start[j]);
                }
                pointTargets[i] = targets[row];
            }
            InputGradients.Pass pass = network.pass(path, pointTargets, n);
            for (int i = 0; i < n; i++) {
                int row = (first + i) / (steps + 1);
                int k = (first + i) % (steps + 1);
                double weight = (k == 0 || k == steps ? 0.5 : 1.0) / steps;
                for (int j = 0; j < inputs; j++) {
                    gradientSums[row * inputs + j] += weight * pass.inputGradients()[i * inputs + j];
                }
                double value = pass.outputs()[i * outputs + targets[row]];
                if (k == 0) {
                    baselineOutput[row] = value;
                } else if (k == steps) {
                    output[row] = value;
                }
            }
        }
        return new Explanation(steps, baseline, rows(z, start, gradientSums, targets, output, baselineOutput));
    }

    private List<Explanation.Row> rows(float[] z, float[] start, double[] gradientSums, int[] targets,
                                       double[] output, double[] baselineOutput) {
        List<Explanation.Row> result = new ArrayList<>(targets.length);
        for (int row = 0; row < targets.length; row++) {
            float[] attributions = new float[inputs];
            double sum = 0;
            for (int j = 0; j < inputs; j++) {
                double a = ((double) z[row * inputs + j] - start[j]) * gradientSums[row * inputs + j];
                attributions[j] = (float) a;
                sum += a;
            }
            double gap = Math.abs(sum - (output[row] - baselineOutput[row]));
            result.add(new Explanation.Row(targets[row], output[row], baselineOutput[row], attributions, gap));
        }
        return result;
    }

    /** The default targets: the most probable class per row, or the only output of a regression. */
    int[] predictedTargets(float[] x, int rows) {
        int[] targets = new int[rows];
        if (outputs == 1) {
            return targets;
        }
        float[] out = network.outputs(standardised(x, rows), rows);
        for (int row = 0; row < rows; row++) {
            for (int k = 1; k < outputs; k++) {
                if (out[row * outputs + k] > out[row * outputs + targets[row]]) {
                    targets[row] = k;
                }
            }
        }
        return targets;
    }

    private float[] standardised(float[] raw, int rows) {
        float[] z = raw.clone();
        if (normalizer != null) {
            normalizer.apply(z, rows);
        }
        return z;
    }
}
