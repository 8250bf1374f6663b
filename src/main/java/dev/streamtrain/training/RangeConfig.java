package dev.streamtrain.training;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

/**
 * Bounds on the values a record may carry ({@code streamtrain.ingest.range.*}); a record beyond one is
 * dead-lettered as {@code out-of-range}. The absolute bounds are checked when a record is decoded; the relative
 * one on the training thread, against the statistics the model's normaliser has learned. {@code Infinity}
 * switches a bound off.
 */
@ConfigMapping(prefix = "streamtrain.ingest.range")
public interface RangeConfig {

    /** A feature whose magnitude is above this is refused (float32 squares overflow above ~1.8e19). */
    @WithDefault("1e14")
    double maxAbsFeature();

    /** A regression target whose magnitude is above this is refused. */
    @WithDefault("1e14")
    double maxAbsLabel();

    /** A loss weight above this is refused. */
    @WithDefault("1e6")
    double maxWeight();

    /**
     * Once the normaliser has seen {@link #warmUp()} examples, a feature more than this many standard deviations
     * from the learned mean of that feature is refused.
     */
    @WithDefault("1e4")
    double maxDeviations();

    /** Examples the normaliser must have learned from before the relative bound applies. */
    @WithDefault("500")
    long warmUp();
}
