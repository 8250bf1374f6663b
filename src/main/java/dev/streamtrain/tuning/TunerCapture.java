package dev.streamtrain.tuning;

import java.util.ArrayList;
import java.util.List;

import dev.streamtrain.model.Capture;

/**
 * What a checkpoint holds of the tuner, copied on the training thread at the trainer's last good state: the
 * tuner's record then, and a capture of every member's good state by id, except the serving member's (null), which
 * is the checkpoint's network itself. Serialised elsewhere; close it to free the captures' native memory.
 */
public record TunerCapture(TunerState state, List<Capture> members) implements AutoCloseable {

    public TunerCapture {
        members = new ArrayList<>(members);
    }

    @Override
    public void close() {
        for (Capture capture : members) {
            if (capture != null) {
                capture.close();
            }
        }
    }
}
