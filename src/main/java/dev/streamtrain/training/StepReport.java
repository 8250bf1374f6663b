package dev.streamtrain.training;

import dev.streamtrain.model.BatchScore;

/** What one optimizer step did: its number, size, scores and how long it took. */
public record StepReport(long step, BatchScore score, double learningRate, long stepNanos) {
}
