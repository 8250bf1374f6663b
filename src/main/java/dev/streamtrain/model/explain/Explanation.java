package dev.streamtrain.model.explain;

import java.util.List;

/**
 * Integrated-gradients attributions of a batch of rows, all from one snapshot: the number of Riemann intervals
 * ({@code steps}, trapezoid rule), the baseline the paths start from, and one {@link Row} per input row.
 */
public record Explanation(int steps, Baseline baseline, List<Row> rows) {

    public static final String METHOD = "integrated-gradients";
    public static final String RULE = "trapezoid";
    public static final int DEFAULT_STEPS = 64;
    public static final int MAX_STEPS = 1024;

    /**
     * One row: the explained output index, its value at the row and at the baseline, the attribution of each raw
     * feature (they sum to output - baselineOutput up to the integration error), and that error,
     * {@code |sum(attributions) - (output - baselineOutput)|}.
     */
    public record Row(int target, double output, double baselineOutput, float[] attributions, double completenessGap) {
    }
}
