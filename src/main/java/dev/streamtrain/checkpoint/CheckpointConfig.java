package dev.streamtrain.checkpoint;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

import java.time.Duration;
import java.util.Optional;

/** Where and how often the trainer checkpoints ({@code streamtrain.checkpoint.*}). */
@ConfigMapping(prefix = "streamtrain.checkpoint")
public interface CheckpointConfig {
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

    interface S3 {
        /** Endpoint of an S3 API server (MinIO, Ceph RGW, ...); unset: AWS S3 of the region. */
        Optional<String> endpoint();

        /** Region; unset: the AWS default region chain, else us-east-1. */
        Optional<String> region();

        /** Path-style addressing (bucket in the path), which most S3 API servers other than AWS need. */
        @WithDefault("false")
        boolean pathStyle();

        /**
         * A PEM file of the CA certificates that an {@code https} endpoint's certificate must chain to (a private
         * CA); set, only these are trusted. Unset: the JDK's trusted CAs.
         */
        Optional<String> caFile();
    }
}
