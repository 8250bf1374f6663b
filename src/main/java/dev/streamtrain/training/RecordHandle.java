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

    /**
     * Some of this record's examples were in a mini-batch the trainer had to throw away (for instance because
     * its loss was not finite): the record is done with, but not in the model. For Kafka: dead-letter it with
     * {@code reason} (a dead-letter reason code) and {@code cause}. By default it counts as trained.
     */
    default void quarantined(String reason, String cause) {
        trained();
    }
}
