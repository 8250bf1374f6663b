package dev.streamtrain.training;

import dev.streamtrain.model.Capture;

/**
 * The whole state of a training run at one step, copied on the training thread for a checkpoint: the
 * network's arrays (to be serialised elsewhere, then closed) and the trainer's state. {@code best}: its
 * recent held-out loss is the lowest of any checkpoint so far (retention keeps it).
 */
public record TrainingSnapshot(String model, TrainerState trainer, PrequentialStats.Summary summary,
                               PrequentialStats.Summary holdout, boolean best, Capture network)
        implements AutoCloseable {

    public long step() {
        return trainer.step();
    }

    @Override
    public void close() {
        network.close();
    }
}
