package dev.streamtrain.demo;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

import java.time.Duration;

/** The demo: stream the bundled digits through the broker and report ({@code streamtrain.demo.*}). */
@ConfigMapping(prefix = "streamtrain.demo")
public interface DemoConfig {

    /** Runs the demo producer and progress report inside the service. */
    @WithDefault("false")
    boolean enabled();

    /** Passes over the 1797 digits, each in a fresh seeded shuffle. */
    @WithDefault("5")
    int passes();

    /** Examples produced per second (0: as fast as the broker takes them). */
    @WithDefault("1500")
    int rate();

    /** Seed of the shuffles. */
    @WithDefault("42")
    long seed();

    /** Adds four bad records per pass (malformed, wrong shape, NaN, bad label) to show the dead-letter path. */
    @WithDefault("true")
    boolean badRecords();

    /** How often a progress line is printed. */
    @WithDefault("2s")
    Duration progressInterval();

    /** Exit after the summary instead of serving until Ctrl+C (for scripts). */
    @WithDefault("false")
    boolean exitAfterSummary();
}
