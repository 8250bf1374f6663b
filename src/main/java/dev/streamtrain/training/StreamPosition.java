package dev.streamtrain.training;

import java.util.HashMap;
import java.util.Map;
import java.util.OptionalLong;

/**
 * Where in the stream a model stands: per partition, the offset of the next record none of whose examples
 * is in the model, and the record, if any, of which only the first rows are trained (a record can straddle
 * mini-batches; after a restore, the tail of such a record may wait behind other partitions' records, so
 * there can be one per partition). Saved with every checkpoint; after a restore, ingest seeks to it and
 * drops what the model already holds, so that every example is trained exactly once into the state that
 * survives.
 */
public record StreamPosition(Map<String, Long> next, Map<String, Partial> partials) {

    public static final StreamPosition START = new StreamPosition(Map.of(), Map.of());

    public StreamPosition {
        next = Map.copyOf(next);
        partials = partials == null ? Map.of() : Map.copyOf(partials);
    }

    /** A record whose first {@code rowsTrained} examples are in the model and the rest are not. */
    public record Partial(String partition, long offset, int rowsTrained) {
    }

    /** The offset to read the partition from, if this position knows the partition. */
    public OptionalLong seekOffset(String partition) {
        Partial partial = partials.get(partition);
        if (partial != null) {
            return OptionalLong.of(partial.offset());
        }
        Long offset = next.get(partition);
        return offset == null ? OptionalLong.empty() : OptionalLong.of(offset);
    }

    /** The part of a record's examples that the model does not hold: all of them, the tail, or null for none. */
    public ExampleBlock untrained(ExampleBlock block) {
        String partition = block.source().partition();
        long offset = block.source().offset();
        Partial partial = partials.get(partition);
        if (partial != null) {
            if (offset == partial.offset()) {
                return partial.rowsTrained() >= block.count() ? null : block.tail(partial.rowsTrained());
            }
            if (offset < partial.offset()) {
                return null;
            }
        }
        Long nextOffset = next.get(partition);
        return nextOffset != null && offset < nextOffset ? null : block;
    }

    /** This position without the partition (its offsets turned out not to belong to the topic read now). */
    public StreamPosition forget(String partition) {
        Map<String, Long> rest = new HashMap<>(next);
        rest.remove(partition);
        Map<String, Partial> restPartials = new HashMap<>(partials);
        restPartials.remove(partition);
        return new StreamPosition(rest, restPartials);
    }
}
