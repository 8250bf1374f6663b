package dev.streamtrain.model;

import org.nd4j.linalg.schedule.ISchedule;
import org.nd4j.shade.jackson.annotation.JsonProperty;

import java.util.Objects;

/**
 * The spec's learning-rate schedule as the health monitors have adjusted it: {@code base(t) × scale × boost(t)}.
 * {@code scale} is the product of every back-off so far (an explosion or a non-finite step halves it, say);
 * {@code boost(t)} is a warm restart after concept drift: {@code boost} at step {@code boostStart}, falling
 * linearly back to 1 over {@code boostSteps} steps. {@code ceiling} is the highest scale a recovery after
 * back-offs may climb back to: 1 (the spec's schedule) until an operator sets a rate, then that rate's scale, so
 * that an automatic climb never goes above a rate a person chose. A pure function of the step, stored in the
 * network's configuration, so a checkpoint carries the adjustments and a restored run continues with them.
 */
public final class AdjustedSchedule implements ISchedule {

    private final ISchedule base;
    private final double scale;
    private final double boost;
    private final int boostStart;
    private final int boostSteps;
    private final double ceiling;
    private final int raisedAt;

    /**
     * {@code ceiling} 0 (absent from a configuration saved before it existed) stands for 1; {@code raisedAt} is the
     * iteration count at which the rate was last raised (null or -1: never), so that the first step after a raise
     * is measured, in a restored run too.
     */
    public AdjustedSchedule(@JsonProperty("base") ISchedule base, @JsonProperty("scale") double scale,
                            @JsonProperty("boost") double boost, @JsonProperty("boostStart") int boostStart,
                            @JsonProperty("boostSteps") int boostSteps, @JsonProperty("ceiling") double ceiling,
                            @JsonProperty("raisedAt") Integer raisedAt) {
        this.base = base;
        this.scale = scale;
        this.boost = boost;
        this.boostStart = boostStart;
        this.boostSteps = boostSteps;
        this.ceiling = ceiling > 0 ? ceiling : 1.0;
        this.raisedAt = raisedAt == null ? -1 : raisedAt;
    }

    /** The schedule {@code schedule} unadjusted (scale 1, no boost), unwrapping an adjusted one. */
    static AdjustedSchedule of(ISchedule schedule) {
        return schedule instanceof AdjustedSchedule a ? a : new AdjustedSchedule(schedule, 1.0, 1.0, 0, 0, 1.0, -1);
    }

    AdjustedSchedule scaled(double factor) {
        return new AdjustedSchedule(base, scale * factor, boost, boostStart, boostSteps, ceiling, raisedAt);
    }

    AdjustedSchedule boosted(double factor, int fromStep, int steps) {
        return new AdjustedSchedule(base, scale, factor, fromStep, steps, ceiling, raisedAt);
    }

    /** An operator's rate: scale and ceiling {@code scale}, no boost. */
    AdjustedSchedule raisedAt(int iteration) {
        return new AdjustedSchedule(base, scale, boost, boostStart, boostSteps, ceiling, iteration);
    }

    AdjustedSchedule set(double scale) {
        return new AdjustedSchedule(base, scale, 1.0, 0, 0, scale, raisedAt);
    }

    @Override
    public double valueAt(int iteration, int epoch) {
        return base.valueAt(iteration, epoch) * scale * boostAt(iteration);
    }

    double boostAt(int iteration) {
        if (boostSteps <= 0 || iteration < boostStart || iteration >= boostStart + boostSteps) {
            return 1.0;
        }
        return boost + (1.0 - boost) * (iteration - boostStart) / boostSteps;
    }

    @JsonProperty("base")
    public ISchedule getBase() {
        return base;
    }

    @JsonProperty("scale")
    public double getScale() {
        return scale;
    }

    @JsonProperty("boost")
    public double getBoost() {
        return boost;
    }

    @JsonProperty("boostStart")
    public int getBoostStart() {
        return boostStart;
    }

    @JsonProperty("boostSteps")
    public int getBoostSteps() {
        return boostSteps;
    }

    @JsonProperty("ceiling")
    public double getCeiling() {
        return ceiling;
    }

    @JsonProperty("raisedAt")
    public int getRaisedAt() {
        return raisedAt;
    }

    // value equality: DL4J groups layers with equal updaters into one block of optimizer state
    @Override
    public boolean equals(Object other) {
        return other instanceof AdjustedSchedule s && s.base.equals(base) && s.scale == scale && s.boost == boost
                && s.boostStart == boostStart && s.boostSteps == boostSteps && s.ceiling == ceiling
                && s.raisedAt == raisedAt;
    }

    @Override
    public int hashCode() {
        return Objects.hash(base, scale, boost, boostStart, boostSteps, ceiling, raisedAt);
    }

    @Override
    public ISchedule clone() {
        return new AdjustedSchedule(base.clone(), scale, boost, boostStart, boostSteps, ceiling, raisedAt);
    }
}
