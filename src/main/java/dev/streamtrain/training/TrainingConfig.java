package dev.streamtrain.training;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

import java.time.Duration;
import java.util.Optional;

/** Settings of the online trainer ({@code streamtrain.*}). */
@ConfigMapping(prefix = "streamtrain")
public interface TrainingConfig {

    Model model();

    Training training();

    Compute compute();

    interface Model {
        /** Path of the model spec file; unset means the bundled digits spec. */
        Optional<String> spec();
    }

    interface Training {
        /** How long a partly filled mini-batch waits for more examples before it is trained anyway. */
        @WithDefault("100ms")
        Duration linger();

        /** Examples buffered between ingest and training; when full, the Kafka consumer pauses. */
        @WithDefault("4096")
        int bufferExamples();

        /**
         * With batch normalisation in the spec, a partial mini-batch waits for at least this many examples
         * (or the spec's batch size, if smaller) however long they linger.
         */
        @WithDefault("8")
        int minBatchWithBatchNorm();

        /** Publish a serving snapshot after this many steps ... */
        @WithDefault("50")
        int publishEverySteps();

        /** ... or when this much time has passed since the last one, whichever comes first. */
        @WithDefault("1s")
        Duration publishInterval();

        /** Half-life, in examples, of the exponentially weighted ("recent") prequential figures. */
        @WithDefault("1000")
        int recentHalfLife();
    }

    interface Compute {
        /**
         * Threads for ND4J's native ops and BLAS. Unset: one for small models (where more threads only
         * contend), all available cores but one for wide ones. OMP_WAIT_POLICY must be set in the environment.
         */
        Optional<Integer> threads();
    }
}
