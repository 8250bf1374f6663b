package dev.streamtrain.cluster;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.IntSupplier;

import dev.streamtrain.model.Network;

/**
 * One member's side of the averaging rounds (docs/scale-out.md), driven by its training thread: after every step
 * it is told what the step trained and where the member's partitions stand; every {@code period} steps it publishes
 * the member's part of the round on the sync topic, waits for the other members' parts, and makes the network their
 * average. A round is abandoned when the group's generation changes while it waits (a member came or went) or when
 * the round times out: the network goes back to the last average it knows, and the caller leaves the group on a
 * time-out (which changes the generation for everyone).
 *
 * <p>Members can come out of a generation in different states (one saw every part of a round just before the
 * rebalance, another did not; a member that joins has only the checkpoint it restored), so each generation begins
 * with a join ({@link #join}, round 0): every member publishes the last average it knows with that average's
 * offsets, and all of them start from the same one, the one furthest into the stream (the greatest sum of offsets;
 * on a tie the lowest member name). Every candidate is an average with the offsets it holds, so whichever is chosen,
 * each record is in it once or is read again from the chosen offsets; choosing the furthest loses the least work.
 */
public final class GroupSync {

    /** How a round ended. {@code offsets} are those of the average the network now holds. */
    public record Outcome(Kind kind, long round, Map<String, Long> offsets, long step) {
        public enum Kind { COMPLETE, ABANDONED, TIMED_OUT }
    }

    /**
     * Where a generation starts, for every member alike: the average, the offsets it holds, the highest trainer step
     * of any member (so that the next checkpoint's step is above every member's last), and whose candidate it was.
     */
    public record Start(Network.Replica replica, Map<String, Long> offsets, long step, String from) {
    }

    private final String model;
    private final String member;
    private final SyncTopic topic;
    private final int features;
    private final int period;
    private final Duration timeout;
    private final RoundBook book = new RoundBook();
    private volatile Network.Replica base;
    private volatile Map<String, Long> baseOffsets;
    private long round;
    private long examples;
    private int steps;

    public GroupSync(String model, String member, SyncTopic topic, int features, int period, Duration timeout,
                     Network.Replica start) {
        this(model, member, topic, features, period, timeout, start, Map.of());
    }

    /** As above, from a start that holds the records before {@code startOffsets} (a restored checkpoint's). */
    public GroupSync(String model, String member, SyncTopic topic, int features, int period, Duration timeout,
                     Network.Replica start, Map<String, Long> startOffsets) {
        if (period < 1) {
            throw new IllegalArgumentException("an averaging period of " + period + " steps");
        }
        this.model = model;
        this.member = member;
        this.topic = topic;
        this.features = features;
        this.period = period;
        this.timeout = timeout;
        this.base = start;
        this.baseOffsets = new TreeMap<>(startOffsets);
    }

    /** Counts a training step of {@code trained} examples; true when the round is due. */
    public boolean stepped(long trained) {
        examples += trained;
        steps++;
        return steps >= period;
    }

    /**
     * Ends this member's part of the round: publishes it, then waits for the parts of {@code members} (the
     * generation's members, this one among them). {@code generation} is read again while waiting.
     */
    public Outcome sync(Network network, IntSupplier generation, Set<String> members, Map<String, Long> offsets)
            throws IOException {
        return sync(network, generation, members, offsets, 0);
    }

    /** As above; {@code trainerStep} is the member's step, and the outcome's the highest of the round's. */
    public Outcome sync(Network network, IntSupplier generation, Set<String> members, Map<String, Long> offsets,
                        long trainerStep) throws IOException {
        int startedIn = generation.getAsInt();
        book.newGeneration(startedIn);
        topic.publish(model, member, startedIn, round, offsets, examples, steps, trainerStep, network.replica());
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            for (SyncMessage message : topic.poll(model, Duration.ofMillis(100))) {
                book.offer(message);
            }
            if (generation.getAsInt() != startedIn || book.generation() > startedIn) {
                return abandon(network, Outcome.Kind.ABANDONED);
            }
            Optional<List<SyncMessage>> parts = book.complete(round, members);
            if (parts.isPresent()) {
                List<Contribution> contributions = new ArrayList<>();
                Map<String, Long> union = new TreeMap<>(baseOffsets);
                long step = trainerStep;
                for (SyncMessage part : parts.get()) {
                    contributions.add(new Contribution(part.member(), part.examples(), part.steps(),
                            topic.replica(part, features)));
                    // offsets only grow along the group's averages: a member's copy of a partition it does not
                    // own is never ahead of the owner's
                    part.offsets().forEach((partition, next) -> union.merge(partition, next, Math::max));
                    step = Math.max(step, part.trainerStep());
                }
                base = ModelAveraging.average(base, contributions);
                baseOffsets = union;
                network.assign(base);
                Outcome done = new Outcome(Outcome.Kind.COMPLETE, round, union, step);
                round++;
                examples = 0;
                steps = 0;
                return done;
            }
            if (System.nanoTime() > deadline) {
                return abandon(network, Outcome.Kind.TIMED_OUT);
            }
        }
    }

    private Outcome abandon(Network network, Outcome.Kind kind) {
        network.assign(base);
        examples = 0;
        steps = 0;
        round = 0;
        return new Outcome(kind, round, baseOffsets, 0);
    }

    /**
     * The join of {@code joining} (round 0): publishes the last average this member knows as its candidate and
     * waits, at most the round time-out, for the candidates of all {@code members}; then every member holds the same
     * start (see the class comment) and the rounds of the generation follow from 1. Empty when the generation
     * changes meanwhile or a member does not answer in time (this member then waits for the next generation).
     */
    public Optional<Start> join(IntSupplier generation, int joining, Set<String> members, long trainerStep)
            throws IOException {
        book.newGeneration(joining);
        round = 0;
        examples = 0;
        steps = 0;
        topic.publish(model, member, joining, 0, baseOffsets, 0, 0, trainerStep, base);
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            for (SyncMessage message : topic.poll(model, Duration.ofMillis(100))) {
                book.offer(message);
            }
            if (generation.getAsInt() != joining || book.generation() > joining) {
                return Optional.empty();
            }
            Optional<List<SyncMessage>> candidates = book.complete(0, members);
            if (candidates.isPresent()) {
                SyncMessage chosen = null;
                long step = trainerStep;
                for (SyncMessage candidate : candidates.get()) {
                    // in member order: on a tie the lowest name stays
                    if (chosen == null || streamPosition(candidate.offsets()) > streamPosition(chosen.offsets())) {
                        chosen = candidate;
                    }
                    step = Math.max(step, candidate.trainerStep());
                }
                base = topic.replica(chosen, features);
                baseOffsets = new TreeMap<>(chosen.offsets());
                round = 1;
                return Optional.of(new Start(base, baseOffsets, step, chosen.member()));
            }
        }
        return Optional.empty();
    }

    private static long streamPosition(Map<String, Long> offsets) {
        long sum = 0;
        for (long next : offsets.values()) {
            sum += next;
        }
        return sum;
    }

    /** Examples and steps trained since the round began (the staleness of this member's copy). */
    public int stepsSinceAverage() {
        return steps;
    }

    /** The last average: what a checkpoint of the group holds, with {@link #averageOffsets()}. */
    public Network.Replica average() {
        return base;
    }

    public Map<String, Long> averageOffsets() {
        return baseOffsets;
    }

    public long round() {
        return round;
    }

    public String member() {
        return member;
    }
}
