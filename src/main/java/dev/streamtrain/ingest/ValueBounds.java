package dev.streamtrain.ingest;

import dev.streamtrain.training.RangeConfig;

/**
 * Absolute bounds on the finite values of a record, checked at decode time: a feature or regression target whose
 * magnitude is above its bound, or a loss weight above {@code maxWeight}, is dead-lettered as {@code out-of-range}.
 * Such values are finite and valid JSON, yet a few of them overflow float32 arithmetic or drag the online
 * normaliser's mean and variance so far that it never comes back. {@code Double.POSITIVE_INFINITY} switches a
 * bound off.
 */
public record ValueBounds(double maxAbsFeature, double maxAbsLabel, double maxWeight) {

    /** The defaults of {@code streamtrain.ingest.range.*}. */
    public static final ValueBounds DEFAULTS = new ValueBounds(1e14, 1e14, 1e6);

    /** No bound at all (the behaviour before bounds existed). */
    public static final ValueBounds NONE = new ValueBounds(Double.POSITIVE_INFINITY, Double.POSITIVE_INFINITY,
            Double.POSITIVE_INFINITY);

    public ValueBounds {
        require(maxAbsFeature, "max-abs-feature");
        require(maxAbsLabel, "max-abs-label");
        require(maxWeight, "max-weight");
    }

    /** The bounds of the configuration. */
    public static ValueBounds of(RangeConfig config) {
        return new ValueBounds(config.maxAbsFeature(), config.maxAbsLabel(), config.maxWeight());
    }

    private static void require(double bound, String key) {
        if (!(bound > 0)) {
            throw new IllegalArgumentException("Refusing to start: streamtrain.ingest.range." + key
                    + " must be > 0 (Infinity: no bound), not " + bound);
        }
    }
}
