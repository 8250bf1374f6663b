package dev.streamtrain.model;

import org.nd4j.linalg.schedule.ISchedule;
import org.nd4j.shade.jackson.annotation.JsonProperty;

/**
 * Linear warm-up from 0 to the base rate over {@code warmupSteps}, then cosine decay to {@code minRate} at
 * {@code totalSteps}, after which the rate stays at {@code minRate} (Loshchilov and Hutter, SGDR, 2017,
 * without restarts; warm-up as in Goyal et al., 2017). ND4J has no cosine schedule of its own.
 * <p>
 * Stays in {@code dev.streamtrain.model} (not with the spec in {@code model.spec}): a checkpoint holds DL4J's
 * configuration as JSON, which names this class, so moving it would make saved checkpoints unreadable
 * ({@code CheckpointMigrationTest}).
 */
public final class WarmupCosineSchedule implements ISchedule {

    private final double baseRate;
    private final int warmupSteps;
    private final int totalSteps;
    private final double minRate;

    public WarmupCosineSchedule(@JsonProperty("baseRate") double baseRate,
                                @JsonProperty("warmupSteps") int warmupSteps,
                                @JsonProperty("totalSteps") int totalSteps,
                                @JsonProperty("minRate") double minRate) {
        this.baseRate = baseRate;
        this.warmupSteps = warmupSteps;
        this.totalSteps = totalSteps;
        this.minRate = minRate;
    }

    @Override
    public double valueAt(int iteration, int epoch) {
        if (iteration < warmupSteps) {
            return baseRate * (iteration + 1) / warmupSteps;
        }
        if (iteration >= totalSteps) {
            return minRate;
        }
        double progress = (double) (iteration - warmupSteps) / (totalSteps - warmupSteps);
        return minRate + 0.5 * (baseRate - minRate) * (1 + Math.cos(Math.PI * progress));
    }

    @JsonProperty("baseRate")
    public double getBaseRate() {
        return baseRate;
    }

    @JsonProperty("warmupSteps")
    public int getWarmupSteps() {
        return warmupSteps;
    }

    @JsonProperty("totalSteps")
    public int getTotalSteps() {
        return totalSteps;
    }

    @JsonProperty("minRate")
    public double getMinRate() {
        return minRate;
    }

    // DL4J groups layers whose updaters are equal into one block of optimizer state; a schedule compared by
    // identity splits the blocks differently once a saved model is read back, which scrambles Adam's moments
    @Override
    public boolean equals(Object other) {
        return other instanceof WarmupCosineSchedule s && s.baseRate == baseRate && s.warmupSteps == warmupSteps
                && s.totalSteps == totalSteps && s.minRate == minRate;
    }

    @Override
    public int hashCode() {
        return java.util.Objects.hash(baseRate, warmupSteps, totalSteps, minRate);
    }

    @Override
    public ISchedule clone() {
        return new WarmupCosineSchedule(baseRate, warmupSteps, totalSteps, minRate);
    }
}
