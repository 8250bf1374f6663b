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
 * time-out (which changes the generation for everyone). Members can come out of a round in different states (one
 * saw every part just before the rebalance, another did not), so a new generation does not start from what each
 * member holds: the design restores every member from the group's last checkpoint and seeks its partitions to
 * that checkpoint's offsets (docs/scale-out.md), so that what was trained since is trained again once and never
 * twice. That part, in the trainer, is not built yet.
 */
public final class GroupSync {

    /** How a round ended. {@code offsets} are those of the average the network now holds. */
    public record Outcome(Kind kind, long round, Map<String, Long> offsets) {
        public enum Kind { COMPLETE, ABANDONED, TIMED_OUT }
    }

    private final String model;
    private final String member;
    private final SyncTopic topic;
    private final int features;
    private final int period;
    private final Duration timeout;
    private final RoundBook book = new RoundBook();
    private Network.Replica base;
    private Map<String, Long> baseOffsets = new TreeMap<>();
    private long round;
    private long examples;
    private int steps;

    public GroupSync(String model, String member, SyncTopic topic, int features, int period, Duration timeout,
                     Network.Replica start) {
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
        int startedIn = generation.getAsInt();
        book.newGeneration(startedIn);
        topic.publish(model, member, startedIn, round, offsets, examples, steps, network.replica());
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
                for (SyncMessage part : parts.get()) {
                    contributions.add(new Contribution(part.member(), part.examples(), part.steps(),
                            topic.replica(part, features)));
                    union.putAll(part.offsets());
                }
                base = ModelAveraging.average(base, contributions);
                baseOffsets = union;
                network.assign(base);
                Outcome done = new Outcome(Outcome.Kind.COMPLETE, round, union);
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
        return new Outcome(kind, round, baseOffsets);
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
}
