package dev.streamtrain.support;

import java.util.Arrays;
import java.util.function.IntConsumer;

/** What the benchmarks and the engine comparisons measure with: windows of calls, medians, relative distances. */
public final class Measure {

    private Measure() {
    }

    /** Calls per second of {@code call} (given the call's index) over one window of {@code windowNanos}. */
    public static double perSecond(IntConsumer call, long windowNanos) {
        long start = System.nanoTime();
        long end = start + windowNanos;
        int calls = 0;
        long now;
        do {
            call.accept(calls++);
            now = System.nanoTime();
        } while (now < end);
        return calls / ((now - start) / 1e9);
    }

    /** The median (the upper one of an even count). */
    public static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }

    /** {@code ‖a − b‖ / ‖b‖} over all elements. */
    public static double relativeDistance(float[] a, float[] b) {
        double difference = 0;
        double norm = 0;
        for (int i = 0; i < a.length; i++) {
            double d = (double) a[i] - b[i];
            difference += d * d;
            norm += (double) b[i] * b[i];
        }
        return Math.sqrt(difference / norm);
    }
}
