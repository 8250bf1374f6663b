package dev.streamtrain.training;

import java.util.List;
import java.util.Map;

/** Where training events go (the events topic, a counter, the log). */
public interface TrainingEvents {

    /**
     * Every event type the service publishes (the contract of the events topic). Their counters exist from the
     * start at 0, so that alert rules see the first of each ({@code increase()} misses a series' first sample).
     */
    List<String> TYPES = List.of("checkpoint-saved", "checkpoint-restored", "checkpoint-skipped",
            "checkpoint-failed", "checkpoint-offsets-ignored", "rolled-back", "hyperparameters-changed",
            "snapshot-withheld", "exploding-gradient", "vanishing-gradient", "non-finite-loss", "overfitting-detected",
            "drift-detected");

    /** Events that go nowhere (benchmarks, tests that do not look at them). */
    TrainingEvents NONE = new TrainingEvents() {
        @Override
        public void publish(String type, long step, Map<String, Object> detail) {
        }

        @Override
        public List<TrainingEvent> recent() {
            return List.of();
        }
    };

    /** Records an event of the model at the step; never blocks, never throws. Called on any thread. */
    void publish(String type, long step, Map<String, Object> detail);

    /** The latest events, oldest first. */
    List<TrainingEvent> recent();
}
