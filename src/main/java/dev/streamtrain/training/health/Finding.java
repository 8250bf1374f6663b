package dev.streamtrain.training.health;

import java.util.Map;

/** What a monitor found: a training-event type (e.g. {@code exploding-gradient}) and what it saw. */
public record Finding(String type, Map<String, Object> detail) {
}
