package dev.streamtrain.training;

import java.io.IOException;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/** Where the trainer's whole state is saved and found again (the checkpoint store). */
public interface Checkpointer {

    /** The newest valid saved state of the model, or empty to start afresh. Called once, before training. */
    Optional<SavedTraining> restoreNewest() throws IOException;

    /** The saved state of the given step, verified; for rollbacks. Not called on the training thread. */
    SavedTraining restore(long step) throws IOException;

    /**
     * Takes the snapshot (and the duty to close it) and saves it off the caller's thread: returns at once,
     * even while storage is slow or down. The future completes with the step of a durable checkpoint that
     * holds this snapshot's state or a later one (a pending snapshot is replaced by a newer one).
     */
    CompletableFuture<Long> save(TrainingSnapshot snapshot);
}
