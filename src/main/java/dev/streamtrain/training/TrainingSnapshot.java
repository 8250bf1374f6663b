package dev.streamtrain.training;

import dev.streamtrain.model.Capture;
import dev.streamtrain.tuning.TunerCapture;

/**
 * The whole state of a training run at one step, copied on the training thread for a checkpoint: the
 * network's arrays (to be serialised elsewhere, then closed) and the trainer's state. {@code best}: its
 * recent held-out loss is the lowest of any checkpoint so far (retention keeps it). {@code tuner}: the population
 * of {@code learning-rate: auto} at the same step (null without it); {@code network} is then its serving member.
 */
public record TrainingSnapshot(String model, TrainerState trainer, PrequentialStats.Summary summary,
                               PrequentialStats.Summary holdout, boolean best, Capture network, TunerCapture tuner)
        implements AutoCloseable {

    public TrainingSnapshot(String model, TrainerState trainer, PrequentialStats.Summary summary,
                            PrequentialStats.Summary holdout, boolean best, Capture network) {
        this(model, trainer, summary, holdout, best, network, null);
    }

    /** The same snapshot with the tuner's population. */
    TrainingSnapshot withTuner(TunerCapture population) {
        return new TrainingSnapshot(model, trainer, summary, holdout, best, network, population);
    }

    public long step() {
        return trainer.step();
    }

    @Override
    public void close() {
        network.close();
        if (tuner != null) {
            tuner.close();
        }
    }
}
