package dev.streamtrain.training;

import dev.streamtrain.model.BatchScore;
import dev.streamtrain.model.StepResult;

/**
 * What one step did: its number, the score of its trained rows, the learning rate, how long it took in all and
 * in its monitors, and the step's full result (held-out score, phase times, per-layer signals when sampled).
 */
public record StepReport(long step, BatchScore score, double learningRate, long stepNanos, long monitorNanos,
                         StepResult result) {

    public StepReport(long step, BatchScore score, double learningRate, long stepNanos) {
        this(step, score, learningRate, stepNanos, 0, null);
    }
}
