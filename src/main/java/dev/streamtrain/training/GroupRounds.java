package dev.streamtrain.training;

import java.util.Map;

import dev.streamtrain.model.Network;

/**
 * The trainer's side of a group of trainers of one model that average their copies every few steps
 * (docs/scale-out.md): the trainer calls it on its thread, between steps; the group (the consumer group's
 * generations, the sync topic) lives behind it. A trainer without one trains alone, as ever.
 */
public interface GroupRounds {

    /**
     * Where a generation of the group starts, for every member alike: the average to train from, the offsets it
     * holds (every partition's; the member's own are read again from there), and the trainer step to continue from.
     */
    record Start(Network.Replica replica, Map<String, Long> offsets, long step) {
    }

    /**
     * A round that completed: the network now holds the group's average, which holds the records before
     * {@code offsets}; {@code step} is the highest trainer step of the round's members; {@code writer}: this member
     * writes the group's checkpoints in this generation.
     */
    record Average(Map<String, Long> offsets, long step, boolean writer) {
    }

    /** Whether a new generation waits to be joined (the trainer then drops what it has read and joins). */
    boolean joinPending();

    /**
     * Joins the pending generation with the last average this member holds (at first, {@code network} as restored)
     * and its offsets; returns where the generation starts, or null when the join failed (the member waits for the
     * next generation). {@code network} and {@code offsets} count only at the first join: afterwards the last
     * average the member knows is its candidate.
     */
    Start join(Network network, Map<String, Long> offsets, long step);

    /** Whether this member is in a generation it has joined: only then does it train. */
    boolean joined();

    /** Counts a step of {@code examples}; true when this member's part of the round is due. */
    boolean stepped(long examples);

    /** At rest (nothing to train): true when the round should end anyway, so that the others are not held up. */
    boolean dueAtRest();

    /**
     * Ends this member's part of the round with {@code network} (trained since the last average) and its
     * {@code offsets}: the group's average, assigned to the network, or null when the round was abandoned (the
     * network then holds the last average again and the member waits for the next generation).
     */
    Average endRound(Network network, Map<String, Long> offsets, long step);
}
