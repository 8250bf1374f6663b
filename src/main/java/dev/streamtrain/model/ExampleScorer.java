package dev.streamtrain.model;

import dev.streamtrain.model.spec.ModelSpec.LossKind;

/**
 * Per-example loss and correctness computed from the network's outputs, with the same definitions as DL4J's
 * loss functions (cross-entropy and binary cross-entropy summed over outputs, MSE and MAE averaged over them),
 * but clipped so that a confident wrong prediction gives a large finite loss rather than NaN.
 */
final class ExampleScorer {

    private static final double EPS = 1e-7;

    private final LossKind loss;
    private final int outputs;

    ExampleScorer(LossKind loss, int outputs) {
        this.loss = loss;
        this.outputs = outputs;
    }

    double loss(float[] out, float[] labels, int row) {
        int base = row * outputs;
        double sum = 0;
        for (int k = 0; k < outputs; k++) {
            double p = out[base + k];
            double y = labels[base + k];
            sum += switch (loss) {
                case CROSS_ENTROPY -> y == 0 ? 0 : -y * Math.log(clip(p));
                case BINARY_CROSS_ENTROPY -> -(y * Math.log(clip(p)) + (1 - y) * Math.log(clip(1 - p)));
                case MSE -> (y - p) * (y - p) / outputs;
                case MAE -> Math.abs(y - p) / outputs;
            };
        }
        return sum;
    }

    /** Argmax agreement for single-label classes; every output on the right side of 0.5 for multi-label. */
    boolean correct(float[] out, float[] labels, int row) {
        int base = row * outputs;
        if (loss == LossKind.BINARY_CROSS_ENTROPY) {
            for (int k = 0; k < outputs; k++) {
                if ((out[base + k] >= 0.5f) != (labels[base + k] >= 0.5f)) {
                    return false;
                }
            }
            return true;
        }
        return argmax(out, base) == argmax(labels, base);
    }

    private int argmax(float[] values, int base) {
        int best = 0;
        for (int k = 1; k < outputs; k++) {
            if (values[base + k] > values[base + best]) {
                best = k;
            }
        }
        return best;
    }

    private static double clip(double p) {
        return Math.min(1 - EPS, Math.max(EPS, p));
    }
}
