package dev.streamtrain.training;

/**
 * Watches the trainer. Called on the training thread after every optimizer step, so implementations must be
 * quick and must not block; they must not keep the report's arrays.
 */
public interface TrainingListener {

    void onStep(StepReport report);
}
