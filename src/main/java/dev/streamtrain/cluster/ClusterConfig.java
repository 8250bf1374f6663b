package dev.streamtrain.cluster;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

import java.time.Duration;
import java.util.Optional;

/** Training one model with several trainers ({@code streamtrain.cluster.*}, docs/scale-out.md). */
@ConfigMapping(prefix = "streamtrain.cluster")
public interface ClusterConfig {

    /**
     * Whether this trainer is a member of a group of trainers of one model (the consumer group of the examples
     * channel); off, it trains alone exactly as before.
     */
    @WithDefault("false")
    boolean enabled();

    /** Local steps between two averages (4: within a point of one trainer on the measured streams). */
    @WithDefault("4")
    int period();

    /**
     * How long a member waits for the others' parts of a round or of a join before it leaves them out (it rejoins
     * the group). Unset: twice the examples consumer's {@code session.timeout.ms}, by when a dead member has been
     * removed from the group by Kafka.
     */
    Optional<Duration> roundTimeout();

    /** A member with nothing to train ends its part of the round after this long, so that the others go on. */
    @WithDefault("2s")
    Duration restRound();

    /** Replicas up to this many bytes travel inside the sync record; larger ones through the checkpoint store. */
    @WithDefault("524288")
    int inlineLimit();

    /** The replication factor of the sync topic when the service creates it. */
    @WithDefault("1")
    int syncReplication();
}
