package dev.streamtrain.cluster;

import dev.streamtrain.model.Network;

/**
 * One trainer's part of an averaging round: its replica at the end of the round, and how much it trained since the
 * round began (examples weigh its replica in the average; steps advance the schedule).
 */
public record Contribution(String member, long examples, int steps, Network.Replica replica) {

    public Contribution {
        if (examples < 0 || steps < 0) {
            throw new IllegalArgumentException("member " + member + ": negative examples or steps");
        }
    }
}
