package dev.streamtrain.training;

import java.time.Instant;

import dev.streamtrain.model.Network;

/**
 * A training run read back from a checkpoint: the network with its optimizer state, the trainer's state, and
 * when the checkpoint was written.
 */
public record SavedTraining(Network network, TrainerState state, Instant savedAt) {
}
