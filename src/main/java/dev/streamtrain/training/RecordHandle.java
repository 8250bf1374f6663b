package dev.streamtrain.training;

/**
 * The source record an {@link ExampleBlock} came from. The trainer calls {@link #trained()} on the training
 * thread once every example of the record has been trained, never before.
 */
public interface RecordHandle {

    /** The stream partition, e.g. "streamtrain.examples-0". */
    String partition();

    long offset();

    /** All of this record's examples are in the model now (for Kafka: acknowledge it). */
    void trained();
}
