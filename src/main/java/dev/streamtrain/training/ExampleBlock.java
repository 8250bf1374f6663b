package dev.streamtrain.training;

/**
 * The validated examples of one source record: {@code count} rows of row-major features and label rows
 * (one-hot for classes), with optional per-example loss weights (null means all 1).
 */
public record ExampleBlock(int count, float[] features, float[] labels, float[] weights, RecordHandle source) {

    public float weight(int row) {
        return weights == null ? 1f : weights[row];
    }
}
