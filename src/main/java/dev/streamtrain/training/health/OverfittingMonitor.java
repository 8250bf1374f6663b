package dev.streamtrain.training.health;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Watches the held-out loss against the training loss for overfitting: the model getting better on what it
 * trains on while getting worse on examples it never sees (early stopping's signal, Prechelt 1998). On each
 * evaluation it compares the recent held-out loss with the best seen so far: when it has been more than
 * {@code tolerance} (relative) above the best for {@code patience} evaluations in a row while the recent
 * training (prequential) loss is below what it was at the best, it reports {@code overfitting-detected} once
 * per episode. It also remembers the best: the step and loss that a checkpoint marked "best" holds.
 * Nothing is judged before {@code minExamples} held-out examples. Called on the training thread.
 */
public final class OverfittingMonitor {

    public record Settings(double tolerance, int patience, long minExamples) {
    }

    /** What the monitor remembers (checkpointed with the trainer). */
    public record State(double bestLoss, long bestStep, double trainAtBest, int run, boolean overfitting) {
        public static final State START = new State(Double.NaN, -1, Double.NaN, 0, false);
    }

    private final Settings settings;
    private double bestLoss = Double.NaN;
    private long bestStep = -1;
    private double trainAtBest = Double.NaN;
    private int run;
    private boolean overfitting;

    public OverfittingMonitor(Settings settings) {
        this.settings = settings;
    }

    /**
     * One evaluation: {@code holdoutLoss} and {@code trainLoss} are recent (exponentially weighted) losses,
     * {@code holdoutExamples} the held-out examples scored so far.
     */
    public Optional<Finding> observe(long step, double holdoutLoss, double trainLoss, long holdoutExamples) {
        if (holdoutExamples < settings.minExamples() || !Double.isFinite(holdoutLoss) || !Double.isFinite(trainLoss)) {
            return Optional.empty();
        }
        if (Double.isNaN(bestLoss) || holdoutLoss < bestLoss) {
            bestLoss = holdoutLoss;
            bestStep = step;
            trainAtBest = trainLoss;
            run = 0;
            overfitting = false;
            return Optional.empty();
        }
        boolean worse = holdoutLoss > bestLoss * (1 + settings.tolerance()) && trainLoss < trainAtBest;
        run = worse ? run + 1 : 0;
        if (!worse) {
            overfitting = false;
            return Optional.empty();
        }
        if (run < settings.patience() || overfitting) {
            return Optional.empty();
        }
        overfitting = true;
        Map<String, Object> detail = new LinkedHashMap<>();
        detail.put("holdout-loss", holdoutLoss);
        detail.put("best-holdout-loss", bestLoss);
        detail.put("best-step", bestStep);
        detail.put("train-loss", trainLoss);
        detail.put("train-loss-at-best", trainAtBest);
        detail.put("gap", holdoutLoss - trainLoss);
        return Optional.of(new Finding("overfitting-detected", detail));
    }

    public boolean overfitting() {
        return overfitting;
    }

    /** The lowest recent held-out loss seen; NaN before the first judgement. */
    public double bestLoss() {
        return bestLoss;
    }

    public long bestStep() {
        return bestStep;
    }

    public State state() {
        return new State(bestLoss, bestStep, trainAtBest, run, overfitting);
    }

    public void restore(State state) {
        bestLoss = state.bestLoss();
        bestStep = state.bestStep();
        trainAtBest = state.trainAtBest();
        run = state.run();
        overfitting = state.overfitting();
    }
}
