package dev.streamtrain.training;

import java.util.Arrays;

/**
 * The validated examples of one source record: {@code count} rows of row-major features and label rows
 * (one-hot for classes), with optional per-example loss weights (null means all 1).
 */
public record ExampleBlock(int count, float[] features, float[] labels, float[] weights, RecordHandle source) {

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
                source);
    }
}
