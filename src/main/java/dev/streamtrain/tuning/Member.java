package dev.streamtrain.tuning;

import dev.streamtrain.model.BatchScore;
import dev.streamtrain.model.MiniBatch;
import dev.streamtrain.model.spec.ModelSpec;
import dev.streamtrain.model.Network;

/**
 * One candidate of the population: its network (weights, optimizer state, normaliser, schedule position), the
 * multiple of the spec's learning rate it trains at, and its recent prequential loss as a bias-corrected
 * exponential average (the sum and the weight of the decayed per-step losses), which starts empty.
 */
final class Member {

    final int id;
    Network network;
    double factor;
    double lossSum;
    double lossWeight;
    /** The step of the member's last exploit (or its creation): it is not replaced again within an interval. */
    long since;
    /** A copy of each batch: a step normalises, reorders and augments its batch in place. */
    private final MiniBatch batch;

    Member(int id, Network network, double factor, long since) {
        this.id = id;
        this.network = network;
        this.factor = factor;
        this.since = since;
        ModelSpec spec = network.spec();
        this.batch = new MiniBatch(spec.batchSize(), spec.inputs(), spec.labelWidth());
    }

    MiniBatch copy(MiniBatch source) {
        if (source.capacity() > batch.capacity()) {
            throw new IllegalArgumentException("a batch of capacity " + source.capacity()
                    + " is larger than the spec's batch size " + batch.capacity());
        }
        batch.copyFrom(source);
        return batch;
    }

    /** Folds a step's prequential loss into the recent loss (decay per step {@code decay}). */
    void observe(BatchScore score, double decay) {
        if (score.weightSum() > 0) {
            lossSum = decay * lossSum + score.meanLoss();
            lossWeight = decay * lossWeight + 1;
        }
    }

    /** The recent prequential loss; +∞ before the first scored step or after a non-finite one. */
    double recentLoss() {
        return lossWeight > 0 && Double.isFinite(lossSum) ? lossSum / lossWeight : Double.POSITIVE_INFINITY;
    }

    /**
     * Sets the rate to {@code factor} times the spec's schedule (its scale), through the network's operator path,
     * so a health monitor's later recovery climbs back to the tuner's rate, not above it.
     */
    void applyFactor(double target) {
        factor = target;
        double scale = network.learningRateScale();
        double boost = network.learningRateBoost();
        double base = network.learningRate() / (scale * boost);
        if (!(base > 0 && Double.isFinite(base)) || !network.setLearningRate(target * base)) {
            // the schedule's own rate is 0 now (a warm-up's first step): scale what is there instead
            network.scaleLearningRate(target / scale);
        }
    }
}
