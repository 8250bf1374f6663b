package dev.streamtrain.cluster;

import org.jboss.logging.Logger;

import java.io.IOException;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;

import dev.streamtrain.model.Network;
import dev.streamtrain.training.GroupRounds;

/**
 * One trainer's membership in the group of trainers of a model (docs/scale-out.md), between its two threads. The
 * consumer's thread tells it of rebalances: a revocation abandons the round in flight (every member's consumer is
 * revoked before a new generation, so every member drops that round); an assignment waits, bounded, until the
 * training thread has joined the new generation and returns where its partitions are to be read from. The training
 * thread (through {@link GroupRounds}) joins, ends its rounds and trains on from the averages ({@link GroupSync}).
 * A member whose round timed out asks its consumer to rejoin the group ({@link #rejoinRequested}), which starts a
 * generation without the member that did not answer.
 */
public final class GroupMember implements GroupRounds {

    /** The averaging period in steps, how long a round or a join may wait, and how often a quiet member rounds. */
    public record Settings(int period, Duration roundTimeout, Duration restRound) {
    }

    private static final Logger LOG = Logger.getLogger(GroupMember.class);
    private static final int NONE = -1;

    private record Pending(int generation, String member, Set<String> members,
                           CompletableFuture<Optional<Map<String, Long>>> start) {
    }

    private final String model;
    private final SyncTopic topic;
    private final int features;
    private final Settings settings;
    private final AtomicReference<Pending> pending = new AtomicReference<>();
    private final GroupStatus status;
    private volatile int generation = NONE;
    private volatile boolean joined;
    private volatile boolean rejoin;
    private int joinedGeneration = NONE;
    private Set<String> members = Set.of();
    private boolean writer;
    private volatile GroupSync sync;
    private long roundStarted = System.nanoTime();

    /** {@code topic}: this member's sync-topic clients, used on the training thread only. */
    public GroupMember(String model, SyncTopic topic, int features, Settings settings) {
        if (settings.period() < 1) {
            throw new IllegalArgumentException("an averaging period of " + settings.period() + " steps");
        }
        this.model = model;
        this.topic = topic;
        this.features = features;
        this.settings = settings;
        this.status = new GroupStatus();
    }

    // ---- the consumer's thread

    /** The consumer's partitions were revoked (a rebalance begins): the round in flight is abandoned. */
    public void revoked() {
        generation = NONE;
    }

    /**
     * The consumer was assigned partitions in {@code generation}, as {@code member} of {@code members}: waits until
     * the training thread has joined it and returns the offsets the generation starts from (a partition they do
     * not name is read from its beginning: no average holds any of its records). Empty when the join failed or
     * took longer than {@code wait}: then the consumer must rejoin the group.
     */
    public Optional<Map<String, Long>> assigned(int generation, String member, Set<String> members, Duration wait)
            throws InterruptedException {
        Pending joining = new Pending(generation, member, Set.copyOf(members), new CompletableFuture<>());
        this.generation = generation;
        pending.set(joining);
        try {
            return joining.start().get(wait.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException | ExecutionException e) {
            // too late for the training thread's join to count: it must not train on unsought partitions
            if (joining.start().complete(Optional.empty())) {
                this.generation = NONE;
            }
            return joining.start().getNow(Optional.empty());
        }
    }

    /** The consumer left the group (closed): no generation any more. */
    public void left() {
        generation = NONE;
    }

    /** Whether the consumer should rejoin the group (asked once: the flag is cleared). */
    public boolean rejoinRequested() {
        boolean asked = rejoin;
        rejoin = false;
        return asked;
    }

    // ---- the training thread

    @Override
    public boolean joinPending() {
        return pending.get() != null;
    }

    @Override
    public Start join(Network network, Map<String, Long> offsets, long step) {
        Pending joining = pending.getAndSet(null);
        joined = false;
        if (joining == null) {
            return null;
        }
        if (sync == null) {
            sync = newSync(joining.member(), network.replica(), offsets);
        } else if (!sync.member().equals(joining.member())) {
            // the consumer came back under a new member id: it brings the last average it knows
            sync = newSync(joining.member(), sync.average(), sync.averageOffsets());
        }
        Optional<GroupSync.Start> start;
        try {
            start = sync.join(() -> generation, joining.generation(), joining.members(), step);
        } catch (IOException | RuntimeException e) {
            LOG.warnf("Model %s: member %s could not join generation %d of the group (%s); it waits for the next",
                    model, joining.member(), joining.generation(), e.getMessage());
            start = Optional.empty();
        }
        if (start.isEmpty() || !joining.start().complete(Optional.of(start.get().offsets()))) {
            joining.start().complete(Optional.empty());
            status.joinFailed(joining.generation());
            rejoin = true;
            return null;
        }
        joinedGeneration = joining.generation();
        members = joining.members();
        writer = joining.member().equals(new TreeSet<>(members).first());
        joined = true;
        roundStarted = System.nanoTime();
        status.joined(joining.member(), joinedGeneration, members.size(), writer);
        LOG.infof("Model %s: member %s joined generation %d of %d member(s)%s, starting from %s's average at %s",
                model, joining.member(), joinedGeneration, members.size(), writer ? " as the checkpoint writer" : "",
                start.get().from(), start.get().offsets());
        return new Start(start.get().replica(), start.get().offsets(), start.get().step());
    }

    private GroupSync newSync(String member, Network.Replica start, Map<String, Long> offsets) {
        return new GroupSync(model, member, topic, features, settings.period(), settings.roundTimeout(), start,
                offsets);
    }

    @Override
    public boolean joined() {
        return joined && generation == joinedGeneration;
    }

    @Override
    public boolean stepped(long examples) {
        status.stepped();
        return sync.stepped(examples);
    }

    @Override
    public boolean dueAtRest() {
        return System.nanoTime() - roundStarted >= settings.restRound().toNanos();
    }

    @Override
    public Average endRound(Network network, Map<String, Long> offsets, long step) {
        long start = System.nanoTime();
        GroupSync.Outcome outcome;
        try {
            outcome = sync.sync(network, () -> generation, members, offsets, step);
        } catch (IOException | RuntimeException e) {
            LOG.warnf("Model %s: round %d of generation %d failed (%s); this member goes back to the last average and"
                    + " rejoins the group", model, sync.round(), joinedGeneration, e.getMessage());
            network.assign(sync.average());
            outcome = new GroupSync.Outcome(GroupSync.Outcome.Kind.TIMED_OUT, sync.round(), sync.averageOffsets(), 0);
        }
        roundStarted = System.nanoTime();
        status.roundEnded(outcome.kind(), outcome.round(), System.nanoTime() - start);
        switch (outcome.kind()) {
            case COMPLETE:
                return new Average(outcome.offsets(), outcome.step(), writer);
            case TIMED_OUT:
                LOG.warnf("Model %s: round %d of generation %d timed out after %d s waiting for %s; this member rejoins"
                        + " the group, which leaves out whoever did not answer", model, outcome.round(),
                        joinedGeneration, settings.roundTimeout().toSeconds(), members);
                rejoin = true;
                joined = false;
                return null;
            default:
                joined = false;
                return null;
        }
    }

    /** The last average this member knows (null before its first join); for readers on any thread. */
    public Network.Replica lastAverage() {
        GroupSync current = sync;
        return current == null ? null : current.average();
    }

    /** What this member reports (metrics, status): readable from any thread. */
    public GroupStatus status() {
        return status;
    }
}
