package dev.streamtrain.soak;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The Theil–Sen slope of a series: the median of the slopes between every pair of points. Unlike least squares it
 * is not swung by a few outliers (the heap while a checkpoint is serialised, the burst after an outage), so a steady
 * leak shows and a transient does not.
 */
final class Trend {

    private Trend() {
    }

    /** Units of {@code y} per unit of {@code x}; NaN with fewer than two points. */
    static double slope(double[] x, double[] y) {
        List<Double> slopes = new ArrayList<>();
        for (int i = 0; i < x.length; i++) {
            for (int j = i + 1; j < x.length; j++) {
                if (x[j] != x[i]) {
                    slopes.add((y[j] - y[i]) / (x[j] - x[i]));
                }
            }
        }
        if (slopes.isEmpty()) {
            return Double.NaN;
        }
        Collections.sort(slopes);
        int n = slopes.size();
        return n % 2 == 1 ? slopes.get(n / 2) : (slopes.get(n / 2 - 1) + slopes.get(n / 2)) / 2;
    }
}
