package dev.streamtrain.training;

import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The trainer's account of the stream: per partition, the offset of the next record the model does not hold and
 * how many records it has trained; the records partly trained before a restore; and what becomes of each record
 * once its last row is done with — acknowledged when it is in the model, or dead-lettered with a reason when it
 * was marked ({@link #quarantine}) or refused. Its part of the checkpointed state is the stream position and the
 * record counts. Written on the training thread; the position may be read from any thread.
 */
final class StreamLedger {

    private final Map<String, Long> next = new ConcurrentHashMap<>();
    private final Map<String, Long> records = new ConcurrentHashMap<>();
    // records partly trained before a restore: they stay partial until their tail has been trained
    private final Map<String, StreamPosition.Partial> restoredPartials = new ConcurrentHashMap<>();
    // records with rows in a batch that was thrown away: dead-lettered, not acknowledged, once complete
    private final Map<RecordHandle, String[]> quarantined = new IdentityHashMap<>();

    StreamLedger(TrainerState state) {
        next.putAll(state.position().next());
        restoredPartials.putAll(state.position().partials());
        records.putAll(state.recordsByPartition());
    }

    /**
     * The records whose last example has been trained (or thrown away) at {@code step}: the position moves past
     * them, and each is acknowledged, or dead-lettered if it was marked.
     */
    void settle(List<RecordHandle> completed) {
        for (RecordHandle record : completed) {
            advance(record);
            String[] why = quarantined.remove(record);
            if (why != null) {
                record.quarantined(why[0], why[1]);
            } else {
                record.trained();
            }
        }
    }

    /** A record refused whole before any of its rows was trained: the position moves past it, and it is dead-lettered. */
    void refuse(RecordHandle record, String reason, String cause) {
        advance(record);
        record.quarantined(reason, cause);
    }

    /** Marks records to be dead-lettered with {@code reason} once they are complete (see {@link #settle}). */
    void quarantine(List<RecordHandle> sources, String reason, String cause) {
        for (RecordHandle record : sources) {
            quarantined.putIfAbsent(record, new String[] {reason, cause});
        }
    }

    private void advance(RecordHandle record) {
        // a record refused as it came to the head of the queue is settled before the records of the batch it
        // would have joined: the position never moves back
        next.merge(record.partition(), record.offset() + 1, Math::max);
        restoredPartials.computeIfPresent(record.partition(), (p, partial) ->
                partial.offset() <= record.offset() ? null : partial);
        records.merge(record.partition(), 1L, Long::sum);
    }

    /** The position to save, with the record at the head of the batcher's queue if it is partly trained. */
    StreamPosition position(StreamPosition.Partial head) {
        Map<String, StreamPosition.Partial> partials = new HashMap<>(restoredPartials);
        if (head != null) {
            partials.put(head.partition(), head);
        }
        return new StreamPosition(next, partials);
    }

    /** How far into the stream the model has come, without the partly trained records. */
    StreamPosition position() {
        return new StreamPosition(next, Map.of());
    }

    Map<String, Long> records() {
        return Map.copyOf(records);
    }

    /**
     * Continues from {@code offsets}, where a group of trainers starts a generation: what was read beyond them is
     * read again, so nothing of it is held for settled.
     */
    void restart(Map<String, Long> offsets) {
        next.clear();
        next.putAll(offsets);
        restoredPartials.clear();
        quarantined.clear();
    }

    /** The group's average holds the records before {@code offsets}: this member's own and the other members'. */
    void adopt(Map<String, Long> offsets) {
        offsets.forEach((partition, offset) -> next.merge(partition, offset, Math::max));
    }

    /** Forgets a partition whose saved offsets turned out not to belong to the topic read now. */
    void forget(String partition) {
        next.remove(partition);
        restoredPartials.remove(partition);
    }
}
