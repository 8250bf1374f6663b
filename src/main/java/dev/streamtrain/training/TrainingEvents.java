package dev.streamtrain.training;

import java.util.List;
import java.util.Map;

/** Where training events go (the events topic, a counter, the log). */
public interface TrainingEvents {

    /** Records an event of the model at the step; never blocks, never throws. Called on any thread. */
    void publish(String type, long step, Map<String, Object> detail);

    /** The latest events, oldest first. */
    List<TrainingEvent> recent();
}
