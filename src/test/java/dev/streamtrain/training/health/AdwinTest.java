package dev.streamtrain.training.health;

import static dev.streamtrain.training.health.ErrorStreams.SEEDS;
import static dev.streamtrain.training.health.ErrorStreams.assertSameBehaviour;
import static dev.streamtrain.training.health.ErrorStreams.bernoulli;
import static dev.streamtrain.training.health.ErrorStreams.jump;
import static dev.streamtrain.training.health.ErrorStreams.losses;
import static dev.streamtrain.training.health.ErrorStreams.signals;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;

/** ADWIN with its default confidence on error streams whose changes are known. */
class AdwinTest {

    private static final int CHANGE = 3000;

    @Test
    void signalsAnAbruptIncreaseSoonAfterItAndNeverBefore() {
        for (int seed = 0; seed < SEEDS; seed++) {
            List<Integer> signals = signals(Adwin.defaults(), bernoulli(seed, CHANGE + 3000, jump(CHANGE)));

            assertThat(signals).as("seed %d", seed).isNotEmpty();
            // measured over 200 seeds: 39 to 135 observations after the change (checks come every 32)
            assertThat(signals.get(0)).as("seed %d", seed).isBetween(CHANGE, CHANGE + 200);
        }
    }

    @Test
    void raisesNoFalseAlarmOnAStationaryStream() {
        // ADWIN's false alarms are rare but real: measured 2 signals in 20 million observations at error 0.1,
        // 3 at 0.3, none at 0.5; none in 200 runs of 20,000
        for (int seed = 0; seed < SEEDS; seed++) {
            Adwin adwin = Adwin.defaults();

            assertThat(signals(adwin, bernoulli(100 + seed, 20_000, i -> 0.1))).as("seed %d", seed).isEmpty();
            assertThat(adwin.width()).isEqualTo(20_000);
            assertThat(adwin.mean()).isCloseTo(0.1, within(0.01));
        }
    }

    @Test
    void dropsTheOlderWorseErrorsOfALearningModelWithoutSignalling() {
        int change = 2000;
        int length = change + 6000;
        for (int seed = 0; seed < SEEDS; seed++) {
            double[] errors = bernoulli(200 + seed, length, i -> i < change ? 0.5 : 0.1);
            Adwin adwin = Adwin.defaults();
            boolean shrank = false;
            for (int i = 0; i < length; i++) {
                long before = adwin.width();

                assertThat(adwin.add(errors[i])).as("seed %d, observation %d", seed, i).isFalse();

                shrank |= adwin.width() < before;
                if (i < change) {
                    assertThat(adwin.width()).isEqualTo(i + 1);
                }
            }

            assertThat(shrank).as("seed %d", seed).isTrue();
            // with the 2,000 errors at 0.5 still in, the window's mean would be 0.2 and its width 8,000
            assertThat(adwin.mean()).as("seed %d", seed).isLessThan(0.13);
            assertThat(adwin.width()).as("seed %d", seed).isLessThan(length - change / 2);
        }
    }

    @Test
    void detectsAGradualIncrease() {
        int ramp = 2000;
        for (int seed = 0; seed < SEEDS; seed++) {
            double[] errors = bernoulli(300 + seed, CHANGE + ramp + 2000,
                    i -> i < CHANGE ? 0.1 : 0.1 + 0.4 * Math.min(1.0, (i - CHANGE) / (double) ramp));

            List<Integer> signals = signals(Adwin.defaults(), errors);

            assertThat(signals).as("seed %d", seed).isNotEmpty();
            // measured over 200 seeds: 391 to 903 observations into the ramp
            assertThat(signals.get(0)).as("seed %d", seed).isBetween(CHANGE, CHANGE + ramp);
        }
    }

    @Test
    void cutsWhereTheBoundSaysAndNotBefore() {
        // 128 zeros, then 128 observations of which k are ones, evenly spread. At the check on the 256th, the split
        // 128 | 128 (a bucket boundary) has μ1 − μ0 = k/128, and with p = k/256, σ²_W = p(1 − p),
        // ln(2/δ') = ln(2·ln 256/0.002) = 8.6207 and 1/m = 2/(128 − 4) = 0.016129:
        // k = 35: 0.2734 < ε_cut = sqrt(2·0.016129·0.11803·8.6207) + 2/3·8.6207·0.016129 = 0.2739, no cut;
        // k = 36: 0.2813 > ε_cut = 0.2760, a cut. With ln(2/δ), or without MOA's "− 4", 35 would cut already.
        assertThat(signals(Adwin.defaults(), zerosThenSpreadOnes(128, 128, 35))).isEmpty();

        Adwin adwin = Adwin.defaults();
        assertThat(signals(adwin, zerosThenSpreadOnes(128, 128, 36))).containsExactly(255);
        assertThat(adwin.width()).isLessThan(256);
    }

    private static double[] zerosThenSpreadOnes(int zeros, int length, int ones) {
        double[] stream = new double[zeros + length];
        for (int j = 0; j < length; j++) {
            stream[zeros + j] = (j + 1) * ones / length > j * ones / length ? 1 : 0;
        }
        return stream;
    }

