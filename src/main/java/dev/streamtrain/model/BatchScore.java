package dev.streamtrain.model;

/**
 * The test half of test-then-train: a mini-batch's loss and correct predictions under the model as it was
 * before training on it. {@code correct} is NaN-free and 0 for regression.
 */
public record BatchScore(double lossSum, double weightSum, int correct, int examples, double trainLoss) {

    public double meanLoss() {
        return weightSum == 0 ? 0 : lossSum / weightSum;
    }
}
