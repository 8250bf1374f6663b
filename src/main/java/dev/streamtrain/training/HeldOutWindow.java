package dev.streamtrain.training;

import dev.streamtrain.model.MiniBatch;

/**
 * The most recent held-out examples (raw, as they arrived), a ring of fixed size: what the promotion rule
 * scores the candidate and the serving snapshot on. Neither model was trained on them.
 */
final class HeldOutWindow {

    private final int inputs;
    private final int labelWidth;
    private final float[] features;
    private final float[] labels;
    private final float[] weights;
    private int size;
    private int next;

    HeldOutWindow(int capacity, int inputs, int labelWidth) {
        this.inputs = inputs;
        this.labelWidth = labelWidth;
        this.features = new float[capacity * inputs];
        this.labels = new float[capacity * labelWidth];
        this.weights = new float[capacity];
    }

    /** Keeps the held-out rows of a raw mini-batch, dropping the oldest ones beyond the capacity. */
    void add(MiniBatch raw) {
        boolean[] heldOut = raw.holdout();
        for (int i = 0; i < raw.size(); i++) {
            if (heldOut[i]) {
                System.arraycopy(raw.features(), i * inputs, features, next * inputs, inputs);
                System.arraycopy(raw.labels(), i * labelWidth, labels, next * labelWidth, labelWidth);
                weights[next] = raw.weights()[i];
                next = (next + 1) % weights.length;
                size = Math.min(size + 1, weights.length);
            }
        }
    }

    int size() {
        return size;
    }

    void clear() {
        size = 0;
        next = 0;
    }

    /** The window as a mini-batch of held-out rows, oldest first. */
    MiniBatch asBatch() {
        MiniBatch batch = new MiniBatch(Math.max(1, size), inputs, labelWidth);
        int start = size < weights.length ? 0 : next;
        for (int k = 0; k < size; k++) {
            int row = (start + k) % weights.length;
            batch.add(features, labels, weights[row], row, true);
        }
        return batch;
    }
}
