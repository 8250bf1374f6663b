package dev.streamtrain.control;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

import java.util.Optional;

/** The credential of the training-control routes ({@code streamtrain.admin.*}). */
@ConfigMapping(prefix = "streamtrain.admin")
public interface ControlConfig {

    /** Sent as {@code Authorization: Bearer <token>}; unset: one is generated at start and written to the token file. */
    Optional<String> token();

    /** Where a generated token is written (owner-readable only). */
    @WithDefault("data/admin-token")
    String tokenFile();
}
