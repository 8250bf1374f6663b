package dev.streamtrain.training.health;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * ADWIN, the adaptive sliding window of A. Bifet and R. Gavaldà, "Learning from Time-Changing Data with Adaptive
 * Windowing", SIAM International Conference on Data Mining (SDM) 2007, in its ADWIN2 form and with the details
 * and defaults of MOA's {@code moa.classifiers.core.driftdetection.ADWIN}.
 *
 * <p>The window holds the recent observations as an exponential histogram: row {@code r} holds up to
 * {@value #MAX_BUCKETS} buckets of 2<sup>r</sup> observations each, kept as their sum and the sum of squared
 * deviations from their own mean; when a row gets one bucket more, its two oldest merge into one bucket of the
 * next row. A window of W observations thus takes O(log W) buckets, and adding is amortised O(1) plus a check for
 * a cut every {@value #CLOCK} insertions that walks the O(log W) bucket boundaries.
 *
 * <p>The check splits the window at every bucket boundary into an older part W0 and a newer part W1 (n0 and n1
 * observations, means μ0 and μ1) and cuts when |μ0 − μ1| exceeds the variance-based bound the paper gives for
 * practical use, as MOA computes it:
 * <pre>
 *   ε_cut = sqrt(2/m · σ²_W · ln(2/δ')) + 2/(3m) · ln(2/δ'),  1/m = 1/(n0 − 4) + 1/(n1 − 4),  δ' = δ / ln n
 * </pre>
 * where σ²_W is the variance of the whole window of n observations, δ' shares the confidence δ among the
 * O(log n) splits tested (MOA's choice), and "− 4" ({@code n − }{@value #MIN_SUB_WINDOW}{@code  + 1}) is MOA's correction for
 * short sub-windows. Only splits whose parts both have more than {@value #MIN_SUB_WINDOW}{@code  + 1} observations
 * are tested, and only once the window has more than {@value #MIN_WINDOW_TO_CHECK}. On a cut the oldest bucket is
 * dropped and the check starts over, until no split differs.
 *
 * <p>ADWIN cuts when the mean goes either way. As a drift detector for an error stream this class signals only an
 * increase: {@link #add} returns true when the window was cut and its mean is now higher than before the
 * observation came in, the test MOA's ADWIN bagging ({@code OzaBagAdwin}) applies to its error estimators. When the
 * error goes down the window still drops its older, worse part, but nothing is signalled.
 */
public final class Adwin implements DriftDetector {

    /** The confidence of MOA's ADWIN ({@code DELTA}): the false-alarm probability allowed per check. */
    public static final double DEFAULT_DELTA = 0.002;
    /** Buckets a row keeps before its two oldest merge (MOA's {@code MAXBUCKETS}). */
    public static final int MAX_BUCKETS = 5;
    /** Insertions between two checks for a cut (MOA's {@code mintClock}). */
    public static final int CLOCK = 32;
    /**
     * The minimum sub-window length of the cut test (MOA's {@code mintMinWinLength}): both parts of a split need more
     * than this plus one observations, and each counts as its length minus this plus one in the bound.
     */
    public static final int MIN_SUB_WINDOW = 5;
    /** The window is checked for a cut only when longer than this (MOA's {@code mintMinimLongitudWindow}). */
    public static final int MIN_WINDOW_TO_CHECK = 10;

    /** Slots a row needs: it can hold one bucket over {@link #MAX_BUCKETS} until the merge. */
    private static final int SLOTS = MAX_BUCKETS + 1;

    private final double delta;
    /** Observations ever added, for the clock of the checks. */
    private long time;
    private long width;
    private double total;
    /** The sum of squared deviations from the window's mean (n·σ²_W). */
    private double variance;
    /** Row r's buckets at [r·SLOTS, r·SLOTS + counts[r]), oldest first. */
    private double[] totals = new double[8 * SLOTS];
    private double[] variances = new double[8 * SLOTS];
    private int[] counts = new int[8];
    /** Rows in use; the last one holds the oldest, largest buckets. */
    private int rows = 1;

    /** @param delta the confidence δ in (0, 1): smaller means fewer false alarms and later detection */
    public Adwin(double delta) {
        if (!(delta > 0 && delta < 1)) {
            throw new IllegalArgumentException("delta must be in (0, 1): " + delta);
        }
        this.delta = delta;
    }

    /** ADWIN with MOA's default confidence {@value #DEFAULT_DELTA}. */
    public static Adwin defaults() {
        return new Adwin(DEFAULT_DELTA);
    }

    @Override
    public boolean add(double value) {
        if (!Double.isFinite(value)) {
            throw new IllegalArgumentException("not a finite observation: " + value);
        }
        double before = mean();
        time++;
        insert(value);
        if (time % CLOCK != 0 || width <= MIN_WINDOW_TO_CHECK) {
            return false;
        }
        return shrink() && mean() > before;
    }

    @Override
    public double mean() {
        return width == 0 ? Double.NaN : total / width;
    }

    @Override
    public long width() {
        return width;
    }

    @Override
    public String name() {
        return "adwin";
    }

    /** The confidence δ. */
    public double delta() {
        return delta;
    }

    private void insert(double value) {
        if (width > 0) {
            double deviation = value - total / width;
            variance += width * deviation * deviation / (width + 1);
        }
        width++;
        total += value;
        append(0, value, 0);
        for (int r = 0; counts[r] > MAX_BUCKETS; r++) {
            if (r + 1 == rows) {
                addRow();
            }
            int oldest = r * SLOTS;
            double size = bucketSize(r);
            double difference = totals[oldest] / size - totals[oldest + 1] / size;
            // the two parts' squared deviations plus n1·n2/(n1 + n2)·(μ1 − μ2)², n1 = n2 = size
            append(r + 1, totals[oldest] + totals[oldest + 1],
                    variances[oldest] + variances[oldest + 1] + size * difference * difference / 2);
            removeOldest(r, 2);
        }
    }

    /** Drops the oldest bucket while some split of the window differs; true if anything was dropped. */
    private boolean shrink() {
        boolean cut = false;
        boolean differs = true;
        while (differs) {
            differs = false;
            double logTerm = Math.log(2 * Math.log(width) / delta);
            double windowVariance = Math.max(0, variance / width);
            double n0 = 0;
            double sum0 = 0;
            double n1 = width;
            double sum1 = total;
            splits:
            for (int r = rows - 1; r >= 0; r--) {
                double size = bucketSize(r);
                for (int k = 0; k < counts[r]; k++) {
                    double bucketTotal = totals[r * SLOTS + k];
                    n0 += size;
                    n1 -= size;
                    sum0 += bucketTotal;
                    sum1 -= bucketTotal;
                    if (r == 0 && k == counts[0] - 1) {
                        break splits; // the newest bucket: nothing would be left after the split
                    }
                    if (n0 > MIN_SUB_WINDOW + 1 && n1 > MIN_SUB_WINDOW + 1
                            && Math.abs(sum0 / n0 - sum1 / n1) > cutBound(n0, n1, windowVariance, logTerm)) {
                        dropOldestBucket();
                        cut = true;
                        differs = true;
                        break splits;
                    }
                }
            }
        }
        return cut;
    }

    /** ε_cut for sub-windows of n0 and n1 observations; logTerm is ln(2/δ') = ln(2·ln(n)/δ). */
    private static double cutBound(double n0, double n1, double windowVariance, double logTerm) {
        double inverseM = 1 / (n0 - MIN_SUB_WINDOW + 1) + 1 / (n1 - MIN_SUB_WINDOW + 1);
        return Math.sqrt(2 * inverseM * windowVariance * logTerm) + 2.0 / 3 * logTerm * inverseM;
    }

    private void dropOldestBucket() {
        int r = rows - 1;
        int oldest = r * SLOTS;
        double size = bucketSize(r);
        width -= (long) size;
        total -= totals[oldest];
        double difference = totals[oldest] / size - total / width;
        variance -= variances[oldest] + size * width * difference * difference / (size + width);
        removeOldest(r, 1);
        if (counts[r] == 0 && rows > 1) {
            rows--;
        }
    }

    private void append(int row, double bucketTotal, double bucketVariance) {
        int slot = row * SLOTS + counts[row]++;
        totals[slot] = bucketTotal;
        variances[slot] = bucketVariance;
    }

    private void removeOldest(int row, int buckets) {
        int start = row * SLOTS;
        int left = counts[row] - buckets;
        System.arraycopy(totals, start + buckets, totals, start, left);
        System.arraycopy(variances, start + buckets, variances, start, left);
        counts[row] = left;
    }

    private void addRow() {
        if (rows == counts.length) {
            counts = Arrays.copyOf(counts, 2 * rows);
            totals = Arrays.copyOf(totals, 2 * rows * SLOTS);
            variances = Arrays.copyOf(variances, 2 * rows * SLOTS);
        }
        rows++;
    }

    private static double bucketSize(int row) {
        return 1L << row;
    }

    /** The complete state, for a checkpoint; {@link #restore} continues from it exactly. */
    public State state() {
        List<Bucket> buckets = new ArrayList<>();
        for (int r = rows - 1; r >= 0; r--) {
            for (int k = 0; k < counts[r]; k++) {
                buckets.add(new Bucket(r, totals[r * SLOTS + k], variances[r * SLOTS + k]));
            }
        }
        return new State(delta, time, width, total, variance, buckets);
    }

    /**
     * A detector in the given state, which behaves from then on exactly as the one whose {@link #state} it was.
     *
     * @throws IllegalArgumentException if the buckets do not make up a window of {@code width} observations
     */
    public static Adwin restore(State state) {
        Adwin adwin = new Adwin(state.delta());
        adwin.time = state.time();
        adwin.width = state.width();
        adwin.total = state.total();
        adwin.variance = state.variance();
        List<Bucket> buckets = state.buckets();
        int topRow = buckets.isEmpty() ? 0 : buckets.get(0).row();
        if (topRow < 0 || topRow > 62) {
            throw new IllegalArgumentException("bucket row out of range: " + topRow);
        }
        while (adwin.rows <= topRow) {
            adwin.addRow();
        }
        long observations = 0;
        int previousRow = topRow;
        for (Bucket bucket : buckets) {
            int row = bucket.row();
            if (row < 0 || row > previousRow || adwin.counts[row] == MAX_BUCKETS) {
                throw new IllegalArgumentException("buckets not in histogram order: " + buckets);
            }
            adwin.append(row, bucket.total(), bucket.variance());
            observations += 1L << row;
            previousRow = row;
        }
        if (observations != state.width()) {
            throw new IllegalArgumentException(
                    "buckets hold " + observations + " observations, width is " + state.width());
        }
        return adwin;
    }

    /**
     * ADWIN's state: its confidence, the observations ever added ({@code time}, the phase of the check clock), the
     * window's length, sum and sum of squared deviations, and its buckets from the oldest to the newest.
     */
    public record State(double delta, long time, long width, double total, double variance, List<Bucket> buckets) {

        public State {
            buckets = List.copyOf(buckets);
        }
    }

    /** A bucket of 2<sup>row</sup> observations: their sum and their sum of squared deviations from their mean. */
    public record Bucket(int row, double total, double variance) {
    }
}
