package dev.streamtrain.model;

import java.util.Arrays;

/**
 * Online standardisation of the inputs: per-feature running mean and variance (Welford's algorithm, with
 * Chan et al.'s batch update), learned from the stream and applied the same way in training and inference.
 * Not thread-safe: the trainer owns it; serving gets an immutable {@link #copy()}.
 */
public final class OnlineNormalizer {

    /** Below this standard deviation a feature is only centred, never blown up. */
    private static final double MIN_STD = 1e-6;

    private final int features;
    private long count;
    private final double[] mean;
    private final double[] m2;
    private final float[] shift;
    private final float[] scale;

    public OnlineNormalizer(int features) {
        this.features = features;
        this.mean = new double[features];
        this.m2 = new double[features];
        this.shift = new float[features];
        this.scale = new float[features];
        Arrays.fill(scale, 1f);
    }

    private OnlineNormalizer(OnlineNormalizer other) {
        this.features = other.features;
        this.count = other.count;
        this.mean = other.mean.clone();
        this.m2 = other.m2.clone();
        this.shift = other.shift.clone();
        this.scale = other.scale.clone();
    }

    /** Folds {@code rows} examples of {@code x} (row-major) into the running statistics. */
    public void update(float[] x, int rows) {
        if (rows == 0) {
            return;
        }
        for (int j = 0; j < features; j++) {
            double batchMean = 0;
            for (int i = 0; i < rows; i++) {
                batchMean += x[i * features + j];
            }
            batchMean /= rows;
            double batchM2 = 0;
            for (int i = 0; i < rows; i++) {
                double d = x[i * features + j] - batchMean;
                batchM2 += d * d;
            }
            long total = count + rows;
            double delta = batchMean - mean[j];
            mean[j] += delta * rows / total;
            m2[j] += batchM2 + delta * delta * count * rows / total;
            double std = Math.sqrt(m2[j] / total);
            shift[j] = (float) mean[j];
            scale[j] = (float) (std < MIN_STD ? 1.0 : 1.0 / std);
        }
        count += rows;
    }

    /** Standardises the first {@code rows} examples of {@code x} in place. */
    public void apply(float[] x, int rows) {
        for (int i = 0; i < rows; i++) {
            int base = i * features;
            for (int j = 0; j < features; j++) {
                x[base + j] = (x[base + j] - shift[j]) * scale[j];
            }
        }
    }

    public long count() {
        return count;
    }

    public int features() {
        return features;
    }

    /** The running mean of feature {@code j}, without copying. */
    public double meanAt(int j) {
        return mean[j];
    }

    /** The running standard deviation (population) of feature {@code j}; 0 before any example. */
    public double stdAt(int j) {
        return count == 0 ? 0 : Math.sqrt(m2[j] / count);
    }

    /** The running mean, the "average input" (used as the explanation baseline). */
    public double[] mean() {
        return mean.clone();
    }

    /** The running standard deviation (population). */
    public double[] std() {
        double[] std = new double[features];
        for (int j = 0; j < features; j++) {
            std[j] = count == 0 ? 0 : Math.sqrt(m2[j] / count);
        }
        return std;
    }

    /** Makes this normaliser's statistics those of {@code other} (same feature count), without allocating. */
    public void copyFrom(OnlineNormalizer other) {
        count = other.count;
        System.arraycopy(other.mean, 0, mean, 0, features);
        System.arraycopy(other.m2, 0, m2, 0, features);
        System.arraycopy(other.shift, 0, shift, 0, features);
        System.arraycopy(other.scale, 0, scale, 0, features);
    }

    /**
     * Folds the statistics of {@code other} (disjoint examples, same features) into these, in place: Chan et al.'s
     * pairwise combination, exact up to rounding. Model averaging merges its members' normalisers this way.
     */
    public void merge(OnlineNormalizer other) {
        requireSameFeatures(other);
        if (other.count == 0) {
            return;
        }
        long total = count + other.count;
        for (int j = 0; j < features; j++) {
            double delta = other.mean[j] - mean[j];
            mean[j] += delta * other.count / total;
            m2[j] += other.m2[j] + delta * delta * count * other.count / total;
        }
        count = total;
        refresh();
    }

    /**
     * The statistics of the examples in {@code total} that are not in {@code part}, when {@code total} is
     * {@code part} with more examples folded in: the inverse of {@link #merge}. A member of a group that started a
     * round from {@code part} contributes only what it saw since, so that the shared history is counted once.
     */
    public static OnlineNormalizer difference(OnlineNormalizer total, OnlineNormalizer part) {
        total.requireSameFeatures(part);
        if (part.count > total.count) {
            throw new IllegalArgumentException("cannot take " + part.count + " examples out of " + total.count);
        }
        OnlineNormalizer rest = new OnlineNormalizer(total.features);
        long n = total.count - part.count;
        if (n == 0) {
            return rest;
        }
        for (int j = 0; j < total.features; j++) {
            double restMean = (total.count * total.mean[j] - part.count * part.mean[j]) / n;
            double delta = restMean - part.mean[j];
            rest.mean[j] = restMean;
            rest.m2[j] = Math.max(0, total.m2[j] - part.m2[j] - delta * delta * part.count * n / total.count);
        }
        rest.count = n;
        rest.refresh();
        return rest;
    }

    private void requireSameFeatures(OnlineNormalizer other) {
        if (other.features != features) {
            throw new IllegalArgumentException("normaliser of " + other.features + " features; this one has " + features);
        }
    }

    private void refresh() {
        for (int j = 0; j < features; j++) {
            double std = count == 0 ? 0 : Math.sqrt(m2[j] / count);
            shift[j] = (float) mean[j];
            scale[j] = (float) (std < MIN_STD ? 1.0 : 1.0 / std);
        }
    }

    public OnlineNormalizer copy() {
        return new OnlineNormalizer(this);
    }

    /** The running statistics as bytes (count, then mean and M2 per feature), for checkpoints. */
    public byte[] toBytes() {
        java.nio.ByteBuffer buffer = java.nio.ByteBuffer.allocate(12 + 16 * features);
        buffer.putInt(features).putLong(count);
        for (int j = 0; j < features; j++) {
            buffer.putDouble(mean[j]).putDouble(m2[j]);
        }
        return buffer.array();
    }

    /** Restores statistics written by {@link #toBytes()}; refuses those of another feature count. */
    public static OnlineNormalizer fromBytes(byte[] bytes, int features) {
        java.nio.ByteBuffer buffer = java.nio.ByteBuffer.wrap(bytes);
        int stored = buffer.getInt();
        if (stored != features || bytes.length != 12 + 16 * features) {
            throw new IllegalArgumentException("normaliser state for " + stored + " features; the model has " + features);
        }
        OnlineNormalizer normalizer = new OnlineNormalizer(features);
        normalizer.count = buffer.getLong();
        for (int j = 0; j < features; j++) {
            normalizer.mean[j] = buffer.getDouble();
            normalizer.m2[j] = buffer.getDouble();
        }
        normalizer.refresh();
        return normalizer;
    }
}
