package dev.streamtrain.ingest;

import org.apache.kafka.common.TopicPartition;

/** The partition names of the trainer's stream position ("topic-N") and Kafka's {@link TopicPartition}. */
final class Partitions {

    private Partitions() {
    }

    static String name(TopicPartition partition) {
        return partition.topic() + "-" + partition.partition();
    }

    static TopicPartition parse(String name) {
        int dash = name.lastIndexOf('-');
        if (dash <= 0) {
            throw new IllegalArgumentException("'" + name + "' is not a topic-partition name");
        }
        return new TopicPartition(name.substring(0, dash), Integer.parseInt(name.substring(dash + 1)));
    }
}
