package dev.streamtrain.tuning;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

/**
 * How the service searches for the rate of a spec that says {@code learning-rate: auto} ({@code streamtrain.tuner.*};
 * see {@link TunerSettings} for each setting, and docs/learning-rate-auto.md for the measurements behind the
 * defaults). Service settings, not the model's: they decide how the rate is found, not what is learnt, and an
 * operator trades cost ({@code population}) against accuracy per deployment without changing the spec. A checkpoint
 * keeps the settings its population was searching with: a restore continues with them.
 */
@ConfigMapping(prefix = "streamtrain.tuner")
public interface TunerConfig {

    /** Members trained side by side; each costs about one training step per batch. */
    @WithDefault("4")
    int population();

    /** The first member's rate, as a multiple of the optimizer's (default or named) rate. */
    @WithDefault("1")
    double lowest();

    /** The last member's rate, as such a multiple; the others are log-spaced between. */
    @WithDefault("30")
    double highest();

    /** Steps between two exploit decisions. */
    @WithDefault("4")
    int interval();

    /** Half-life, in steps, of the recent prequential loss that ranks the members. */
    @WithDefault("8")
    double halfLife();

    /** Share of the population replaced (bottom) and copied from (top) at a decision. */
    @WithDefault("0.25")
    double truncation();

    /** A copied member's rate is the donor's times or divided by this. */
    @WithDefault("2")
    double perturbation();

    /** The lowest rate the search may reach, as a multiple of the optimizer's. */
    @WithDefault("0.001")
    double floor();

    /** The highest rate the search may reach, as a multiple of the optimizer's. */
    @WithDefault("1000")
    double ceiling();

    /** Steps between decisions at the start of the stream and after a drift (0: {@code interval} throughout). */
    @WithDefault("0")
    int earlyInterval();

    /** How long the early decisions last, in steps (0: none). */
    @WithDefault("0")
    int earlySteps();

    /** On a detected drift, the other members copy the serving one at up to this times its rate (1: off). */
    @WithDefault("10")
    double driftSpread();

    /** The settings for a spec of seed {@code seed}; out-of-range values are refused with the key that holds them. */
    default TunerSettings settings(long seed) {
        try {
            return new TunerSettings(population(), lowest(), highest(), interval(), halfLife(), truncation(),
                    perturbation(), floor(), ceiling(), seed, earlyInterval(), earlySteps(), driftSpread());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("Refusing to start: streamtrain.tuner.* " + e.getMessage(), e);
        }
    }
}
