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
 * @param recovery           how a backed-off learning rate climbs back
 */
public record HealthSettings(int sampleEverySteps, int goodStateEverySteps, GradientMonitor.Settings gradients,
                             double backoffFactor, double minLearningRateScale, int holdoutHalfLife,
                             OverfittingMonitor.Settings overfitting, Drift drift, Recovery recovery) {

    /** With the default recovery. */
    public HealthSettings(int sampleEverySteps, int goodStateEverySteps, GradientMonitor.Settings gradients,
                          double backoffFactor, double minLearningRateScale, int holdoutHalfLife,
                          OverfittingMonitor.Settings overfitting, Drift drift) {
        this(sampleEverySteps, goodStateEverySteps, gradients, backoffFactor, minLearningRateScale, holdoutHalfLife,
                overfitting, drift, Recovery.DEFAULT);
    }

    /** Drift detection and its answer: {@code warm-restart} (learning rate × factor, back to normal over
     * {@code restartSteps} steps), {@code reset-moments} (the optimizer's state zeroed) or {@code none}. */
    public record Drift(String detector, double adwinDelta, int phMinInstances, double phDelta, double phLambda,
                        double phAlpha, String answer, double restartFactor, int restartSteps, int quietSteps) {
    }

    /**
     * After {@code steps} steps without an explosion or a non-finite step (0: never), a backed-off learning-rate
     * scale is multiplied by {@code factor}, up to 1 or the scale of the rate an operator last set.
     */
    public record Recovery(int steps, double factor) {
        public static final Recovery DEFAULT = new Recovery(500, 2);
    }

    /** The default thresholds of the gradient rules (see the README). */
    public static GradientMonitor.Settings defaultGradients() {
        return new GradientMonitor.Settings(5e-2, 1e-4, 3, 1e-4, 0.95, 10, 2, 0.5);
    }

    /** The defaults of the configuration (see the README), for tests and benchmarks. */
    public static HealthSettings defaults() {
        return new HealthSettings(10, 25, defaultGradients(), 0.5, 1e-3, 500,
                new OverfittingMonitor.Settings(0.1, 5, 200),
                new Drift("adwin", 0.002, 30, 0.005, 50, 1 - 1e-4, "warm-restart", 5, 200, 100), Recovery.DEFAULT);
    }
}
