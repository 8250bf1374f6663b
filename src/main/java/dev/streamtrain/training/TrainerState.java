package dev.streamtrain.training;

import java.util.Map;

import dev.streamtrain.training.health.TrainingHealth;

/**
 * What the trainer itself must remember across a restart, besides the network (whose configuration carries the
 * learning-rate adjustments): its step, where in the stream the model stands, how many records of each
 * partition it has trained, its prequential and held-out sums, its health monitors' state, the best held-out
 * loss of any checkpoint, until which step the good state is on probation after a run-time change, and the
 * learning-rate scale the good state was reached at ({@link StepGuard}). The last six are null in checkpoints
 * written before they existed.
 */
public record TrainerState(long step, StreamPosition position, Map<String, Long> recordsByPartition,
                           PrequentialStats.State prequential, PrequentialStats.State holdout,
                           TrainingHealth.State health, Double bestCheckpointHoldoutLoss, Long probationUntil,
                           Double goodRateScale) {

    public TrainerState {
        recordsByPartition = Map.copyOf(recordsByPartition);
    }

    public TrainerState(long step, StreamPosition position, Map<String, Long> recordsByPartition,
                        PrequentialStats.State prequential) {
        this(step, position, recordsByPartition, prequential, null, null, null, null, null);
    }
}
