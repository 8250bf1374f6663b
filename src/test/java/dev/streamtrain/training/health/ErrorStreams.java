package dev.streamtrain.training.health;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.IntToDoubleFunction;

/** Synthetic prequential error streams and what the detectors make of them. */
final class ErrorStreams {

    /** Seeds of the runs that claims about every run are checked on. */
    static final int SEEDS = 20;

    private ErrorStreams() {
    }

    /** 0/1 errors, the i-th one 1 with probability {@code rate(i)}. */
    static double[] bernoulli(long seed, int length, IntToDoubleFunction rate) {
        SplittableRandom random = new SplittableRandom(seed);
        double[] errors = new double[length];
        for (int i = 0; i < length; i++) {
            errors[i] = random.nextDouble() < rate.applyAsDouble(i) ? 1 : 0;
        }
        return errors;
    }

    /** Regression-like losses: exponentially distributed, with mean {@code mean(i)}. */
    static double[] losses(long seed, int length, IntToDoubleFunction mean) {
        SplittableRandom random = new SplittableRandom(seed);
        double[] losses = new double[length];
        for (int i = 0; i < length; i++) {
            losses[i] = -mean.applyAsDouble(i) * Math.log(1 - random.nextDouble());
        }
        return losses;
    }

    /** An abrupt change of the error rate from 0.1 to 0.4 at {@code change}. */
    static IntToDoubleFunction jump(int change) {
        return i -> i < change ? 0.1 : 0.4;
    }

    /** The indices of the observations on which the detector signalled. */
    static List<Integer> signals(DriftDetector detector, double[] stream) {
        List<Integer> signals = new ArrayList<>();
        for (int i = 0; i < stream.length; i++) {
            if (detector.add(stream[i])) {
                signals.add(i);
            }
        }
        return signals;
    }

    /** Feeds the same stream to both and checks that they answer alike at every step; returns the signals. */
    static int assertSameBehaviour(DriftDetector expected, DriftDetector actual, double[] stream) {
        int signals = 0;
        for (int i = 0; i < stream.length; i++) {
            boolean signal = expected.add(stream[i]);
            assertThat(actual.add(stream[i])).as("signal at %d", i).isEqualTo(signal);
            assertThat(actual.width()).as("width at %d", i).isEqualTo(expected.width());
            assertThat(Double.doubleToRawLongBits(actual.mean())).as("mean at %d", i)
                    .isEqualTo(Double.doubleToRawLongBits(expected.mean()));
            signals += signal ? 1 : 0;
        }
        return signals;
    }
}
