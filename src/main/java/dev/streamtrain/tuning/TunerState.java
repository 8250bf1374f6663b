package dev.streamtrain.tuning;

import java.util.List;

/**
 * The tuner's own record, for a checkpoint ({@code tuner.json}): its settings and counters, the serving member, the
 * operator's pinned rate (null: the tuner chooses) and per member its rate multiple, recent loss and last exploit
 * step, and the step until which decisions come at the early interval ({@code fastUntil}; 0 in a record written
 * before there was one). The members' networks (weights, optimizer state, step counters, normaliser, schedule) are saved beside it;
 * with them a tuner restored from it continues exactly as the saved one would have.
 */
public record TunerState(TunerSettings settings, long steps, long decisions, int leader, long exploits, Double pinned,
                         List<MemberState> members, long fastUntil) {

    public TunerState {
        members = List.copyOf(members);
    }

    /** One member: its id, rate multiple, recent-loss sum and weight, and the step of its last exploit. */
    public record MemberState(int id, double factor, double lossSum, double lossWeight, long since) {
    }
}
