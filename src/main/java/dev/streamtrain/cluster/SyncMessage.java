package dev.streamtrain.cluster;

import java.util.Map;
import java.util.TreeMap;

/**
 * What a member says on the sync topic at the end of its part of a round: who, in which group generation and round,
 * the offsets it had trained to in each of its partitions, how much it trained in the round, its trainer's step
 * (so that the members' steps, which name their checkpoints, stay level) and its replica — inline, or as the key of
 * an object in the checkpoint store when it is too large for a record.
 */
public record SyncMessage(String model, String member, int generation, long round, Map<String, Long> offsets,
                          long examples, int steps, long trainerStep, byte[] inlineReplica, String replicaKey) {

    public SyncMessage {
        offsets = new TreeMap<>(offsets);
        if ((inlineReplica == null) == (replicaKey == null)) {
            throw new IllegalArgumentException("a sync message carries its replica inline or by key, exactly one");
        }
    }

    /** A message without the trainer's step (0). */
    public SyncMessage(String model, String member, int generation, long round, Map<String, Long> offsets,
                       long examples, int steps, byte[] inlineReplica, String replicaKey) {
        this(model, member, generation, round, offsets, examples, steps, 0, inlineReplica, replicaKey);
    }
}
