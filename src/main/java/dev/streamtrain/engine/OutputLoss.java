package dev.streamtrain.engine;

import java.nio.FloatBuffer;

/**
 * The loss and its gradient, in plain loops over the output activations (ND4J's softmax, computed by the
 * caller, so that the probabilities are DL4J's to the bit): a handful of values per row, where one ND4J op would
 * cost more than the arithmetic. The semantics are DL4J's: the score is the loss summed over
 * the outputs and averaged over the rows; the delta is per row, in float, and the caller divides the whole
 * gradient by the rows afterwards, as DL4J does (dividing the delta first rounds differently, and Adam
 * magnifies such differences in gradients that nearly cancel).
 * Outputs and deltas are column-major [rows, outputs], the layout of DL4J's activations.
 */
final class OutputLoss {

    /** DL4J's LossMCXENT clips the softmax into [eps, 1 - eps] before the log. */
    private static final float SOFTMAX_CLIP = 1e-10f;
    /** DL4J's LossBinaryXENT's default clipping of the sigmoid into [eps, 1 - eps]; other values are refused. */
    static final double BINARY_CLIP = 1e-5;
    private static final float BINARY_CLIP_FLOAT = (float) BINARY_CLIP;

    private final OutputKind kind;
    private final int outputs;
    private final float[] row;

    OutputLoss(OutputKind kind, int outputs) {
        this.kind = kind;
        this.outputs = outputs;
        this.row = new float[outputs];
    }

    /**
     * The mean loss of {@code rows} rows (labels row-major); writes dLoss/dLogits of each row into {@code delta}.
     * With {@code weights} (one per row; null: all 1), each row's loss and delta are multiplied by its weight and the
     * mean is still over the rows, as DL4J does with a per-example label mask.
     */
    double lossAndDelta(FloatBuffer activations, float[] labels, float[] weights, int rows, FloatBuffer delta) {
        double loss = 0;
        for (int i = 0; i < rows; i++) {
            activate(activations, i, rows);
            float weight = weights == null ? 1f : weights[i];
            double rowLoss = 0;
            for (int j = 0; j < outputs; j++) {
                float y = labels[i * outputs + j];
                float d;
                switch (kind) {
                    case SOFTMAX_CROSS_ENTROPY -> {
                        float p = Math.min(Math.max(row[j], SOFTMAX_CLIP), 1f - SOFTMAX_CLIP);
                        rowLoss -= y * Math.log(p);
                        d = p - y;
                    }
                    case SIGMOID_BINARY_CROSS_ENTROPY -> {
                        float s = row[j];
                        float p = Math.min(Math.max(s, BINARY_CLIP_FLOAT), 1f - BINARY_CLIP_FLOAT);
                        float q = 1f - p;
                        rowLoss -= y * Math.log(p) + (1f - y) * Math.log(q);
                        // DL4J's order: dLoss/dp of the clipped value, then times the sigmoid's derivative
                        d = (p - y) / (p * q) * s * (1f - s);
                    }
                    case MEAN_ABSOLUTE_ERROR -> {
                        float e = row[j] - y;
                        rowLoss += (double) Math.abs(e) / outputs;
                        d = Math.signum(e) / outputs;
                    }
                    default -> {
                        float e = row[j] - y;
                        rowLoss += (double) e * e / outputs;
                        d = 2f * e / outputs;
                    }
                }
                delta.put(j * rows + i, weights == null ? d : d * weight);
            }
            loss += weights == null ? rowLoss : rowLoss * weight;
        }
        return loss / rows;
    }

    /** The network's outputs (probabilities or regression values) of {@code rows} rows, row-major. */
    float[] outputs(FloatBuffer activations, int rows) {
        float[] out = new float[rows * outputs];
        for (int i = 0; i < rows; i++) {
            activate(activations, i, rows);
            for (int j = 0; j < outputs; j++) {
                out[i * outputs + j] = row[j];
            }
        }
        return out;
    }

    /** Row {@code i} of the output activations (column-major), into {@link #row}. */
    private void activate(FloatBuffer activations, int i, int rows) {
        for (int j = 0; j < outputs; j++) {
            row[j] = activations.get(j * rows + i);
        }
    }
}
