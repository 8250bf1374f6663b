package dev.streamtrain.training.health;

import org.jboss.logging.Logger;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import dev.streamtrain.model.LayerHealth;
import dev.streamtrain.model.Network;
import dev.streamtrain.model.StepResult;
import dev.streamtrain.training.PrequentialStats;
import dev.streamtrain.training.TrainingEvents;

/**
 * The trainer's health: runs the monitors after every step, carries out their answers on the network and
 * reports each finding as a training event. Each monitor watches one thing ({@link GradientMonitor},
 * {@link OverfittingMonitor}, a {@link DriftDetector}); this class decides what is done about it:
 * <ul>
 *   <li>exploding gradients: the learning rate is backed off (× {@code backoffFactor}, not below
 *       {@code minLearningRateScale} of the schedule's), and {@link #afterStep} says so, for the trainer to roll
 *       the model back;</li>
 *   <li>non-finite steps (the trainer has discarded the step or rolled back): the learning rate is backed off;</li>
 *   <li>recovery: after {@code recovery.steps} steps without either, a backed-off learning rate climbs back
 *       (× {@code recovery.factor}, a {@code hyperparameters-changed} event with reason {@code recovered}) up to
 *       the spec's schedule or the rate an operator last set, never above it. The first step after the climb is
 *       measured, and an update-ratio spike there is an explosion like any other;</li>
 *   <li>concept drift: the configured answer (a warm restart of the learning rate, or the optimizer's moments
 *       reset), unless training was unstable within the last {@code quietSteps} steps (an explosion raises the
 *       error too, and a higher learning rate is the last thing it needs);</li>
 *   <li>vanishing gradients and overfitting: reported and shown as alarms; their remedies are in the spec
 *       (normalisation, residual blocks; regularisation, augmentation) or a rollback to the best checkpoint.</li>
 * </ul>
 * Called on the training thread; {@link #view()} may be read from any thread.
 */
public final class TrainingHealth {

    private static final Logger LOG = Logger.getLogger(TrainingHealth.class);

    /** Alarm names, as the {@code alarm} tag of {@code streamtrain_health_alarm} and in the status. */
    public static final List<String> ALARMS = List.of("exploding-gradient", "vanishing-gradient", "non-finite",
            "overfitting", "drift");

    /** What the health monitors remember across a restart. */
    public record State(GradientMonitor.State gradients, OverfittingMonitor.State overfitting, DriftMonitor.State drift,
                        long lastUnstableStep, long lastNonFiniteStep, long lastDriftStep, LossTrend.State loss,
                        Long lastExplosionStep, Long lastRateChangeStep, Double seenScale, Integer seenBoostStart,
                        Boolean raisePending) {
    }

    /** A consistent picture for meters and the status route. */
    public record View(List<LayerHealth> layers, long layersStep, Map<String, Boolean> alarms,
                       double learningRateScale, long bestStep, double bestHoldoutLoss, double driftMean) {
        public static final View EMPTY = new View(List.of(), -1, Map.of(), 1.0, -1, Double.NaN, Double.NaN);
    }

    private final HealthSettings settings;
    private final TrainingEvents events;
    private final GradientMonitor gradients;
    private final OverfittingMonitor overfitting;
    private final DriftMonitor drift;
    private final LossTrend loss;
    private long lastUnstableStep = Long.MIN_VALUE / 2;
    private long lastExplosionStep = Long.MIN_VALUE / 2;
    // the last step at which the learning-rate scale changed (a back-off, a climb, an operator's rate)
    private long lastRateChangeStep = Long.MIN_VALUE / 2;
    // the learning-rate adjustment seen after the previous step: a higher scale or a new warm restart is a raise
    private double seenScale = Double.NaN;
    private int seenBoostStart = -1;
    private boolean raisePending;
    private long lastNonFiniteStep = Long.MIN_VALUE / 2;
    private long lastDriftStep = Long.MIN_VALUE / 2;
    private List<LayerHealth> layers = List.of();
    private long layersStep = -1;
    private volatile View view = View.EMPTY;

    /** Where the health events go; the trainer's other events go there too. */
    public TrainingEvents events() {
        return events;
    }

    public TrainingHealth(HealthSettings settings, TrainingEvents events) {
        this.settings = settings;
        this.events = events;
        this.gradients = new GradientMonitor(settings.gradients());
        this.overfitting = new OverfittingMonitor(settings.overfitting());
        this.drift = DriftMonitor.of(settings.drift());
        var g = settings.gradients();
        this.loss = new LossTrend(g.lossWindow(), g.lossRiseFactor(), g.learningLossFraction());
    }

    public HealthSettings settings() {
        return settings;
    }

    /** Whether the step about to be taken is one whose per-layer signals are measured. */
    public boolean sampleAt(long step) {
        return settings.sampleEverySteps() > 0 && step % settings.sampleEverySteps() == 0;
    }