    @Test
    void theWindowIsExactlyTheLatestObservationsInLogarithmicallyManyBuckets() {
        // losses whose mean doubles halfway, then halves: the window is cut both ways
        int length = 40_000;
        double[] losses = losses(7, length, i -> i < 15_000 ? 1.0 : i < 25_000 ? 2.0 : 1.0);
        double[] sums = new double[length + 1];
        double[] squares = new double[length + 1];
        for (int i = 0; i < length; i++) {
            sums[i + 1] = sums[i] + losses[i];
            squares[i + 1] = squares[i] + losses[i] * losses[i];
        }
        Adwin adwin = Adwin.defaults();
        int cuts = 0;
        for (int i = 0; i < length; i++) {
            long before = adwin.width();
            adwin.add(losses[i]);
            cuts += adwin.width() < before + 1 ? 1 : 0;

            int n = (int) adwin.width();
            int from = i + 1 - n;
            double sum = sums[i + 1] - sums[from];
            assertThat(adwin.mean()).as("mean at %d", i).isCloseTo(sum / n, within(1e-9));
            if (i % 97 == 0) {
                Adwin.State state = adwin.state();
                double squaredDeviations = squares[i + 1] - squares[from] - sum * sum / n;
                assertThat(state.variance()).as("variance at %d", i)
                        .isCloseTo(squaredDeviations, within(1e-6 * n));
                assertHistogram(state);
            }
        }
        assertThat(cuts).isGreaterThanOrEqualTo(2);
    }

    /** Rows of at most five buckets, oldest (largest) first, O(log W) buckets in all. */
    private static void assertHistogram(Adwin.State state) {
        List<Adwin.Bucket> buckets = state.buckets();
        int[] perRow = new int[64];
        long observations = 0;
        int previousRow = Integer.MAX_VALUE;
        for (Adwin.Bucket bucket : buckets) {
            assertThat(bucket.row()).isLessThanOrEqualTo(previousRow);
            previousRow = bucket.row();
            perRow[bucket.row()]++;
            observations += 1L << bucket.row();
        }
        assertThat(observations).isEqualTo(state.width());
        assertThat(Arrays.stream(perRow).max().orElse(0)).isLessThanOrEqualTo(Adwin.MAX_BUCKETS);
        double log2 = Math.log(state.width()) / Math.log(2);
        assertThat((double) buckets.size()).isLessThanOrEqualTo(Adwin.MAX_BUCKETS * (log2 + 1));
    }

    @Test
    void aRestoredDetectorContinuesExactlyAsTheOriginal() throws Exception {
        // checkpointed off the check clock (10,007 is no multiple of 32) after a cut, on non-integer losses
        double[] history = losses(11, 10_007, i -> i < 6000 ? 1.0 : 1.5);
        double[] continuation = losses(12, 20_000, i -> i < 10_000 ? 1.5 : 3.0);
        Adwin original = Adwin.defaults();
        signals(original, history);
        assertThat(original.width()).isLessThan(history.length);
        Adwin.State state = original.state();

        String json = new ObjectMapper().writeValueAsString(state);
        Adwin.State read = new ObjectMapper().readValue(json, Adwin.State.class);
        assertThat(read).isEqualTo(state);

        Adwin restored = Adwin.restore(state);
        Adwin fromJson = Adwin.restore(read);
        assertThat(restored.state()).isEqualTo(state);
        Adwin reference = Adwin.restore(state);
        assertThat(assertSameBehaviour(original, restored, continuation)).isPositive();
        assertThat(assertSameBehaviour(reference, fromJson, continuation)).isPositive();
        assertThat(fromJson.state()).isEqualTo(original.state());
    }

    @Test
    void anEmptyDetectorRoundTripsToo() {
        Adwin empty = new Adwin(0.01);

        Adwin restored = Adwin.restore(empty.state());

        assertThat(restored.mean()).isNaN();
        assertThat(restored.delta()).isEqualTo(0.01);
        assertSameBehaviour(empty, restored, bernoulli(5, 5000, jump(2500)));
    }

    @Test
    void rejectsAStateWhoseBucketsDoNotMakeUpTheWindow() {
        Adwin adwin = Adwin.defaults();
        signals(adwin, bernoulli(3, 1000, i -> 0.3));
        Adwin.State state = adwin.state();
        List<Adwin.Bucket> reversed = new ArrayList<>(state.buckets());
        Collections.reverse(reversed);

        assertThatThrownBy(() -> Adwin.restore(new Adwin.State(state.delta(), state.time(), state.width() + 1,
                state.total(), state.variance(), state.buckets()))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Adwin.restore(new Adwin.State(state.delta(), state.time(), state.width(),
                state.total(), state.variance(), reversed))).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void rejectsObservationsThatAreNotFinite() {
        Adwin adwin = Adwin.defaults();

        assertThatThrownBy(() -> adwin.add(Double.NaN)).isInstanceOf(IllegalArgumentException.class);
        assertThat(adwin.width()).isZero();
        assertThat(adwin.name()).isEqualTo("adwin");
    }
}
