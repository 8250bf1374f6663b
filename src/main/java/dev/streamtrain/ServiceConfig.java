package dev.streamtrain;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

/** The role of this process ({@code streamtrain.mode}). */
@ConfigMapping(prefix = "streamtrain")
public interface ServiceConfig {

    /**
     * {@code train}: learn from the examples topic and serve (the default); {@code serve}: a serving-only
     * replica that does not consume examples, loads the newest valid checkpoint and follows the trainer's
     * {@code checkpoint-saved} events (see {@code ModeConfigSourceFactory}).
     */
    @WithDefault("train")
    String mode();

    /** Whether this process trains ({@code streamtrain.mode=train}). */
    default boolean trains() {
        return !"serve".equals(mode());
    }
}
