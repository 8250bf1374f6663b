package dev.streamtrain.checkpoint;

import java.util.Map;

/**
 * CDI event fired on the checkpoint writer's thread once a checkpoint is durable: its offsets (per
 * partition, the next record to read) may now be committed to Kafka.
 */
public record CheckpointSaved(String model, long step, Map<String, Long> offsets) {
}
