package dev.streamtrain.training.health;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

/** The health monitors and their answers ({@code streamtrain.health.*}); see the README. */
@ConfigMapping(prefix = "streamtrain.health")
public interface HealthConfig {
    /** Per-layer gradient, update-ratio and activation signals are measured every this many steps. */
    @WithDefault("10")
    int sampleEverySteps();

    /** The in-memory state a non-finite step rolls back to is refreshed every this many steps. */
    @WithDefault("25")
    int goodStateEverySteps();

    Gradients gradients();

    LearningRate learningRate();

    Holdout holdout();

    Overfitting overfitting();

    Drift drift();

    interface Gradients {
        /**
         * An update:parameter ratio above this, {@code patience} samples in a row while the loss rises, or on the
         * first sample after the learning rate was raised, is an explosion (0: off).
         */
        @WithDefault("5e-2")
        double ratioHigh();

        /** ... below this while the loss is still high, a vanishing gradient (0: off). */
        @WithDefault("1e-4")
        double ratioLow();

        @WithDefault("3")
        int patience();

        /** The first layer's gradient norm below this fraction of the output layer's is a vanishing gradient. */
        @WithDefault("1e-4")
        double collapseFraction();

        /** A ReLU layer with at least this fraction of its units silent on a whole batch is dead (0: off). */
        @WithDefault("0.95")
        double deadFraction();

        /** Steps whose training losses make the recent loss the rules compare. */
        @WithDefault("10")
        int lossWindow();

        /** The recent loss this many times its lowest recent level is rising: an explosion's second witness. */
        @WithDefault("2")
        double lossRiseFactor();

        /** Updates too small are a vanishing gradient only while the loss is at least this fraction of its start. */
        @WithDefault("0.5")
        double learningLossFraction();
    }

    interface LearningRate {
        /** On an explosion or a non-finite step the learning rate is multiplied by this ... */
        @WithDefault("0.5")
        double backoff();

        /** ... but not below this fraction of the spec's schedule. */
        @WithDefault("1e-3")
        double minScale();

        /** After this many steps without an explosion or a non-finite step, a backed-off rate climbs back (0: never) ... */
        @WithDefault("500")
        int recoverSteps();

        /** ... by this factor, up to the spec's schedule or the rate last set through the API. */
        @WithDefault("2")
        double recoverFactor();
    }

    interface Holdout {
        /** Fraction of the examples held out (by a stable hash of the record key, or of the value without one). */
        @WithDefault("0.05")
        double fraction();

        /** Half-life, in held-out examples, of the recent held-out figures. */
        @WithDefault("500")
        int halfLife();
    }

    interface Overfitting {
        /** The held-out loss this much (relative) above its best ... */
        @WithDefault("0.1")
        double tolerance();

        /** ... for this many samples in a row, while the training loss is below its value then, is overfitting. */
        @WithDefault("5")
        int patience();

        /** Held-out examples needed before anything is judged (and before a checkpoint is marked best). */
        @WithDefault("200")
        long minExamples();
    }

    interface Drift {
        /** adwin, page-hinkley or none. */
        @WithDefault("adwin")
        String detector();

        /** ADWIN's confidence δ (Bifet and Gavaldà, 2007; MOA's default). */
        @WithDefault("0.002")
        double adwinDelta();

        /** Page-Hinkley's parameters (MOA's PageHinkleyDM defaults). */
        @WithDefault("30")
        int pageHinkleyMinInstances();

        @WithDefault("0.005")
        double pageHinkleyDelta();

        @WithDefault("50")
        double pageHinkleyLambda();

        @WithDefault("0.9999")
        double pageHinkleyAlpha();

        /** warm-restart, reset-moments or none. */
        @WithDefault("warm-restart")
        String answer();

        /** A warm restart multiplies the learning rate by this ... */
        @WithDefault("5")
        double restartFactor();

        /** ... falling back to the schedule's over this many steps. */
        @WithDefault("200")
        int restartSteps();

        /** No drift answer within this many steps of an explosion or a non-finite step. */
        @WithDefault("100")
        int quietSteps();
    }
}