    /** Whether the state after this step is to be remembered as the last good one. */
    public boolean saveGoodAt(long step) {
        return settings.goodStateEverySteps() > 0 && step % settings.goodStateEverySteps() == 0;
    }

    /**
     * After a step whose loss and parameters are finite: runs the monitors and answers them. True when an
     * explosion was reported at this step (the learning rate has then been backed off, if back-offs are on): the
     * state after this step is not one to keep.
     */
    public boolean afterStep(long step, StepResult result, PrequentialStats.Summary train,
                             PrequentialStats.Summary holdout, Network network) {
        raisePending |= raisedSinceLastStep(network);
        var adjustment = network.learningRateAdjustment();
        if (adjustment != null && !Double.isNaN(seenScale) && adjustment.getScale() != seenScale) {
            // changed from outside (an operator's rate, a back-off by the trainer): the count starts again
            lastRateChangeStep = step;
        }
        if (result.train().examples() > 0) {
            loss.add(result.train().meanLoss());
        }
        boolean exploded = false;
        if (result.layers() != null) {
            layers = result.layers();
            layersStep = step;
            for (Finding finding : gradients.observe(result.layers(), loss.witness(), raisePending,
                    network.learningRateBoost())) {
                Map<String, Object> detail = new LinkedHashMap<>(finding.detail());
                if (finding.type().equals("exploding-gradient")) {
                    lastUnstableStep = step;
                    lastExplosionStep = step;
                    exploded = true;
                    detail.put("answer", backOff(network));
                } else {
                    detail.put("answer", "none (remedies are structural: see the spec guide)");
                }
                report(finding.type(), step, detail);
            }
            raisePending = false;
        }
        if (drift != null) {
            for (int i = 0; i < result.train().examples(); i++) {
                if (drift.add(result.errors()[i])) {
                    driftDetected(step, network);
                }
            }
        }
        // judged as often as the layers are sampled (every 10 steps when they are not)
        int every = settings.sampleEverySteps() > 0 ? settings.sampleEverySteps() : 10;
        if (step % every == 0) {
            overfitting.observe(step, holdout.recentLoss(), train.recentLoss(), holdout.examples())
                    .ifPresent(f -> {
                        Map<String, Object> detail = new LinkedHashMap<>(f.detail());
                        detail.put("answer", "none (the best checkpoint is kept; roll back to it, or regularise)");
                        report(f.type(), step, detail);
                    });
        }
        if (!exploded) {
            recoverIfDue(step, network);
        }
        see(network);
        refreshView(step, network);
        return exploded;
    }

    private boolean raisedSinceLastStep(Network network) {
        var adjustment = network.learningRateAdjustment();
        if (adjustment == null || Double.isNaN(seenScale)) {
            return false;
        }
        return adjustment.getScale() > seenScale * (1 + 1e-9)
                || (adjustment.getBoostStart() != seenBoostStart && adjustment.getBoost() > 1);
    }

    private void see(Network network) {
        var adjustment = network.learningRateAdjustment();
        if (adjustment != null) {
            seenScale = adjustment.getScale();
            seenBoostStart = adjustment.getBoostStart();
        }
    }

    // a backed-off rate climbs back once training has been stable for a while: a back-off answers a moment, not
    // the model's whole life
    private void recoverIfDue(long step, Network network) {
        var recovery = settings.recovery();
        if (recovery.steps() <= 0 || recovery.factor() <= 1 || gradients.exploding()
                || step - Math.max(lastUnstableStep, lastRateChangeStep) < recovery.steps()) {
            return;
        }
        double rateBefore = network.learningRate();
        double scaleBefore = network.learningRateScale();
        if (!network.raiseLearningRateScale(recovery.factor())) {
            return;
        }
        lastRateChangeStep = step;
        raisePending = true;
        Map<String, Object> detail = new LinkedHashMap<>();
        detail.put("learning-rate", Map.of("from", rateBefore, "to", network.learningRate()));
        detail.put("reason", "recovered");
        detail.put("learning-rate-scale", Map.of("from", scaleBefore, "to", network.learningRateScale()));
        detail.put("ceiling", network.learningRateCeiling());
        LOG.infof("Step %d: learning rate recovered from %g to %g (x%g of the schedule, ceiling x%g) after %d stable"
                + " steps", step, rateBefore, network.learningRate(), network.learningRateScale(),
                network.learningRateCeiling(), recovery.steps());
        events.publish("hyperparameters-changed", step, detail);
    }

    /** No explosion is being answered and no non-finite step is recent: the model is worth keeping. */
    public boolean stable() {
        Map<String, Boolean> alarms = view.alarms();
        return !alarms.getOrDefault("exploding-gradient", false) && !alarms.getOrDefault("non-finite", false);
    }

    /** The step of the last explosion reported; {@code Long.MIN_VALUE / 2} when there has been none. */
    public long lastExplosionStep() {
        return lastExplosionStep;
    }

