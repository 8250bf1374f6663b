package dev.streamtrain.training.health;

import java.util.Arrays;

/**
 * The training loss step by step, as the second witness of the gradient rules: the mean of the last
 * {@code window} steps' losses (each the prequential loss of a batch, scored before the model learnt from it),
 * the lowest such mean over the last {@value #WINDOWS} complete windows (the baseline a rise is judged against)
 * and the mean of the first window (the loss of the untrained model: what "still high" is judged against).
 * A loss "rises" when the recent mean, plus a tenth of the starting loss, is {@code riseFactor} times the
 * baseline plus that tenth: the offset keeps the relative noise of a converged model's near-zero losses (one
 * misclassified example in a batch) from counting as a rise. Called on the training thread.
 */
final class LossTrend {

    /** Complete windows the baseline looks back over. */
    static final int WINDOWS = 10;

    /** What the trend remembers (checkpointed with the trainer); the arrays hold their values oldest first. */
    record State(double[] recent, double[] windowMeans, long count, double start) {
        // by value (a record compares arrays by reference): a restored state equals the one saved
        @Override
        public boolean equals(Object other) {
            return other instanceof State o && Arrays.equals(recent, o.recent)
                    && Arrays.equals(windowMeans, o.windowMeans) && count == o.count
                    && Double.compare(start, o.start) == 0;
        }

        @Override
        public int hashCode() {
            return 31 * (31 * Arrays.hashCode(recent) + Arrays.hashCode(windowMeans)) + Long.hashCode(count);
        }

        @Override
        public String toString() {
            return "State[recent=" + Arrays.toString(recent) + ", windowMeans=" + Arrays.toString(windowMeans)
                    + ", count=" + count + ", start=" + start + "]";
        }
    }

    /** What the loss says at a sampled step. */
    record Witness(boolean rising, boolean stillHigh, double recent, double baseline, double start) {
        static final Witness NONE = new Witness(false, false, Double.NaN, Double.NaN, Double.NaN);
    }

    private final int window;
    private final double riseFactor;
    private final double highFraction;
    private final double[] recent;
    private final double[] windowMeans = new double[WINDOWS];
    private long count;
    private double start = Double.NaN;

    LossTrend(int window, double riseFactor, double highFraction) {
        this.window = Math.max(1, window);
        this.riseFactor = riseFactor;
        this.highFraction = highFraction;
        this.recent = new double[this.window];
        Arrays.fill(windowMeans, Double.NaN);
    }

    /** One step's mean training loss; a step that trained nothing or whose loss is not finite is not one. */
    void add(double loss) {
        if (!Double.isFinite(loss)) {
            return;
        }
        recent[(int) (count % window)] = loss;
        count++;
        if (count % window == 0) {
            double mean = recentMean();
            if (Double.isNaN(start)) {
                start = mean;
            }
            windowMeans[(int) ((count / window - 1) % WINDOWS)] = mean;
        }
    }

    private double recentMean() {
        int n = (int) Math.min(count, window);
        double sum = 0;
        for (int i = 0; i < n; i++) {
            sum += recent[i];
        }
        return n == 0 ? Double.NaN : sum / n;
    }

    private double baseline() {
        double lowest = Double.NaN;
        for (double mean : windowMeans) {
            if (!Double.isNaN(mean) && !(mean >= lowest)) {
                lowest = mean;
            }
        }
        return lowest;
    }

    Witness witness() {
        if (Double.isNaN(start) || count < window) {
            return Witness.NONE;
        }
        double now = recentMean();
        double base = baseline();
        double offset = 0.1 * Math.abs(start);
        boolean rising = riseFactor > 0 && now + offset > riseFactor * (base + offset);
        boolean high = now >= highFraction * start;
        return new Witness(rising, high, now, base, start);
    }

    State state() {
        int n = (int) Math.min(count, window);
        double[] ordered = new double[n];
        for (int i = 0; i < n; i++) {
            ordered[i] = recent[(int) ((count - n + i) % window)];
        }
        long windows = count / window;
        int m = (int) Math.min(windows, WINDOWS);
        double[] means = new double[m];
        for (int i = 0; i < m; i++) {
            means[i] = windowMeans[(int) ((windows - m + i) % WINDOWS)];
        }
        return new State(ordered, means, count, start);
    }

    /** Continues from a saved state; one of another window length (changed settings) starts the trend afresh. */
    void restore(State state) {
        Arrays.fill(recent, 0);
        Arrays.fill(windowMeans, Double.NaN);
        count = 0;
        start = Double.NaN;
        if (state == null || state.recent() == null || state.windowMeans() == null
                || state.recent().length != Math.min(state.count(), window)) {
            return;
        }
        count = state.count();
        start = state.start();
        int n = state.recent().length;
        for (int i = 0; i < n; i++) {
            recent[(int) ((count - n + i) % window)] = state.recent()[i];
        }
        long windows = count / window;
        int m = state.windowMeans().length;
        for (int i = 0; i < m; i++) {
            windowMeans[(int) ((windows - m + i) % WINDOWS)] = state.windowMeans()[i];
        }
    }
}
