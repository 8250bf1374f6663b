package dev.streamtrain.support;

import dev.streamtrain.training.RecordHandle;

/** A source record for tests that feed the trainer from memory: nothing to acknowledge. */
public record TestRecord(String partition, long offset) implements RecordHandle {

    /** A record of the partition "memory-0". */
    public TestRecord(long offset) {
        this("memory-0", offset);
    }

    @Override
    public void trained() {
        // nothing upstream to acknowledge
    }
}
