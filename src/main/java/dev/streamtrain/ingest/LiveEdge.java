package dev.streamtrain.ingest;

import java.time.Duration;
import java.util.Map;
import java.util.OptionalLong;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

import dev.streamtrain.training.Backlog;

/**
 * Where each assigned partition's end is, and how far the trainer has received it: a partition is behind while
 * records up to its end offset have not all been delivered. The end comes from the consumer (end offsets at
 * assignment, then the lag of its fetches); delivered means handed to the trainer's buffer, dropped as already
 * trained or dead-lettered.
 * A transactional producer leaves a commit marker at the end of a partition that is never delivered as a
 * record: a partition whose consumer has fetched up to the end, with only the last offset not delivered and
 * nothing delivered from it for {@link #QUIET}, counts as at its end too. A delivery beyond the consumer's
 * position as last read means the end known is stale (records were fetched since): behind until it is read again.
 * Thread-safe: assignments and fetch positions come from the consumer's polling thread, deliveries from the
 * ingest worker, questions from the training thread.
 */
final class LiveEdge {

    /** How long a partition one offset short of its end must be quiet to count as at its end. */
    static final Duration QUIET = Duration.ofMillis(200);
    private static final long UNKNOWN = -1;

    private final Map<String, Partition> partitions = new ConcurrentHashMap<>();
    private final AtomicLong deliveries = new AtomicLong();

    /** One partition: offsets are "next offset" positions (one past the last record), or {@link #UNKNOWN}. */
    private static final class Partition {
        volatile long end;
        volatile long fetched;
        volatile long delivered;
        volatile long lastDelivery;
        /** Where reading started in this assignment (the position after the resume seek), or {@link #UNKNOWN}. */
        final long readFrom;

        Partition(long end, long position, long now) {
            this.readFrom = position;
            this.end = end;
            this.fetched = position;
            this.delivered = position;
            this.lastDelivery = now;
        }

        boolean behind(long now) {
            long target = Math.max(end, fetched);
            if (end == UNKNOWN || delivered == UNKNOWN) {
                return true;
            }
            if (delivered > target) {
                // delivered beyond what the consumer's position was when last read: the end known is stale
                return true;
            }
            if (delivered == target) {
                return false;
            }
            // at most a transaction marker left: everything is fetched and the last record has long been delivered
            return !(fetched >= end && delivered >= end - 1 && now - lastDelivery >= QUIET.toNanos());
        }
    }

    /**
     * A partition was assigned: its end offset and the position the consumer reads it from (after the resume
     * seek), either unknown when null. Knowledge of an earlier assignment is dropped.
     */
    void assigned(String partition, Long end, Long position, long now) {
        partitions.put(partition, new Partition(end == null ? UNKNOWN : end, position == null ? UNKNOWN : position,
                now));
    }

    /** The partition was revoked or lost: whatever was known of it no longer counts. */
    void forget(String partition) {
        partitions.remove(partition);
    }

    /** The consumer's position in the partition (next offset to fetch) and its lag behind the end, if known. */
    void fetched(String partition, long position, OptionalLong lag) {
        Partition p = partitions.get(partition);
        if (p == null) {
            return;
        }
        p.fetched = position;
        if (lag.isPresent()) {
            // ends only grow; the consumer's lag is as of its last fetch, older than the broker's answer when paused
            p.end = Math.max(p.end, position + lag.getAsLong());
        }
    }

    /** The partition's end offset as the broker answered it (a list-offsets request). */
    void ended(String partition, long end) {
        Partition p = partitions.get(partition);
        if (p != null) {
            p.end = Math.max(p.end, end);
        }
    }

    /** The record at {@code offset} has been delivered (after it is in the trainer's buffer, when it goes there). */
    void delivered(String partition, long offset, long now) {
        deliveries.incrementAndGet();
        Partition p = partitions.get(partition);
        if (p == null) {
            return;
        }
        p.delivered = Math.max(p.delivered, offset + 1);
        p.lastDelivery = now;
    }

    /** Whether some assigned partition is behind its end; false with none assigned. */
    boolean behind(long now) {
        for (Partition p : partitions.values()) {
            if (p.behind(now)) {
                return true;
            }
        }
        return false;
    }

    long deliveries() {
        return deliveries.get();
    }

    /** Per assigned partition whose end is known: where reading started and the end offset. */
    Map<String, Backlog.Edge> edges() {
        Map<String, Backlog.Edge> edges = new TreeMap<>();
        partitions.forEach((name, p) -> {
            long end = p.end;
            if (end != UNKNOWN) {
                edges.put(name, new Backlog.Edge(p.readFrom, end));
            }
        });
        return edges;
    }

    /** The partitions assigned now. */
    java.util.Set<String> partitions() {
        return partitions.keySet();
    }
}
