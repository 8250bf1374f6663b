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

    Checkpoint checkpoint();

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

    interface Checkpoint {
        /** Where checkpoints live: {@code file:<path>} or {@code s3://bucket/prefix}. */
        @WithDefault("file:./data/checkpoints")
        String root();

        /** The S3 API server, for {@code s3://} roots. */
        S3 s3();

        /** Checkpoints kept besides those marked best; older ones are deleted once a newer one is durable. */
        @WithDefault("3")
        int keep();

        /** A failed write is retried after this long, doubling up to {@link #retryBackoffMax()}. */
        @WithDefault("1s")
        Duration retryBackoff();

        @WithDefault("30s")
        Duration retryBackoffMax();

        /** Checkpoint every this many steps (0: by time only) ... */
        @WithDefault("0")
        int everySteps();

        /** ... and at least this often while the model changes. */
        @WithDefault("60s")
        Duration interval();

        /** How long a graceful stop waits for the final checkpoint to be durable. */
        @WithDefault("60s")
        Duration shutdownTimeout();

        /** How long the start waits for a checkpoint store that cannot be read before giving up. */
        @WithDefault("2m")
        Duration restoreTimeout();
    }

    interface S3 {
        /** Endpoint of an S3 API server (MinIO, Ceph RGW, ...); unset: AWS S3 of the region. */
        Optional<String> endpoint();

        /** Region; unset: the AWS default region chain, else us-east-1. */
        Optional<String> region();

        /** Path-style addressing (bucket in the path), which most S3 API servers other than AWS need. */
        @WithDefault("false")
        boolean pathStyle();
    }
}
