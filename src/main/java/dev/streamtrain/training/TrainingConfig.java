package dev.streamtrain.training;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

import java.time.Duration;
import java.util.Optional;

/** Settings of the online trainer ({@code streamtrain.*}). */
@ConfigMapping(prefix = "streamtrain")
public interface TrainingConfig {

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

    Serving serving();

    Model model();

    Training training();

    Compute compute();

    Checkpoint checkpoint();

    Health health();

    interface Serving {
        /**
         * How often a serving-only replica also looks in the store for a newer checkpoint, besides following
         * {@code checkpoint-saved} events (which can be missed while the broker is unreachable).
         */
        @WithDefault("30s")
        Duration pollInterval();

        /**
         * The most rows one forward pass of inference answers: requests that arrive while one runs are
         * answered together by the next (micro-batching; 1 turns it off).
         */
        @WithDefault("256")
        int maxBatchRows();

        /**
         * Explanations computed at once (each is ~steps + 1 forward and backward passes); more wait up to 10 s,
         * then get 503.
         */
        @WithDefault("1")
        int explainConcurrency();

        /**
         * {@code always}: every snapshot the trainer publishes serves; {@code not-worse}: only one whose held-out
         * loss is not worse than the serving snapshot's on the same rows (see {@link Promotion}); needs held-out
         * examples ({@code streamtrain.health.holdout.fraction} > 0).
         */
        @WithDefault("always")
        String promotion();

        /** {@code not-worse}: how much worse (relative) the candidate's held-out loss may be. */
        @WithDefault("0.0")
        double promotionTolerance();

        /** {@code not-worse}: held-out examples needed before the first decision. */
        @WithDefault("100")
        int promotionMinExamples();

        /** {@code not-worse}: how many of the most recent held-out examples both models are scored on. */
        @WithDefault("512")
        int promotionWindow();
    }

    interface Model {
        /** Path of the model spec file; unset means the bundled digits spec. */
        Optional<String> spec();
    }

    interface Training {
        /** How long a partly filled mini-batch waits for more examples before it is trained anyway. */
        @WithDefault("100ms")
        Duration linger();

        /**
         * Linger cuts a short batch only at the live edge; in the middle of a backlog a short batch waits for a
         * full one, unless the consumer delivers nothing at all for this long.
         */
        @WithDefault("10s")
        Duration stallLimit();

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

    /** The health monitors and their answers ({@code streamtrain.health.*}); see the README. */
    interface Health {
        /** Per-layer gradient, update-ratio and activation signals are measured every this many steps. */
        @WithDefault("10")
        int sampleEverySteps();

        /** The in-memory state a non-finite step rolls back to is refreshed every this many steps. */
        @WithDefault("25")
        int goodStateEverySteps();

        Gradients gradients();

        LearningRate learningRate();

        Holdout holdout();

        Overfitting overfitting();

        Drift drift();
    }

    interface Gradients {
        /**
         * An update:parameter ratio above this, {@code patience} samples in a row while the loss rises, or on the
         * first sample after the learning rate was raised, is an explosion (0: off).
         */
        @WithDefault("5e-2")
        double ratioHigh();

        /** ... below this while the loss is still high, a vanishing gradient (0: off). */
        @WithDefault("1e-4")
        double ratioLow();

        @WithDefault("3")
        int patience();

        /** The first layer's gradient norm below this fraction of the output layer's is a vanishing gradient. */
        @WithDefault("1e-4")
        double collapseFraction();

        /** A ReLU layer with at least this fraction of its units silent on a whole batch is dead (0: off). */
        @WithDefault("0.95")
        double deadFraction();

        /** Steps whose training losses make the recent loss the rules compare. */
        @WithDefault("10")
        int lossWindow();

        /** The recent loss this many times its lowest recent level is rising: an explosion's second witness. */
        @WithDefault("2")
        double lossRiseFactor();

        /** Updates too small are a vanishing gradient only while the loss is at least this fraction of its start. */
        @WithDefault("0.5")
        double learningLossFraction();
    }

    interface LearningRate {
        /** On an explosion or a non-finite step the learning rate is multiplied by this ... */
        @WithDefault("0.5")
        double backoff();

        /** ... but not below this fraction of the spec's schedule. */
        @WithDefault("1e-3")
        double minScale();

        /** After this many steps without an explosion or a non-finite step, a backed-off rate climbs back (0: never) ... */
        @WithDefault("500")
        int recoverSteps();

        /** ... by this factor, up to the spec's schedule or the rate last set through the API. */
        @WithDefault("2")
        double recoverFactor();
    }

    interface Holdout {
        /** Fraction of the examples held out (by a stable hash of the record key, or of the value without one). */
        @WithDefault("0.05")
        double fraction();

        /** Half-life, in held-out examples, of the recent held-out figures. */
        @WithDefault("500")
        int halfLife();
    }

    interface Overfitting {
        /** The held-out loss this much (relative) above its best ... */
        @WithDefault("0.1")
        double tolerance();

        /** ... for this many samples in a row, while the training loss is below its value then, is overfitting. */
        @WithDefault("5")
        int patience();

        /** Held-out examples needed before anything is judged (and before a checkpoint is marked best). */
        @WithDefault("200")
        long minExamples();
    }

    interface Drift {
        /** adwin, page-hinkley or none. */
        @WithDefault("adwin")
        String detector();

        /** ADWIN's confidence δ (Bifet and Gavaldà, 2007; MOA's default). */
        @WithDefault("0.002")
        double adwinDelta();

        /** Page-Hinkley's parameters (MOA's PageHinkleyDM defaults). */
        @WithDefault("30")
        int pageHinkleyMinInstances();

        @WithDefault("0.005")
        double pageHinkleyDelta();

        @WithDefault("50")
        double pageHinkleyLambda();

        @WithDefault("0.9999")
        double pageHinkleyAlpha();

        /** warm-restart, reset-moments or none. */
        @WithDefault("warm-restart")
        String answer();

        /** A warm restart multiplies the learning rate by this ... */
        @WithDefault("5")
        double restartFactor();

        /** ... falling back to the schedule's over this many steps. */
        @WithDefault("200")
        int restartSteps();

        /** No drift answer within this many steps of an explosion or a non-finite step. */
        @WithDefault("100")
        int quietSteps();
    }
}
