package dev.streamtrain.cluster;

import java.util.concurrent.atomic.AtomicLong;

/**
 * What a member of a group of trainers reports (metrics and the training status): who it is, the generation it
 * trains in and how many members it has, its round, the rounds by outcome, how long its last round waited for the
 * group, and how many steps its copy has trained since the last average (its staleness). Written on the training
 * thread, read on any.
 */
public final class GroupStatus {

    private volatile String member = "";
    private volatile int generation = -1;
    private volatile int members;
    private volatile boolean writer;
    private volatile long round;
    private volatile long lastRoundNanos;
    private volatile long stepsSinceAverage;
    private final AtomicLong complete = new AtomicLong();
    private final AtomicLong abandoned = new AtomicLong();
    private final AtomicLong timedOut = new AtomicLong();
    private final AtomicLong failedJoins = new AtomicLong();
    private final AtomicLong roundNanos = new AtomicLong();

    void joined(String member, int generation, int members, boolean writer) {
        this.member = member;
        this.generation = generation;
        this.members = members;
        this.writer = writer;
        this.round = 0;
        this.stepsSinceAverage = 0;
    }

    void joinFailed(int generation) {
        failedJoins.incrementAndGet();
        this.members = 0;
    }

    void stepped() {
        stepsSinceAverage++;
    }

    void roundEnded(GroupSync.Outcome.Kind kind, long round, long nanos) {
        lastRoundNanos = nanos;
        roundNanos.addAndGet(nanos);
        switch (kind) {
            case COMPLETE -> {
                complete.incrementAndGet();
                this.round = round;
                stepsSinceAverage = 0;
            }
            case ABANDONED -> abandoned.incrementAndGet();
            case TIMED_OUT -> timedOut.incrementAndGet();
        }
    }

    public String member() {
        return member;
    }

    public int generation() {
        return generation;
    }

    /** Members of the generation this member trains in (0 while it is between generations). */
    public int members() {
        return members;
    }

    public boolean writer() {
        return writer;
    }

    /** The last round completed in the generation (0: only the join). */
    public long round() {
        return round;
    }

    public double lastRoundSeconds() {
        return lastRoundNanos / 1e9;
    }

    public long stepsSinceAverage() {
        return stepsSinceAverage;
    }

    public long roundsComplete() {
        return complete.get();
    }

    public long roundsAbandoned() {
        return abandoned.get();
    }

    public long roundsTimedOut() {
        return timedOut.get();
    }

    /** Rounds ended (complete, abandoned or timed out) and the time they waited for the group, in all. */
    public long roundsEnded() {
        return complete.get() + abandoned.get() + timedOut.get();
    }

    public double roundSecondsTotal() {
        return roundNanos.get() / 1e9;
    }

    public long failedJoins() {
        return failedJoins.get();
    }
}
