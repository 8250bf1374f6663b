package dev.streamtrain.training;

import java.util.Locale;

import dev.streamtrain.model.FeatureRange;

/**
 * Refuses, on the training thread, a record whose features are far outside what the model has learned: once the
 * normaliser has seen {@code warmUp} examples, a feature more than {@code maxDeviations} standard deviations from its
 * learned mean (see {@link FeatureRange#deviations}). Such a value is finite and within the absolute bounds checked at
 * decode time, yet folding it in would drag the normaliser's mean and variance so far that every later example is
 * scaled to nothing, for good. It is judged against the statistics of the network that would consume it, read live
 * ({@link #use}), so that after a rollback the record is judged by the state it would change. A refused record is
 * dead-lettered {@code out-of-range} whole; none of its rows is trained.
 */
public final class RecordGuard {

    /** A guard that refuses nothing. */
    public static final RecordGuard OFF = new RecordGuard(Double.POSITIVE_INFINITY, Long.MAX_VALUE);

    /** A record refused before any of its rows was trained, and why (a sentence naming the bound). */
    public record Refusal(RecordHandle source, String cause) {
    }

    private final double maxDeviations;
    private final long warmUp;
    private FeatureRange range;

    public RecordGuard(double maxDeviations, long warmUp) {
        if (!(maxDeviations > 0)) {
            throw new IllegalArgumentException("Refusing to start: streamtrain.ingest.range.max-deviations must be > 0"
                    + " (Infinity: no bound), not " + maxDeviations);
        }
        if (warmUp < 1) {
            throw new IllegalArgumentException("Refusing to start: streamtrain.ingest.range.warm-up must be >= 1, not "
                    + warmUp);
        }
        this.maxDeviations = maxDeviations;
        this.warmUp = warmUp;
    }

    /** The guard of the configuration. */
    public static RecordGuard of(RangeConfig config) {
        return new RecordGuard(config.maxDeviations(), config.warmUp());
    }

    /** Judges by {@code current} from now on (the trainer's network, which a rollback may replace); returns this. */
    RecordGuard use(FeatureRange current) {
        if (active()) {
            // OFF is shared: it keeps nothing
            this.range = current;
        }
        return this;
    }

    /** Whether this guard can refuse anything at all. */
    boolean active() {
        return maxDeviations != Double.POSITIVE_INFINITY;
    }

    /** Null if every row of {@code block} may be trained, or why the record is refused. */
    Refusal check(ExampleBlock block) {
        if (!active() || range == null || range.seen() < warmUp) {
            return null;
        }
        float[] x = block.features();
        for (int row = 0; row < block.count(); row++) {
            int j = range.violation(x, row, maxDeviations);
            if (j >= 0) {
                return new Refusal(block.source(), cause(block.firstRow() + row, j, x[row * range.features() + j]));
            }
        }
        return null;
    }

    private String cause(int example, int j, float value) {
        return String.format(Locale.ROOT, "feature %d of example %d is %s, %.3g standard deviations from its learned"
                + " mean %.6g (std %.6g, from %d examples); the bound is %s standard deviations"
                + " (streamtrain.ingest.range.max-deviations)", j, example, value, range.deviations(j, value),
                range.meanAt(j), range.stdAt(j), range.seen(), maxDeviations);
    }
}
