package dev.streamtrain.training;

import org.jboss.logging.Logger;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

import dev.streamtrain.model.FeatureRange;
import dev.streamtrain.model.MiniBatch;
import dev.streamtrain.model.OnlineNormalizer;
import dev.streamtrain.support.TestRecord;

/**
 * Legitimate heavy-tailed features are never refused by the relative bound at its defaults (1e4 standard
 * deviations after 500 examples): a million seeded rows of amounts in the millions — lognormal (sigma 2.5), Pareto
 * (alpha 1.2, heavier than the 80/20 rule) and Student-t (2 degrees of freedom, infinite variance) — go through the
 * batcher with the guard and into the normaliser as on the training thread, and none is refused. A value far beyond
 * any of them is still refused afterwards, so the guard was on.
 */
class HeavyTailedFeaturesTest {

    private static final Logger LOG = Logger.getLogger(HeavyTailedFeaturesTest.class);
    private static final int ROWS = 1_000_000;
    private static final int RECORD_ROWS = 50;
    private static final int BATCH = 32;
    private static final int FEATURES = 3;

    @Test
    void millionsOfHeavyTailedAmountsAreNeverRefused() throws InterruptedException {
        RangeDefaults defaults = new RangeDefaults();
        RecordGuard guard = new RecordGuard(defaults.maxDeviations, defaults.warmUp);
        OnlineNormalizer normalizer = new OnlineNormalizer(FEATURES);
        FeatureRange range = FeatureRange.of(normalizer);
        guard.use(range);
        ExampleBatcher batcher = new ExampleBatcher(2 * RECORD_ROWS);
        MiniBatch batch = new MiniBatch(BATCH, FEATURES, 1);
        List<RecordHandle> completed = new ArrayList<>();
        List<RecordGuard.Refusal> refused = new ArrayList<>();
        Random random = new Random(13);
        double[] largest = new double[FEATURES];
        int checked = 0;

        for (int record = 0; record < ROWS / RECORD_ROWS; record++) {
            float[] x = new float[RECORD_ROWS * FEATURES];
            for (int r = 0; r < RECORD_ROWS; r++) {
                x[r * FEATURES] = (float) (1e6 * Math.exp(2.5 * random.nextGaussian()));
                x[r * FEATURES + 1] = (float) (1e5 / Math.pow(1 - random.nextDouble(), 1 / 1.2));
                x[r * FEATURES + 2] = (float) (1e6 * studentT(random, 2));
            }
            if (range.seen() >= defaults.warmUp) {
                checked += RECORD_ROWS;
                for (int r = 0; r < RECORD_ROWS; r++) {
                    for (int j = 0; j < FEATURES; j++) {
                        largest[j] = Math.max(largest[j], range.deviations(j, x[r * FEATURES + j]));
                    }
                }
            }
            batcher.submit(new ExampleBlock(RECORD_ROWS, x, new float[RECORD_ROWS], null, new TestRecord(record)));
            while (batcher.queued() >= BATCH) {
                batcher.fill(batch, completed, null, guard, refused, 0, 0);
                normalizer.update(batch.features(), batch.size());
            }
        }
        LOG.infof("heavy-tailed features: %d rows, %d checked after the warm-up, %d refused; largest deviation seen"
                + " %.0f (lognormal), %.0f (Pareto), %.0f (Student-t) standard deviations; bound %.0f", ROWS, checked,
                refused.size(), largest[0], largest[1], largest[2], defaults.maxDeviations);

        assertThat(refused).isEmpty();
        assertThat(checked).isGreaterThan(ROWS - 1000);
        assertThat(normalizer.count()).isGreaterThan(ROWS - 2L * RECORD_ROWS);
        // the guard was on: a value 1e5 units of the Pareto feature out is refused
        float[] far = {1e6f, (float) (range.meanAt(1) + 1e5 * range.unitAt(1)), 0f};
        assertThat(guard.check(new ExampleBlock(1, far, new float[1], null, new TestRecord(-1)))).isNotNull();
    }

    // Student-t with k degrees of freedom: a standard normal over the root of a chi-square over k
    private static double studentT(Random random, int k) {
        double chiSquare = 0;
        for (int i = 0; i < k; i++) {
            double g = random.nextGaussian();
            chiSquare += g * g;
        }
        return random.nextGaussian() / Math.sqrt(chiSquare / k);
    }

    /** The defaults of {@link RangeConfig}, read from its annotations so that the test follows them. */
    private static final class RangeDefaults {
        final double maxDeviations = Double.parseDouble(defaultOf("maxDeviations"));
        final long warmUp = Long.parseLong(defaultOf("warmUp"));

        private static String defaultOf(String method) {
            try {
                return RangeConfig.class.getMethod(method).getAnnotation(io.smallrye.config.WithDefault.class).value();
            } catch (NoSuchMethodException e) {
                throw new IllegalStateException(e);
            }
        }
    }
}
