package dev.streamtrain.checkpoint;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

import dev.streamtrain.model.spec.ModelSpec;
import dev.streamtrain.training.Checkpointer;
import dev.streamtrain.training.SavedTraining;
import dev.streamtrain.training.TrainingSnapshot;

/**
 * The service's checkpoint writer and reader on a store, without the application around them (no events, meters or
 * Kafka commits): for tests that run trainers outside Quarkus and want their checkpoints written and read as the
 * service does.
 */
public final class StoreCheckpointer implements Checkpointer, AutoCloseable {

    private final Checkpoints checkpoints;
    private final ModelSpec spec;
    private final CheckpointWriter writer;

    public StoreCheckpointer(CheckpointStore store, ModelSpec spec, String specText) {
        this.checkpoints = new Checkpoints(store);
        this.spec = spec;
        this.writer = new CheckpointWriter(checkpoints, specText, Duration.ofMillis(50), Duration.ofMillis(500),
                ResumeExactlyOnceTest.noOutcome());
    }

    @Override
    public Optional<SavedTraining> restoreNewest() throws IOException {
        for (long step : checkpoints.steps(spec.name())) {
            try {
                return Optional.of(restore(step));
            } catch (Checkpoints.InvalidCheckpointException e) {
                // an incomplete one (its writer was stopped mid-write): the one before stands
            }
        }
        return Optional.empty();
    }

    @Override
    public SavedTraining restore(long step) throws IOException {
        return CheckpointCodec.decode(checkpoints.load(spec.name(), step), spec);
    }

    @Override
    public CompletableFuture<Long> save(TrainingSnapshot snapshot) {
        return writer.offer(snapshot);
    }

    /** The steps of the model's checkpoints, newest first. */
    public List<Long> steps() throws IOException {
        return checkpoints.steps(spec.name());
    }

    @Override
    public void close() {
        writer.close();
    }
}
