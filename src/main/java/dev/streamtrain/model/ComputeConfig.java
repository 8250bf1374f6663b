package dev.streamtrain.model;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

import java.util.Optional;

/** The compute resources of the model ({@code streamtrain.compute.*}). */
@ConfigMapping(prefix = "streamtrain.compute")
public interface ComputeConfig {
    /**
     * Threads for ND4J's native ops and BLAS. Unset: one for small models (where more threads only
     * contend), all available cores but one for wide ones. OMP_WAIT_POLICY must be set in the environment.
     */
    Optional<Integer> threads();

    /**
     * The training engine: {@code lean} (streamtrain's own, which covers every spec) or {@code dl4j} (DL4J's graph, the
     * reference it is checked against), named by the status route and {@code streamtrain_engine}.
     */
    @WithDefault("lean")
    String engine();
}
