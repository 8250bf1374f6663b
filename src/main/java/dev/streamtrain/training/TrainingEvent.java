package dev.streamtrain.training;

import java.time.Instant;
import java.util.Map;

/**
 * Something the service did or found while training ({@code checkpoint-saved}, {@code rolled-back}, ...),
 * as published on the training-events topic: {@code {"type", "model", "step", "time", "detail"}}.
 */
public record TrainingEvent(String type, String model, long step, Instant time, Map<String, Object> detail) {
}
