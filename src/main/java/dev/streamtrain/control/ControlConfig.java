package dev.streamtrain.control;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

import java.util.Optional;

/** The credential of the training-control routes ({@code streamtrain.admin.*}). */
@ConfigMapping(prefix = "streamtrain.admin")
public interface ControlConfig {

    /**
     * Sent as {@code Authorization: Bearer <token>}; fixed for the life of the process. Unset: the tokens are the
     * token file's lines (watched, so they rotate without a restart), one generated there when it holds none.
     */
    Optional<String> token();

    /** The file of accepted tokens, one per line, read again when it changes; a generated token is written here. */
    @WithDefault("data/admin-token")
    String tokenFile();
}
