package dev.streamtrain.serving;

import java.util.List;
import java.util.Map;
import java.util.Set;

import dev.streamtrain.model.explain.Baseline;
import dev.streamtrain.model.explain.Explanation;

/**
 * The request-level {@code parameters} of an explain request, as JSON decoded them: {@code target} (an output
 * index for every row, or an array of one per row), {@code steps} (an integer) and {@code baseline} ("mean",
 * "zeros" or an array of one raw value per feature). Wrong JSON types are refused here; the model checks the
 * values against itself ({@code targets} and {@code baseline} null mean its defaults).
 */
record ExplainParameters(int[] targets, Baseline baseline, int steps) {

    static final Set<String> NAMES = Set.of("target", "steps", "baseline");

    static ExplainParameters of(Map<String, Object> parameters) {
        if (parameters == null) {
            return new ExplainParameters(null, null, Explanation.DEFAULT_STEPS);
        }
        for (String name : parameters.keySet()) {
            if (!NAMES.contains(name)) {
                throw InferenceException.badRequest("parameter '" + name + "' is not known to explain; it takes "
                        + "\"target\", \"steps\" and \"baseline\"");
            }
        }
        Object steps = parameters.get("steps");
        return new ExplainParameters(targets(parameters.get("target")), baseline(parameters.get("baseline")),
                steps == null ? Explanation.DEFAULT_STEPS : integer(steps, "steps", "an integer, 1 to "
                        + Explanation.MAX_STEPS + " (default " + Explanation.DEFAULT_STEPS + ")"));
    }

    private static int[] targets(Object value) {
        String allowed = "an output index (an integer), or an array of one per row";
        if (value == null) {
            return null;
        }
        if (!(value instanceof List<?> list)) {
            return new int[] {integer(value, "target", allowed)};
        }
        int[] targets = new int[list.size()];
        for (int i = 0; i < targets.length; i++) {
            targets[i] = integer(list.get(i), "target", allowed);
        }
        return targets;
    }

    private static Baseline baseline(Object value) {
        if (value == null) {
            return null;
        }
        if ("mean".equals(value)) {
            return Baseline.mean();
        }
        if ("zeros".equals(value)) {
            return Baseline.zeros();
        }
        String allowed = "\"mean\", \"zeros\" or an array of one number per feature";
        if (!(value instanceof List<?> list)) {
            throw InferenceException.badRequest("parameter 'baseline' is " + describe(value) + "; use " + allowed);
        }
        float[] values = new float[list.size()];
        for (int i = 0; i < values.length; i++) {
            if (!(list.get(i) instanceof Number number)) {
                throw InferenceException.badRequest("parameter 'baseline' holds " + describe(list.get(i)) + " at " + i
                        + "; use " + allowed);
            }
            values[i] = (float) number.doubleValue();
            if (!Float.isFinite(values[i])) {
                throw InferenceException.badRequest("parameter 'baseline' holds " + number + " at " + i
                        + ", which is not a finite FP32 number");
            }
        }
        return Baseline.of(values);
    }

    private static int integer(Object value, String name, String allowed) {
        if ((value instanceof Integer || value instanceof Long) && ((Number) value).longValue() == ((Number) value).intValue()) {
            return ((Number) value).intValue();
        }
        throw InferenceException.badRequest("parameter '" + name + "' is " + describe(value) + "; use " + allowed);
    }

    private static String describe(Object value) {
        return value instanceof String s ? "\"" + s + "\"" : String.valueOf(value);
    }
}
