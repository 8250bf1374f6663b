package dev.streamtrain.serving;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

import java.time.Duration;
import java.util.Optional;

/** Serving settings ({@code streamtrain.serving.*}): micro-batching, explanations, promotion, replicas. */
@ConfigMapping(prefix = "streamtrain.serving")
public interface ServingConfig {
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
     * The largest forward pass, in multiply-adds (rows x the dense layers' weights), that a request is answered with on
     * the thread that received it (an event loop), when the model predicts without a lock (a plain dense stack);
     * larger ones go to a worker thread. The default is about 27 rows of the bundled digits model, tens of
     * microseconds; 0 sends every request to a worker.
     */
    @WithDefault("262144")
    long inlineMaxMultiplyAdds();

    /**
     * The most rows one inference or explanation request may carry (REST and gRPC); more are refused with 400
     * (INVALID_ARGUMENT) before any value is read into the model's layout. The request body's size limit
     * ({@code quarkus.http.limits.max-body-size}, {@code quarkus.grpc.server.max-inbound-message-size}) applies
     * first: a million rows of 64 features are a 413 (RESOURCE_EXHAUSTED) long before they are counted.
     */
    @WithDefault("4096")
    int maxRequestRows();

    /**
     * How long an HTTP request's body may take to arrive after its headers; a slower one gets 408 and its
     * connection is closed ({@link RequestBodyDeadline}). 0 turns the deadline off.
     */
    @WithDefault("30s")
    Duration requestBodyTimeout();

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

    /**
     * A file of bearer tokens that inference requires (REST {@code Authorization: Bearer <token>}, gRPC metadata
     * {@code authorization}), one per line, watched so that tokens rotate without a restart; unset (the default):
     * inference is open. Health and metrics stay open either way (see {@link ServingToken}).
     */
    Optional<String> tokenFile();
}
