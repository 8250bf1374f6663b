package dev.streamtrain.training;

import dev.streamtrain.model.Network;

/** A training run read back from a checkpoint: the network with its optimizer state, and the trainer's state. */
public record SavedTraining(Network network, TrainerState state) {
}
