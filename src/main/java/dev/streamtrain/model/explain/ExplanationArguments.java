package dev.streamtrain.model.explain;

import java.util.Arrays;

import dev.streamtrain.model.OnlineNormalizer;
import dev.streamtrain.model.spec.ModelSpec;

/** Checks an explanation's arguments against the model before any work; refusals name the argument and what is allowed. */
final class ExplanationArguments {

    private ExplanationArguments() {
    }

    static void checkSteps(int steps) {
        if (steps < 1 || steps > Explanation.MAX_STEPS) {
            throw new InvalidExplanationException("parameter 'steps' is " + steps + "; allowed: 1 to "
                    + Explanation.MAX_STEPS + " (default " + Explanation.DEFAULT_STEPS + ")");
        }
    }

    /** The baseline to use, with its raw values: the default is the running mean, or zeros without normalisation. */
    static Baseline baseline(ModelSpec spec, OnlineNormalizer normalizer, Baseline baseline) {
        Baseline.Kind kind = baseline != null ? baseline.kind() : spec.normalize() ? Baseline.Kind.MEAN : Baseline.Kind.ZEROS;
        return switch (kind) {
            case MEAN -> {
                if (!spec.normalize()) {
                    throw new InvalidExplanationException("parameter 'baseline' is 'mean', but model '" + spec.name()
                            + "' keeps no running mean of its inputs (normalize: false); use 'zeros' or "
                            + spec.inputs() + " numbers");
                }
                float[] mean = new float[spec.inputs()];
                double[] running = normalizer.mean();
                for (int j = 0; j < mean.length; j++) {
                    mean[j] = (float) running[j];
                }
                yield new Baseline(kind, mean);
            }
            case ZEROS -> new Baseline(kind, new float[spec.inputs()]);
            case CUSTOM -> {
                if (baseline.values().length != spec.inputs()) {
                    throw new InvalidExplanationException("parameter 'baseline' has " + baseline.values().length
                            + " numbers; the model takes " + spec.inputs() + " features (or use 'mean' or 'zeros')");
                }
                for (float v : baseline.values()) {
                    if (!Float.isFinite(v)) {
                        throw new InvalidExplanationException("parameter 'baseline' holds " + v
                                + "; every number must be finite");
                    }
                }
                yield baseline;
            }
        };
    }

    /** One target per row, or null for the default (the predicted class, or a regression's only output). */
    static int[] targets(ModelSpec spec, int[] targets, int rows) {
        if (targets == null) {
            if (!spec.isClassification() && spec.outputs() > 1) {
                throw new InvalidExplanationException("parameter 'target' is required: model '" + spec.name()
                        + "' has " + spec.outputs() + " regression outputs; name one, 0 to " + (spec.outputs() - 1));
            }
            return null;
        }
        if (targets.length != 1 && targets.length != rows) {
            throw new InvalidExplanationException("parameter 'target' has " + targets.length + " entries; give one "
                    + "output index for all rows or one per row (" + rows + ")");
        }
        for (int target : targets) {
            if (target < 0 || target >= spec.outputs()) {
                throw new InvalidExplanationException("parameter 'target' is " + target + "; model '" + spec.name()
                        + "' has " + spec.outputs() + " outputs: use 0 to " + (spec.outputs() - 1));
            }
        }
        int[] perRow = new int[rows];
        Arrays.fill(perRow, targets[0]);
        return targets.length == rows ? targets.clone() : perRow;
    }
}
