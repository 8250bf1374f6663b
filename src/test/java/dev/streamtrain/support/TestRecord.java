package dev.streamtrain.support;

import dev.streamtrain.training.RecordHandle;

/** A source record for tests that feed the trainer from memory: partition "memory-0", nothing to acknowledge. */
public record TestRecord(long offset) implements RecordHandle {

    @Override
    public String partition() {
        return "memory-0";
    }

    @Override
    public void trained() {
        // nothing upstream to acknowledge
    }
}
