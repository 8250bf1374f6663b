package dev.streamtrain.ingest;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

import dev.streamtrain.training.ExampleBlock;
import dev.streamtrain.training.StreamPosition;
import dev.streamtrain.training.TrainerService;

/**
 * How far this process has read each partition: per partition, the offset after the last record handed to
 * the trainer. Records below it are already in the model or in its buffer, so a record delivered again
 * (after a rebalance, the consumer goes back to the committed offset, which trails the model) is dropped;
 * and where the process has not read a partition yet, the restored checkpoint's position decides.
 */
@ApplicationScoped
public class ReadPosition {

    private final Supplier<StreamPosition> restored;
    private final Map<String, Long> handedOver = new ConcurrentHashMap<>();
    // a group of trainers' generation (docs/scale-out.md): the partitions assigned and where they are read from
    private volatile Map<String, Long> groupStart;

    @Inject
    ReadPosition(TrainerService trainer) {
        this(trainer::resumePosition);
    }

    /** {@code restored}: the position of the checkpoint the model was restored from. */
    ReadPosition(Supplier<StreamPosition> restored) {
        this.restored = restored;
    }

    /** Where to read the partition from when it is assigned: where this process stopped, else the checkpoint's. */
    OptionalLong seekOffset(String partition) {
        Long offset = handedOver.get(partition);
        return offset != null ? OptionalLong.of(offset) : restored.get().seekOffset(partition);
    }

    /** Whether the seek offset comes from this process's own reading rather than from a checkpoint. */
    boolean hasRead(String partition) {
        return handedOver.containsKey(partition);
    }

    /**
     * The part of the record's examples to train: null if the model or its buffer holds them all already. A
     * non-null answer counts as handed over. Called on the consumer's worker thread, one record at a time.
     */
    ExampleBlock admit(ExampleBlock block) {
        String partition = block.source().partition();
        if (groupStart != null) {
            return block; // inSequence admitted its offset before it was decoded
        }
        Long next = handedOver.get(partition);
        if (next != null && block.source().offset() < next) {
            return null;
        }
        ExampleBlock untrained = restored.get().untrained(block);
        if (untrained != null) {
            handedOver.put(partition, block.source().offset() + 1);
        }
        return untrained;
    }

    /**
     * A generation of a group of trainers starts: the assigned partitions are read from {@code start} (the group's
     * average holds what is before), what this process read before is forgotten, and a record is admitted only at
     * the next offset of an assigned partition: a poll fetched before the rebalance may still be delivered, and its
     * records (read again from the start, or another member's now) are dropped.
     */
    void restartInGroup(Map<String, Long> start) {
        handedOver.clear();
        groupStart = Map.copyOf(start);
    }

    /**
     * In a group's generation, whether the record at {@code offset} is the next of an assigned partition, asked
     * before the record is decoded: a yes advances the partition whether the record then trains or is
     * dead-lettered (a bad record must not stall its partition); a no is a record of a poll fetched before the
     * rebalance, dropped. Outside a group every record is in sequence and {@link #admit} decides.
     */
    boolean inSequence(String partition, long offset) {
        Map<String, Long> start = groupStart;
        if (start == null) {
            return true;
        }
        Long expected = handedOver.getOrDefault(partition, start.get(partition));
        if (expected == null || offset != expected) {
            return false;
        }
        handedOver.put(partition, offset + 1);
        return true;
    }
}