    /** The step of the last drift detected; {@code Long.MIN_VALUE / 2} when there has been none. */
    public long lastDriftStep() {
        return lastDriftStep;
    }

    /**
     * After a step whose loss or parameters were not finite and which the trainer has undone ({@code action});
     * backs the learning rate off and reports {@code non-finite-loss}.
     */
    public void nonFinite(long step, Map<String, Object> detail, Network network) {
        lastUnstableStep = step;
        lastNonFiniteStep = step;
        Map<String, Object> full = new LinkedHashMap<>(detail);
        full.put("answer", backOff(network));
        report("non-finite-loss", step, full);
        see(network);
        refreshView(step, network);
    }

    private void driftDetected(long step, Network network) {
        Map<String, Object> detail = new LinkedHashMap<>(drift.describe());
        boolean unstable = step - lastUnstableStep <= settings.drift().quietSteps() || gradients.exploding();
        String answer;
        if (unstable) {
            answer = "none (training was unstable within the last " + settings.drift().quietSteps() + " steps)";
        } else {
            answer = switch (settings.drift().answer()) {
                case "warm-restart" -> {
                    boolean boosted = network.boostLearningRate(settings.drift().restartFactor(),
                            settings.drift().restartSteps());
                    raisePending |= boosted;
                    yield boosted ? "learning rate x" + settings.drift().restartFactor() + ", back to the schedule over "
                            + settings.drift().restartSteps() + " steps" : "none (the optimizer has no learning rate)";
                }
                case "reset-moments" -> {
                    network.resetOptimizerState();
                    yield "optimizer state reset";
                }
                default -> "none";
            };
        }
        lastDriftStep = step;
        detail.put("answer", answer);
        report("drift-detected", step, detail);
    }

    private String backOff(Network network) {
        if (settings.backoffFactor() >= 1) {
            return "none (learning-rate back-off is off)";
        }
        double scale = network.learningRateScale();
        double next = Math.max(settings.minLearningRateScale(), scale * settings.backoffFactor());
        if (next >= scale) {
            return "none (the learning rate is at its floor, x" + settings.minLearningRateScale() + " of the schedule)";
        }
        if (!network.scaleLearningRate(next / scale)) {
            return "none (the optimizer has no learning rate)";
        }
        return "learning rate x" + settings.backoffFactor() + " (now x" + next + " of the schedule: "
                + network.learningRate() + ")";
    }

    private void report(String type, long step, Map<String, Object> detail) {
        LOG.warnf("Step %d: %s %s", step, type, detail);
        events.publish(type, step, detail);
    }

    private void refreshView(long step, Network network) {
        Map<String, Boolean> alarms = new TreeMap<>();
        alarms.put("exploding-gradient", gradients.exploding());
        alarms.put("vanishing-gradient", gradients.vanishing());
        alarms.put("non-finite", step - lastNonFiniteStep <= settings.drift().quietSteps());
        alarms.put("overfitting", overfitting.overfitting());
        alarms.put("drift", step - lastDriftStep <= settings.drift().restartSteps());
        view = new View(layers, layersStep, Map.copyOf(alarms), network.learningRateScale(), overfitting.bestStep(),
                overfitting.bestLoss(), drift == null ? Double.NaN : drift.mean());
    }

    public View view() {
        return view;
    }

    /** The lowest recent held-out loss so far (NaN before there is one): what "best" checkpoints are judged by. */
    public double bestHoldoutLoss() {
        return overfitting.bestLoss();
    }

    public State state() {
        return new State(gradients.state(), overfitting.state(), drift == null ? null : drift.state(),
                lastUnstableStep, lastNonFiniteStep, lastDriftStep, loss.state(), lastExplosionStep, lastRateChangeStep,
                seenScale, seenBoostStart, raisePending);
    }

    public void restore(State state) {
        if (state == null) {
            return;
        }
        gradients.restore(state.gradients());
        overfitting.restore(state.overfitting());
        if (drift != null && state.drift() != null) {
            drift.restore(state.drift());
        }
        lastUnstableStep = state.lastUnstableStep();
        lastNonFiniteStep = state.lastNonFiniteStep();
        lastDriftStep = state.lastDriftStep();
        loss.restore(state.loss());
        // a state saved before these existed: nothing to go on, as after a fresh start
        lastExplosionStep = state.lastExplosionStep() == null ? Long.MIN_VALUE / 2 : state.lastExplosionStep();
        lastRateChangeStep = state.lastRateChangeStep() == null ? Long.MIN_VALUE / 2 : state.lastRateChangeStep();
        seenScale = state.seenScale() == null ? Double.NaN : state.seenScale();
        seenBoostStart = state.seenBoostStart() == null ? -1 : state.seenBoostStart();
        raisePending = Boolean.TRUE.equals(state.raisePending());
    }
}
