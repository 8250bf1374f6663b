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
}
