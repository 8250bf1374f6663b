package dev.streamtrain.training;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

import java.time.Duration;

/** Settings of the training loop ({@code streamtrain.training.*}): batching and publishing. */
@ConfigMapping(prefix = "streamtrain.training")
public interface TrainingConfig {
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
