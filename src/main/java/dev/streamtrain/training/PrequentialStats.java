package dev.streamtrain.training;

import dev.streamtrain.model.BatchScore;

/**
 * Test-then-train statistics (Dawid's prequential evaluation): loss and accuracy of each mini-batch under the
 * model before it trained on that batch, both cumulative and exponentially weighted per example (half-life
 * of {@code halfLife} examples) so that recent quality is visible. Updated on the training thread only;
 * readers see a consistent {@link Summary}.
 */
public final class PrequentialStats {

    private final double decayPerExample;
    private double lossSum;
    private double weightSum;
    private long correct;
    private long examples;
    private double recentLossSum;
    private double recentWeightSum;
    private double recentCorrect;
    private double recentExamples;
    private double trainLoss = Double.NaN;
    private volatile Summary summary = Summary.EMPTY;

    public PrequentialStats(int halfLife) {
        this.decayPerExample = Math.pow(0.5, 1.0 / halfLife);
    }

    public void add(BatchScore score, boolean classification) {
        if (score.examples() == 0) {
            return;
        }
        lossSum += score.lossSum();
        weightSum += score.weightSum();
        correct += score.correct();
        examples += score.examples();
        // decayed sums over decayed counts: an exponentially weighted mean without start-up bias
        double keep = Math.pow(decayPerExample, score.examples());
        recentLossSum = keep * recentLossSum + score.lossSum();
        recentWeightSum = keep * recentWeightSum + score.weightSum();
        recentCorrect = keep * recentCorrect + score.correct();
        recentExamples = keep * recentExamples + score.examples();
        trainLoss = score.trainLoss();
        summarize(classification);
    }

    /** The sums behind the figures, for a checkpoint. */
    public State state() {
        return new State(lossSum, weightSum, correct, examples, recentLossSum, recentWeightSum, recentCorrect,
                recentExamples, trainLoss);
    }

    /** Continues from a checkpoint's sums. */
    public void restore(State state, boolean classification) {
        lossSum = state.lossSum();
        weightSum = state.weightSum();
        correct = state.correct();
        examples = state.examples();
        recentLossSum = state.recentLossSum();
        recentWeightSum = state.recentWeightSum();
        recentCorrect = state.recentCorrect();
        recentExamples = state.recentExamples();
        trainLoss = state.trainLoss();
        summarize(classification);
    }

    private void summarize(boolean classification) {
        summary = examples == 0 ? Summary.EMPTY : new Summary(examples,
                weightSum == 0 ? Double.NaN : lossSum / weightSum,
                classification ? (double) correct / examples : Double.NaN,
                recentWeightSum == 0 ? Double.NaN : recentLossSum / recentWeightSum,
                classification ? recentCorrect / recentExamples : Double.NaN,
                trainLoss);
    }

    public Summary summary() {
        return summary;
    }

    /** The running sums behind the figures. */
    public record State(double lossSum, double weightSum, long correct, long examples, double recentLossSum,
                        double recentWeightSum, double recentCorrect, double recentExamples, double trainLoss) {
    }

    /** Cumulative and recent (exponentially weighted) prequential figures; accuracies are NaN for regression. */
    public record Summary(long examples, double loss, double accuracy, double recentLoss, double recentAccuracy,
                          double trainLoss) {

        public static final Summary EMPTY = new Summary(0, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN);
    }
}
