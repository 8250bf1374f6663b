package dev.streamtrain.training.health;

/**
 * How the trainer watches its own health and how it answers.
 *
 * @param sampleEverySteps   per-layer gradient, update and activation signals are measured every this many steps
 * @param goodStateEverySteps the in-memory "last good" state that a non-finite step rolls back to is refreshed
 *                           every this many steps
 * @param backoffFactor      the learning rate is multiplied by this on an explosion or a non-finite step ...
 * @param minLearningRateScale ... but never below this fraction of the spec's schedule
 * @param holdoutHalfLife    half-life, in held-out examples, of the recent held-out figures
 * @param drift              the drift detector ({@code adwin}, {@code page-hinkley} or {@code none}) and its answer
 */
public record HealthSettings(int sampleEverySteps, int goodStateEverySteps, GradientMonitor.Settings gradients,
                             double backoffFactor, double minLearningRateScale, int holdoutHalfLife,
                             OverfittingMonitor.Settings overfitting, Drift drift) {

    /** Drift detection and its answer: {@code warm-restart} (learning rate × factor, back to normal over
     * {@code restartSteps} steps), {@code reset-moments} (the optimizer's state zeroed) or {@code none}. */
    public record Drift(String detector, double adwinDelta, int phMinInstances, double phDelta, double phLambda,
                        double phAlpha, String answer, double restartFactor, int restartSteps, int quietSteps) {
    }

    /** The defaults of the configuration (see the README), for tests and benchmarks. */
    public static HealthSettings defaults() {
        return new HealthSettings(10, 25, new GradientMonitor.Settings(5e-2, 1e-4, 3, 10, 1e-4),
                0.5, 1e-3, 500, new OverfittingMonitor.Settings(0.1, 5, 200),
                new Drift("adwin", 0.002, 30, 0.005, 50, 1 - 1e-4, "warm-restart", 5, 200, 100));
    }
}
