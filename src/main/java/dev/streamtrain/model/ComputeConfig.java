package dev.streamtrain.model;

import io.smallrye.config.ConfigMapping;

import java.util.Optional;

/** The compute resources of the model ({@code streamtrain.compute.*}). */
@ConfigMapping(prefix = "streamtrain.compute")
public interface ComputeConfig {
    /**
     * Threads for ND4J's native ops and BLAS. Unset: one for small models (where more threads only
     * contend), all available cores but one for wide ones. OMP_WAIT_POLICY must be set in the environment.
     */
    Optional<Integer> threads();
}
