package dev.streamtrain.training;

/**
 * When a new snapshot may replace the one that serves. {@code always}: every publish. {@code not-worse}: at a
 * publish, the candidate (the model as it is now) and the serving snapshot are both scored on the {@code window}
 * most recent held-out examples, which neither was trained on; the candidate is promoted unless its mean loss
 * there is worse than the serving one's by more than {@code tolerance} (relative). Nothing is decided, and the
 * serving snapshot stays, until {@code minExamples} held-out examples have arrived.
 */
public record Promotion(boolean notWorse, double tolerance, int minExamples, int window) {

    public static final Promotion ALWAYS = new Promotion(false, 0, 0, 0);

    /**
     * Whether a challenger with this mean held-out loss may replace a champion with that one. A challenger whose
     * loss is not a number (a wrecked model: finite weights, overflowing outputs) never does; a champion's that
     * is not a number never stands in the way.
     */
    public boolean allows(double challengerLoss, double championLoss) {
        return Double.isFinite(challengerLoss)
                && (!Double.isFinite(championLoss) || challengerLoss <= championLoss * (1 + tolerance));
    }
}
