package dev.streamtrain.model;

import org.nd4j.linalg.learning.config.AdaGrad;
import org.nd4j.linalg.schedule.ISchedule;
import org.nd4j.shade.jackson.annotation.JsonProperty;

/**
 * ND4J's AdaGrad driven by a learning-rate schedule, with a {@link #clone()} that keeps the schedule. ND4J
 * 1.0.0-M2.1's {@code AdaGrad.clone()} copies only the fixed rate (NaN when a schedule is set) and drops the
 * schedule; DL4J clones the updater into every layer, so every parameter became NaN after the first step.
 * <p>
 * Stays in {@code dev.streamtrain.model} (not with the spec in {@code model.spec}): a checkpoint holds DL4J's
 * configuration as JSON, which names this class, so moving it would make saved checkpoints unreadable
 * ({@code CheckpointMigrationTest}).
 */
public final class ScheduledAdaGrad extends AdaGrad {

    public ScheduledAdaGrad(@JsonProperty("learningRateSchedule") ISchedule learningRateSchedule,
                            @JsonProperty("epsilon") double epsilon) {
        super(learningRateSchedule, epsilon);
    }

    @Override
    public AdaGrad clone() {
        ISchedule schedule = getLearningRateSchedule();
        return new ScheduledAdaGrad(schedule == null ? null : schedule.clone(), getEpsilon());
    }
}
