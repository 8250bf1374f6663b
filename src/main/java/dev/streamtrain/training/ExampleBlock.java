package dev.streamtrain.training;

import java.util.Arrays;

/**
 * The validated examples of one source record: {@code count} rows of row-major features and label rows
 * (one-hot for classes), with optional per-example loss weights (null means all 1). {@code firstRow} is the
 * index in the record of the first of these rows (0, unless the block is the untrained tail of a record).
 * A held-out block ({@code holdout}) is scored but never trained on.
 */
public record ExampleBlock(int count, float[] features, float[] labels, float[] weights, RecordHandle source,
                           int firstRow, boolean holdout) {

    public ExampleBlock(int count, float[] features, float[] labels, float[] weights, RecordHandle source) {
        this(count, features, labels, weights, source, 0, false);
    }

    /** The same rows, held out (scored, never trained on) or not. */
    public ExampleBlock heldOut(boolean heldOut) {
        return new ExampleBlock(count, features, labels, weights, source, firstRow, heldOut);
    }

    public float weight(int row) {
        return weights == null ? 1f : weights[row];
    }

    /** The rows from {@code first} on, from the same record. */
    public ExampleBlock tail(int first) {
        int inputs = features.length / count;
        int labelWidth = labels.length / count;
        return new ExampleBlock(count - first,
                Arrays.copyOfRange(features, first * inputs, features.length),
                Arrays.copyOfRange(labels, first * labelWidth, labels.length),
                weights == null ? null : Arrays.copyOfRange(weights, first, weights.length),
                source, firstRow + first, holdout);
    }
}
