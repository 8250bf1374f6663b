package dev.streamtrain.training;

import java.time.Instant;

import dev.streamtrain.model.Network;
import dev.streamtrain.tuning.PopulationTuner;

/**
 * A training run read back from a checkpoint: the network with its optimizer state, the trainer's state, and
 * when the checkpoint was written; {@code tuner}: the population of {@code learning-rate: auto} (null in a
 * checkpoint without one), whose serving member is {@code network}.
 */
public record SavedTraining(Network network, TrainerState state, Instant savedAt, PopulationTuner tuner) {

    public SavedTraining(Network network, TrainerState state, Instant savedAt) {
        this(network, state, savedAt, null);
    }
}
