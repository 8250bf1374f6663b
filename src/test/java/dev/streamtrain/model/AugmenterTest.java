package dev.streamtrain.model;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;

import dev.streamtrain.model.spec.ModelSpec.AugmentationSpec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * Augmentation changes only trainable rows, reproducibly from (seed, step); the noise has the asked-for
 * distribution and every mixup row is a convex combination of two trainable rows, features and labels alike.
 */
class AugmenterTest {

    private static final int INPUTS = 6;
    private static final int CLASSES = 4;

    /** A batch of random features and one-hot labels; {@code trainable} marks the rows trained on. */
    private record Batch(float[] features, float[] labels, boolean[] trainable) {

        static Batch random(int rows, long seed, boolean[] trainable) {
            Random random = new Random(seed);
            float[] x = new float[rows * INPUTS];
            float[] y = new float[rows * CLASSES];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) random.nextGaussian();
            }
            for (int r = 0; r < rows; r++) {
                y[r * CLASSES + random.nextInt(CLASSES)] = 1f;
            }
            return new Batch(x, y, trainable);
        }

        static Batch allTrainable(int rows, long seed) {
            boolean[] trainable = new boolean[rows];
            Arrays.fill(trainable, true);
            return random(rows, seed, trainable);
        }

        int rows() {
            return trainable.length;
        }

        Batch copy() {
            return new Batch(features.clone(), labels.clone(), trainable.clone());
        }

        void augment(Augmenter augmenter, long step) {
            augmenter.apply(features, labels, rows(), INPUTS, CLASSES, trainable, step);
        }

        float[] featureRow(int row) {
            return Arrays.copyOfRange(features, row * INPUTS, (row + 1) * INPUTS);
        }

        float[] labelRow(int row) {
            return Arrays.copyOfRange(labels, row * CLASSES, (row + 1) * CLASSES);
        }
    }

    private static Augmenter augmenter(double noise, double mixup, long seed) {
        return new Augmenter(new AugmentationSpec(noise, mixup), seed);
    }

    @Test
    void sameSeedAndStepGiveTheSameBatchWhateverCameBefore() {
        Batch original = Batch.allTrainable(32, 1);
        Augmenter uninterrupted = augmenter(0.1, 0.4, 42);
        for (long step = 0; step < 5; step++) {
            original.copy().augment(uninterrupted, step);
        }
        Batch afterHistory = original.copy();
        afterHistory.augment(uninterrupted, 5);
        Batch restored = original.copy();
        restored.augment(augmenter(0.1, 0.4, 42), 5);  // a fresh augmenter, as after a restore

        assertThat(restored.features()).isEqualTo(afterHistory.features());
        assertThat(restored.labels()).isEqualTo(afterHistory.labels());
        assertThat(afterHistory.features()).isNotEqualTo(original.features());
    }

    @Test
    void anotherStepOrSeedGivesOtherDraws() {
        Batch original = Batch.allTrainable(32, 1);
        Batch step5 = original.copy();
        step5.augment(augmenter(0.1, 0.4, 42), 5);
        Batch step6 = original.copy();
        step6.augment(augmenter(0.1, 0.4, 42), 6);
        Batch otherSeed = original.copy();
        otherSeed.augment(augmenter(0.1, 0.4, 43), 5);

        assertThat(step6.features()).isNotEqualTo(step5.features());
        assertThat(step6.labels()).isNotEqualTo(step5.labels());
        assertThat(otherSeed.features()).isNotEqualTo(step5.features());
        assertThat(otherSeed.labels()).isNotEqualTo(step5.labels());
    }

    @Test
    void zeroNoiseAndZeroMixupLeaveTheBatchUnchanged() {
        Batch original = Batch.allTrainable(32, 1);
        Batch batch = original.copy();
        Augmenter off = new Augmenter(AugmentationSpec.none(), 42);

        for (long step = 0; step < 10; step++) {
            batch.augment(off, step);
        }

        assertThat(off.enabled()).isFalse();
        assertThat(batch.features()).isEqualTo(original.features());
        assertThat(batch.labels()).isEqualTo(original.labels());
    }

    @Test
    void noiseHasMeanZeroAndTheGivenStandardDeviationAndLeavesLabelsAlone() {
        double sigma = 0.3;
        int rows = 20_000;
        Batch original = Batch.allTrainable(rows, 2);
        Batch batch = original.copy();
        batch.augment(augmenter(sigma, 0, 42), 0);

        int n = rows * INPUTS;
        double sum = 0;
        double sumSquares = 0;
        int withinOneSigma = 0;
        double[] columnSum = new double[INPUTS];
        double crossProduct = 0;  // noise of feature 0 times noise of feature 1, over rows
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < INPUTS; c++) {
                double e = (double) batch.features()[r * INPUTS + c] - original.features()[r * INPUTS + c];
                sum += e;
                sumSquares += e * e;
                columnSum[c] += e;
                if (Math.abs(e) < sigma) {
                    withinOneSigma++;
                }
            }
            crossProduct += ((double) batch.features()[r * INPUTS] - original.features()[r * INPUTS])
                    * ((double) batch.features()[r * INPUTS + 1] - original.features()[r * INPUTS + 1]);
        }
        double mean = sum / n;
        double std = Math.sqrt(sumSquares / n - mean * mean);

        // 5 standard errors: the standard error of a mean is σ/√n, of a Gaussian sample's std about σ/√(2n)
        assertThat(mean).isCloseTo(0.0, within(5 * sigma / Math.sqrt(n)));
        assertThat(std).isCloseTo(sigma, within(5 * sigma / Math.sqrt(2.0 * n)));
        for (int c = 0; c < INPUTS; c++) {
            assertThat(columnSum[c] / rows).as("mean noise of feature %d", c)
                    .isCloseTo(0.0, within(5 * sigma / Math.sqrt(rows)));
        }
        // Gaussian, not merely of the right variance: P(|e| < σ) = 0.6827 (0.577 for uniform noise)
        double p = 0.6827;
        assertThat((double) withinOneSigma / n).isCloseTo(p, within(5 * Math.sqrt(p * (1 - p) / n)));
        // independent across features: the correlation of two features' noise is about 0 (standard error 1/√rows)
        assertThat(crossProduct / rows / (sigma * sigma)).isCloseTo(0.0, within(5 / Math.sqrt(rows)));
        assertThat(batch.labels()).isEqualTo(original.labels());
    }

    @Test
    void heldOutRowsAreUnchangedAndNeverMixedIntoTrainableRows() {
        int rows = 40;
        boolean[] trainable = new boolean[rows];
        for (int i = 0; i < rows; i++) {
            trainable[i] = i % 3 != 1;  // every third row held out, the first of them at row 1
        }
        Batch original = Batch.random(rows, 3, trainable);
        for (int i = 0; i < rows; i++) {
            if (!trainable[i]) {
                // a distinctive held-out row: huge features and the one class no trainable row has
                Arrays.fill(original.features(), i * INPUTS, (i + 1) * INPUTS, 1.0e6f);
                Arrays.fill(original.labels(), i * CLASSES, (i + 1) * CLASSES, 0f);
                original.labels()[i * CLASSES + CLASSES - 1] = 1f;
            } else if (original.labels()[i * CLASSES + CLASSES - 1] == 1f) {
                original.labels()[i * CLASSES + CLASSES - 1] = 0f;
                original.labels()[i * CLASSES] = 1f;
            }
        }
        Augmenter mixupOnly = augmenter(0, 1.0, 42);
        Augmenter both = augmenter(0.05, 0.2, 42);

        for (Augmenter augmenter : new Augmenter[] {mixupOnly, both}) {
            for (long step = 0; step < 50; step++) {
                Batch batch = original.copy();
                batch.augment(augmenter, step);
                for (int i = 0; i < rows; i++) {
                    if (!trainable[i]) {
                        assertThat(batch.featureRow(i)).isEqualTo(original.featureRow(i));
                        assertThat(batch.labelRow(i)).isEqualTo(original.labelRow(i));
                    } else {
                        // trainable features are Gaussian (|x| < 10 by far): any share of 1e6 would show
                        for (float x : batch.featureRow(i)) {
                            assertThat(Math.abs(x)).isLessThan(10f);
                        }
                        assertThat(batch.labels()[i * CLASSES + CLASSES - 1]).isZero();
                    }
                }
            }
        }
    }

    @Test
    void everyMixedRowIsAConvexCombinationOfItselfAndAnotherTrainableRowWithOneLambdaForFeaturesAndLabels() {
        int rows = 24;
        boolean[] trainable = new boolean[rows];
        for (int i = 0; i < rows; i++) {
            trainable[i] = i % 4 != 0;
        }
        Batch original = Batch.random(rows, 4, trainable);
        Augmenter augmenter = augmenter(0, 0.4, 42);

        for (long step = 0; step < 20; step++) {
            Batch batch = original.copy();
            batch.augment(augmenter, step);
            for (int i = 0; i < rows; i++) {
                if (trainable[i]) {
                    assertThat(lambdaOfMix(original, batch, i)).as("row %d at step %d", i, step).isNotNaN();
                }
            }
        }
    }

    @Test
    void mixedClassLabelsAreSoftLabelsSummingToOne() {
        Batch original = Batch.allTrainable(32, 5);
        Batch batch = original.copy();
        batch.augment(augmenter(0, 1.0, 42), 0);

        int soft = 0;
        for (int i = 0; i < batch.rows(); i++) {
            float total = 0;
            int nonZero = 0;
            for (float y : batch.labelRow(i)) {
                assertThat(y).isBetween(0f, 1f);
                total += y;
                nonZero += y > 0 ? 1 : 0;
            }
            assertThat(total).isCloseTo(1f, within(1e-6f));
            soft += nonZero > 1 ? 1 : 0;
        }
        assertThat(soft).as("rows with soft labels").isGreaterThan(batch.rows() / 2);
    }

    @Test
    void regressionTargetsAreMixedWithTheFeatures() {
        int rows = 16;
        int targets = 2;
        Random random = new Random(6);
        float[] x = new float[rows * INPUTS];
        float[] y = new float[rows * targets];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) random.nextGaussian();
        }
        for (int i = 0; i < y.length; i++) {
            y[i] = (float) (100 * random.nextGaussian());
        }
        boolean[] trainable = new boolean[rows];
        Arrays.fill(trainable, true);
        float[] mixedX = x.clone();
        float[] mixedY = y.clone();

        augmenter(0, 0.4, 42).apply(mixedX, mixedY, rows, INPUTS, targets, trainable, 3);

        for (int i = 0; i < rows; i++) {
            boolean found = false;
            for (int j = 0; j < rows && !found; j++) {
                double lambda = j == i ? Double.NaN : fitLambda(x, mixedX, INPUTS, i, j);
                found = !Double.isNaN(lambda) && fits(y, mixedY, targets, i, j, lambda, 1e-3);
            }
            assertThat(found).as("row %d is a mix of features and targets with one λ", i).isTrue();
        }
    }

    @Test
    void eachRowDrawsItsOwnLambdaFromBetaAlphaAlpha() {
        double alpha = 0.4;
        Batch original = Batch.allTrainable(32, 7);
        Augmenter augmenter = augmenter(0, alpha, 42);
        int n = 0;
        double sum = 0;
        double sumSquares = 0;
        int batchesWithSpread = 0;
        int steps = 200;
        for (long step = 0; step < steps; step++) {
            Batch batch = original.copy();
            batch.augment(augmenter, step);
            double low = 1;
            double high = 0;
            for (int i = 0; i < batch.rows(); i++) {
                double lambda = lambdaOfMix(original, batch, i);
                assertThat(lambda).isNotNaN();
                sum += lambda;
                sumSquares += lambda * lambda;
                n++;
                low = Math.min(low, lambda);
                high = Math.max(high, lambda);
            }
            batchesWithSpread += high - low > 0.5 ? 1 : 0;
        }
        double mean = sum / n;
        double variance = sumSquares / n - mean * mean;
        double expectedVariance = 1 / (4 * (2 * alpha + 1));  // of Beta(α, α)

        assertThat(mean).isCloseTo(0.5, within(5 * Math.sqrt(expectedVariance / n)));
        assertThat(variance).isCloseTo(expectedVariance, within(0.1 * expectedVariance));
        // per-example λ: a batch's rows spread over most of [0, 1], not one shared λ
        assertThat(batchesWithSpread).isGreaterThan(steps * 9 / 10);
    }

    @Test
    void noRowIsMixedWithItself() {
        // with λ uniform (α = 1) a row mixed with another is never left as it was; mixed with itself it would be
        Batch original = Batch.allTrainable(8, 12);
        Augmenter augmenter = augmenter(0, 1.0, 42);
        for (long step = 0; step < 100; step++) {
            Batch batch = original.copy();
            batch.augment(augmenter, step);
            for (int i = 0; i < batch.rows(); i++) {
                assertThat(batch.featureRow(i)).as("row %d at step %d", i, step).isNotEqualTo(original.featureRow(i));
            }
        }
    }

    @Test
    void aRowWithoutAnotherTrainableRowIsNotMixed() {
        boolean[] trainable = {false, true, false, false};
        Batch original = Batch.random(4, 8, trainable);
        Batch batch = original.copy();

        batch.augment(augmenter(0, 1.0, 42), 0);

        assertThat(batch.features()).isEqualTo(original.features());
        assertThat(batch.labels()).isEqualTo(original.labels());
    }

    @Test
    void largerBatchesAfterSmallerOnesAreMixedCompletely() {
        Augmenter augmenter = augmenter(0, 1.0, 42);
        Batch small = Batch.allTrainable(4, 9);
        small.copy().augment(augmenter, 0);
        Batch large = Batch.allTrainable(64, 10);
        Batch mixed = large.copy();

        mixed.augment(augmenter, 1);

        for (int i = 0; i < large.rows(); i++) {
            assertThat(lambdaOfMix(large, mixed, i)).isNotNaN();
        }
    }

    @Test
    void betaSamplerMatchesTheMomentsForSmallAndLargeAlpha() {
        java.util.SplittableRandom random = new java.util.SplittableRandom(11);
        for (double alpha : new double[] {0.05, 0.2, 1.0, 4.0}) {
            int n = 40_000;
            double sum = 0;
            double sumSquares = 0;
            for (int k = 0; k < n; k++) {
                double lambda = Augmenter.beta(random, alpha);
                assertThat(lambda).isBetween(0.0, 1.0);
                sum += lambda;
                sumSquares += lambda * lambda;
            }
            double mean = sum / n;
            double variance = sumSquares / n - mean * mean;
            double expected = 1 / (4 * (2 * alpha + 1));
            assertThat(mean).as("mean for α=%s", alpha).isCloseTo(0.5, within(5 * Math.sqrt(expected / n)));
            assertThat(variance).as("variance for α=%s", alpha).isCloseTo(expected, within(0.05 * expected));
        }
    }

    /**
     * The λ with which row {@code i} of {@code mixed} is λ·row i + (1−λ)·row j of {@code original}, for some
     * other trainable row j, features and labels alike; NaN when there is no such j and λ in [0, 1].
     */
    private static double lambdaOfMix(Batch original, Batch mixed, int i) {
        for (int j = 0; j < original.rows(); j++) {
            if (j == i || !original.trainable()[j]) {
                continue;
            }
            double lambda = fitLambda(original.features(), mixed.features(), INPUTS, i, j);
            if (!Double.isNaN(lambda) && fits(original.labels(), mixed.labels(), CLASSES, i, j, lambda, 1e-5)) {
                return lambda;
            }
        }
        return Double.NaN;
    }

    /** The least-squares λ of mixed row i ≈ λ·x_i + (1−λ)·x_j, if it fits within float rounding and is in [0, 1]. */
    private static double fitLambda(float[] x, float[] mixed, int width, int i, int j) {
        double dot = 0;
        double norm = 0;
        for (int c = 0; c < width; c++) {
            double d = x[i * width + c] - x[j * width + c];
            dot += (mixed[i * width + c] - x[j * width + c]) * d;
            norm += d * d;
        }
        double lambda = dot / norm;
        if (!(lambda >= -1e-6 && lambda <= 1 + 1e-6) || !fits(x, mixed, width, i, j, lambda, 1e-5)) {
            return Double.NaN;
        }
        return lambda;
    }

    private static boolean fits(float[] x, float[] mixed, int width, int i, int j, double lambda, double tolerance) {
        for (int c = 0; c < width; c++) {
            double expected = lambda * x[i * width + c] + (1 - lambda) * x[j * width + c];
            if (Math.abs(mixed[i * width + c] - expected) > tolerance * Math.max(1, Math.abs(expected))) {
                return false;
            }
        }
        return true;
    }
}
