package dev.streamtrain.model;

/**
 * The learned range of each input feature — its running mean and standard deviation, and how many examples they
 * come from — as the model's normaliser holds them: a live view, read on the training thread only. Used to refuse
 * an example so far out that folding it in would wreck the statistics every later example is scaled by.
 */
public final class FeatureRange {

    /**
     * Deviations are measured in units of the feature's standard deviation, but never smaller than this, nor than
     * {@link #MEAN_SHARE} of the mean's magnitude: a feature constant so far (a flag, a category not seen during the
     * warm-up) has a standard deviation of 0, and its first change would otherwise be infinitely far out, refused
     * for ever after.
     */
    static final double MIN_UNIT = 1.0;
    static final double MEAN_SHARE = 1e-3;

    private final OnlineNormalizer normalizer;

    FeatureRange(OnlineNormalizer normalizer) {
        this.normalizer = normalizer;
    }

    /** A live view of {@code normalizer}'s statistics ({@link Network#featureRange()} is the trainer's). */
    public static FeatureRange of(OnlineNormalizer normalizer) {
        return new FeatureRange(normalizer);
    }

    /** Examples the statistics come from. */
    public long seen() {
        return normalizer.count();
    }

    public int features() {
        return normalizer.features();
    }

    public double meanAt(int j) {
        return normalizer.meanAt(j);
    }

    public double stdAt(int j) {
        return normalizer.stdAt(j);
    }

    /** How many standard deviations (see {@link #unitAt}) {@code value} is from the learned mean of feature {@code j}. */
    public double deviations(int j, double value) {
        return Math.abs(value - meanAt(j)) / unitAt(j);
    }

    /** The unit deviations of feature {@code j} are measured in: its standard deviation, floored as said above. */
    public double unitAt(int j) {
        return Math.max(stdAt(j), Math.max(MIN_UNIT, MEAN_SHARE * Math.abs(meanAt(j))));
    }

    /**
     * The first feature of {@code row} (of {@code x}, row-major) more than {@code maxDeviations} standard
     * deviations from its mean, or -1.
     */
    public int violation(float[] x, int row, double maxDeviations) {
        int n = features();
        for (int j = 0; j < n; j++) {
            if (deviations(j, x[row * n + j]) > maxDeviations) {
                return j;
            }
        }
        return -1;
    }
}
