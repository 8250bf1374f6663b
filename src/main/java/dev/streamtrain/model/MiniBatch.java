package dev.streamtrain.model;

import java.util.Arrays;

/**
 * A reusable mini-batch buffer: row-major features and label rows plus per-example loss weights. The trainer
 * fills it in place, so the hot path allocates nothing per example.
 */
public final class MiniBatch {

    private final int inputs;
    private final int labelWidth;
    private final float[] features;
    private final float[] labels;
    private final float[] weights;
    private final boolean[] holdout;
    private int size;
    private MiniBatch spare;
    private boolean weighted;

    public MiniBatch(int capacity, int inputs, int labelWidth) {
        this.inputs = inputs;
        this.labelWidth = labelWidth;
        this.features = new float[capacity * inputs];
        this.labels = new float[capacity * labelWidth];
        this.weights = new float[capacity];
        this.holdout = new boolean[capacity];
    }

    /** Appends one example, copied from row {@code row} of the given arrays. */
    public void add(float[] x, float[] y, float weight, int row) {
        add(x, y, weight, row, false);
    }

    /** Appends one example; a held-out one is scored but never trained on. */
    public void add(float[] x, float[] y, float weight, int row, boolean heldOut) {
        System.arraycopy(x, row * inputs, features, size * inputs, inputs);
        System.arraycopy(y, row * labelWidth, labels, size * labelWidth, labelWidth);
        weights[size] = weight;
        holdout[size] = heldOut;
        weighted |= weight != 1f;
        size++;
    }

    public void clear() {
        size = 0;
        weighted = false;
    }

    public int size() {
        return size;
    }

    public int capacity() {
        return weights.length;
    }

    public boolean isFull() {
        return size == weights.length;
    }

    public boolean isEmpty() {
        return size == 0;
    }

    public boolean weighted() {
        return weighted;
    }

    public int inputs() {
        return inputs;
    }

    public int labelWidth() {
        return labelWidth;
    }

    /** The feature buffer; rows beyond {@link #size()} are stale. */
    public float[] features() {
        return features;
    }

    public float[] labels() {
        return labels;
    }

    public float[] weights() {
        return weights;
    }

    /** Which rows are held out; rows beyond {@link #size()} are stale. */
    public boolean[] holdout() {
        return holdout;
    }

    /**
     * Moves the held-out rows after the others, each group keeping its order; returns how many rows are not
     * held out (they are then rows 0 to that number − 1).
     */
    public int holdOutLast() {
        int trainable = 0;
        for (int i = 0; i < size; i++) {
            trainable += holdout[i] ? 0 : 1;
        }
        if (trainable == size || trainable == 0) {
            return trainable;
        }
        if (spare == null) {
            spare = new MiniBatch(capacity(), inputs, labelWidth);
        }
        spare.copyFrom(this);
        int front = 0;
        int back = trainable;
        for (int i = 0; i < size; i++) {
            int to = spare.holdout[i] ? back++ : front++;
            System.arraycopy(spare.features, i * inputs, features, to * inputs, inputs);
            System.arraycopy(spare.labels, i * labelWidth, labels, to * labelWidth, labelWidth);
            weights[to] = spare.weights[i];
            holdout[to] = spare.holdout[i];
        }
        return trainable;
    }

    /** Makes this batch a copy of {@code other} (same shape): rows, labels, weights and held-out flags. */
    public void copyFrom(MiniBatch other) {
        size = other.size;
        weighted = other.weighted;
        System.arraycopy(other.features, 0, features, 0, size * inputs);
        System.arraycopy(other.labels, 0, labels, 0, size * labelWidth);
        System.arraycopy(other.weights, 0, weights, 0, size);
        System.arraycopy(other.holdout, 0, holdout, 0, size);
    }

    /** Makes this batch a copy of the rows of {@code other} (same shape) that {@code drop} does not mark. */
    public void copyFrom(MiniBatch other, boolean[] drop) {
        clear();
        for (int i = 0; i < other.size; i++) {
            if (!drop[i]) {
                add(other.features, other.labels, other.weights[i], i, other.holdout[i]);
            }
        }
    }

    /** A copy of the filled part, for a batch that is kept (e.g. quarantined) beyond the step. */
    public float[] featureRows() {
        return Arrays.copyOf(features, size * inputs);
    }
}
