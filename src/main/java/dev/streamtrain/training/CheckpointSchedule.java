package dev.streamtrain.training;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * When the trainer hands a snapshot of its last good state ({@link StepGuard}) to the {@link Checkpointer}: once
 * that state is {@code everySteps} steps (0: by time only) past the last checkpoint, or {@code interval} has
 * passed, whichever comes first, never twice for one step; and which checkpoints are marked best
 * (the lowest recent held-out loss so far, once the held-out figures mean something). Its part of the
 * checkpointed state is that best loss. Used on the training thread.
 */
final class CheckpointSchedule {

    /** The cadence; {@code minHoldoutExamples} held-out examples are needed before a checkpoint can be best. */
    record Settings(int everySteps, Duration interval, long minHoldoutExamples) {
    }

    private final Checkpointer checkpointer;
    private final Settings settings;
    private double bestHoldoutLoss;
    private long checkpointedStep;
    private long checkpointedAtNanos = System.nanoTime();
    private CompletableFuture<Long> last;

    CheckpointSchedule(Checkpointer checkpointer, Settings settings, TrainerState state) {
        this.checkpointer = checkpointer;
        this.settings = settings;
        this.checkpointedStep = state.step();
        this.bestHoldoutLoss = state.bestCheckpointHoldoutLoss() == null ? Double.NaN
                : state.bestCheckpointHoldoutLoss();
        if (state.step() > 0) {
            // restored from a checkpoint of this very step: nothing to save until the next one
            last = CompletableFuture.completedFuture(state.step());
        }
    }

    boolean enabled() {
        return checkpointer != null;
    }

    /** Whether the good state of {@code step} is to be saved now. */
    boolean due(long step) {
        if (checkpointer == null || step == checkpointedStep) {
            return false;
        }
        return (settings.everySteps() > 0 && step - checkpointedStep >= settings.everySteps())
                || System.nanoTime() - checkpointedAtNanos >= settings.interval().toNanos();
    }

    /**
     * Hands the snapshot of the good state of {@code step} to the checkpointer ({@code snapshot} is given whether it
     * is marked best), unless that step is saved or being saved already; completes with the step once durable.
     */
    CompletableFuture<Long> checkpoint(long step, PrequentialStats.Summary holdout,
                                       Function<Boolean, TrainingSnapshot> snapshot) {
        if (last == null || checkpointedStep != step) {
            double loss = holdout.recentLoss();
            boolean best = holdout.examples() >= settings.minHoldoutExamples() && Double.isFinite(loss)
                    && (Double.isNaN(bestHoldoutLoss) || loss < bestHoldoutLoss);
            if (best) {
                bestHoldoutLoss = loss;
            }
            last = checkpointer.save(snapshot.apply(best));
            checkpointedStep = step;
            checkpointedAtNanos = System.nanoTime();
        }
        return last;
    }

    /** The lowest recent held-out loss of any checkpoint so far (NaN before one is marked best). */
    Double bestHoldoutLoss() {
        return bestHoldoutLoss;
    }
}
