package dev.streamtrain.model.spec;

import io.smallrye.config.ConfigMapping;

import java.util.Optional;

/** Which model is trained ({@code streamtrain.model.*}). */
@ConfigMapping(prefix = "streamtrain.model")
public interface ModelConfig {
    /** Path of the model spec file; unset means the bundled digits spec. */
    Optional<String> spec();
}
