package dev.streamtrain.model;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** Running mean/std folded in batch by batch equal the whole-data figures, and standardisation uses them. */
class OnlineNormalizerTest {

    private static final int FEATURES = 3;

    @Test
    void runningStatisticsOverUnevenBatchesEqualTheWholeDataStatistics() {
        Random random = new Random(42);
        int[] batchSizes = {1, 7, 2, 31, 5, 1, 13};
        int total = Arrays.stream(batchSizes).sum();
        // features with very different offsets and spreads, the offset large to expose cancellation
        float[] all = new float[total * FEATURES];
        for (int i = 0; i < total; i++) {
            all[i * FEATURES] = (float) (random.nextGaussian() * 2 + 5);
            all[i * FEATURES + 1] = (float) (random.nextGaussian() * 0.01 + 1000);
            all[i * FEATURES + 2] = (float) (random.nextDouble() * 100 - 50);
        }
        OnlineNormalizer normalizer = new OnlineNormalizer(FEATURES);

        int row = 0;
        for (int size : batchSizes) {
            normalizer.update(Arrays.copyOfRange(all, row * FEATURES, (row + size) * FEATURES), size);
            row += size;
        }

        assertThat(normalizer.count()).isEqualTo(total);
        for (int j = 0; j < FEATURES; j++) {
            double mean = 0;
            for (int i = 0; i < total; i++) {
                mean += all[i * FEATURES + j];
            }
            mean /= total;
            double variance = 0;
            for (int i = 0; i < total; i++) {
                double d = all[i * FEATURES + j] - mean;
                variance += d * d;
            }
            double std = Math.sqrt(variance / total);
            assertThat(normalizer.mean()[j]).as("mean of feature %d", j).isCloseTo(mean, within(1e-6 * Math.abs(mean)));
            assertThat(normalizer.std()[j]).as("std of feature %d", j).isCloseTo(std, within(1e-6 * std));
        }
    }

    @Test
    void applyStandardisesWithTheRunningStatistics() {
        OnlineNormalizer normalizer = new OnlineNormalizer(2);
        // feature 0: 1, 3 -> mean 2, std 1; feature 1: 10, 30 -> mean 20, std 10
        normalizer.update(new float[] {1, 10, 3, 30}, 2);

        float[] x = {1, 10, 3, 30, 4, 0, 99, 99};
        normalizer.apply(x, 3);

        assertThat(x).containsExactly(new float[] {-1, -1, 1, 1, 2, -2, 99, 99}, within(1e-6f));
    }

    @Test
    void aConstantFeatureIsOnlyCentred() {
        OnlineNormalizer normalizer = new OnlineNormalizer(2);
        normalizer.update(new float[] {5, 0, 5, 2}, 2);
        normalizer.update(new float[] {5, 4}, 1);

        float[] x = {5, 2, 7, 4};
        normalizer.apply(x, 2);

        assertThat(normalizer.std()[0]).isZero();
        assertThat(x[0]).isZero();
        assertThat(x[2]).as("a constant feature is shifted, never divided by ~0").isEqualTo(2f);
        assertThat(x[1]).isCloseTo(0f, within(1e-6f));
        assertThat(x[3]).isCloseTo((float) (2 / Math.sqrt(8.0 / 3)), within(1e-6f));
    }

    @Test
    void beforeAnyDataApplyIsTheIdentity() {
        OnlineNormalizer normalizer = new OnlineNormalizer(2);
        float[] x = {3.5f, -2f};

        normalizer.apply(x, 1);
        normalizer.update(x, 0);

        assertThat(x).containsExactly(3.5f, -2f);
        assertThat(normalizer.count()).isZero();
        assertThat(normalizer.std()).containsExactly(0.0, 0.0);
    }

    @Test
    void copyIsIndependentOfTheOriginal() {
        OnlineNormalizer original = new OnlineNormalizer(1);
        original.update(new float[] {1, 3}, 2);
        OnlineNormalizer copy = original.copy();

        original.update(new float[] {100, 200, 300}, 3);

        assertThat(copy.count()).isEqualTo(2);
        assertThat(copy.mean()).containsExactly(2.0);
        assertThat(copy.std()).containsExactly(1.0);
        float[] x = {4};
        copy.apply(x, 1);
        assertThat(x).containsExactly(2f);
        assertThat(original.count()).isEqualTo(5);
        assertThat(original.mean()[0]).isCloseTo(120.8, within(1e-9));
    }

    @Test
    void meanIsADefensiveCopy() {
        OnlineNormalizer normalizer = new OnlineNormalizer(1);
        normalizer.update(new float[] {4}, 1);

        normalizer.mean()[0] = 99;

        assertThat(normalizer.mean()).containsExactly(4.0);
    }
}
