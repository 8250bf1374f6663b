package dev.streamtrain.training;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.streamtrain.model.BatchScore;

/** Cumulative and exponentially weighted (recent) prequential figures on streams whose quality is known. */
class PrequentialStatsTest {

    private static final int HALF_LIFE = 20;

    /** A batch of {@code examples} unweighted examples, {@code correct} of them right, each with loss {@code loss}. */
    private static BatchScore batch(int examples, int correct, double loss) {
        return new BatchScore(loss * examples, examples, correct, examples, loss + 0.5);
    }

    @Test
    void beforeAnyBatchEverythingIsEmpty() {
        PrequentialStats stats = new PrequentialStats(HALF_LIFE);

        assertThat(stats.summary()).isEqualTo(PrequentialStats.Summary.EMPTY);
        assertThat(stats.summary().loss()).isNaN();
        assertThat(stats.summary().recentAccuracy()).isNaN();
    }

    @Test
    void recentFiguresFollowAJumpInAccuracyMuchFasterThanCumulativeOnes() {
        PrequentialStats stats = new PrequentialStats(HALF_LIFE);
        for (int i = 0; i < 20; i++) {
            stats.add(batch(10, 0, 2.0), true);
        }
        assertThat(stats.summary().accuracy()).isZero();
        assertThat(stats.summary().recentAccuracy()).isZero();

        // one half-life of perfect examples after ten half-lives of wrong ones: recent is about halfway
        stats.add(batch(10, 10, 0.1), true);
        stats.add(batch(10, 10, 0.1), true);
        PrequentialStats.Summary afterOneHalfLife = stats.summary();
        assertThat(afterOneHalfLife.recentAccuracy()).isCloseTo(0.5, within(0.001));
        assertThat(afterOneHalfLife.accuracy()).isCloseTo(20.0 / 220, within(1e-12));

        for (int i = 0; i < 3; i++) {
            stats.add(batch(10, 10, 0.1), true);
        }
        PrequentialStats.Summary summary = stats.summary();
        assertThat(summary.examples()).isEqualTo(250);
        assertThat(summary.accuracy()).isCloseTo(50.0 / 250, within(1e-12));
        assertThat(summary.loss()).isCloseTo((200 * 2.0 + 50 * 0.1) / 250, within(1e-12));
        // 2.5 half-lives after the jump: 1 - 2^-2.5 of the weight is on the new examples
        assertThat(summary.recentAccuracy()).isCloseTo(1 - Math.pow(2, -2.5), within(0.001))
                .isGreaterThan(summary.accuracy() + 0.5);
        assertThat(summary.recentLoss()).isLessThan(0.5).isLessThan(summary.loss() / 3);
        assertThat(summary.trainLoss()).isEqualTo(0.6);
    }

    @Test
    void aConstantStreamHasNoStartUpBias() {
        PrequentialStats stats = new PrequentialStats(HALF_LIFE);

        stats.add(batch(10, 7, 0.8), true);

        PrequentialStats.Summary first = stats.summary();
        assertThat(first.recentAccuracy()).isCloseTo(0.7, within(1e-12));
        assertThat(first.accuracy()).isCloseTo(0.7, within(1e-12));
        assertThat(first.recentLoss()).isCloseTo(0.8, within(1e-12));
        assertThat(first.loss()).isCloseTo(0.8, within(1e-12));

        for (int i = 0; i < 30; i++) {
            stats.add(batch(i % 2 == 0 ? 10 : 20, i % 2 == 0 ? 7 : 14, 0.8), true);
            assertThat(stats.summary().recentAccuracy()).isCloseTo(0.7, within(1e-12));
            assertThat(stats.summary().recentLoss()).isCloseTo(0.8, within(1e-12));
        }
    }

    @Test
    void lossIsWeightedAndRegressionHasNoAccuracy() {
        PrequentialStats stats = new PrequentialStats(HALF_LIFE);

        // 4 examples of total weight 2 with weighted loss sum 3: mean loss 1.5
        stats.add(new BatchScore(3.0, 2.0, 0, 4, 1.0), false);

        PrequentialStats.Summary summary = stats.summary();
        assertThat(summary.examples()).isEqualTo(4);
        assertThat(summary.loss()).isCloseTo(1.5, within(1e-12));
        assertThat(summary.recentLoss()).isCloseTo(1.5, within(1e-12));
        assertThat(summary.accuracy()).isNaN();
        assertThat(summary.recentAccuracy()).isNaN();
    }

    @Test
    void anEmptyBatchChangesNothing() {
        PrequentialStats stats = new PrequentialStats(HALF_LIFE);
        stats.add(batch(10, 5, 1.0), true);
        PrequentialStats.Summary before = stats.summary();

        stats.add(new BatchScore(0, 0, 0, 0, Double.NaN), true);

        assertThat(stats.summary()).isEqualTo(before);
    }
}
