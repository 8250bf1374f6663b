package dev.streamtrain.tuning;

import java.util.List;

import dev.streamtrain.model.Network;

/**
 * The tuner's whole state, for a checkpoint: its settings and counters, and per member its rate multiple, recent
 * loss and network state (weights, optimizer state, step counters, normaliser, schedule). A tuner restored from
 * it continues exactly as the saved one would have.
 */
public record TunerState(TunerSettings settings, long steps, long decisions, int leader, List<MemberState> members) {

    /** One member: its id, rate multiple, recent-loss sum and weight, last exploit step and network state. */
    public record MemberState(int id, double factor, double lossSum, double lossWeight, long since,
                              Network.State network) {
    }
}
