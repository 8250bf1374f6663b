package dev.streamtrain.training;

import java.util.Map;

/**
 * What the trainer itself must remember across a restart, besides the network: its step, where in the
 * stream the model stands, how many records of each partition it has trained, and its prequential sums.
 */
public record TrainerState(long step, StreamPosition position, Map<String, Long> recordsByPartition,
                           PrequentialStats.State prequential) {

    public TrainerState {
        recordsByPartition = Map.copyOf(recordsByPartition);
    }
}
