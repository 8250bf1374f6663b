package dev.streamtrain.ingest;

import dev.streamtrain.model.spec.ModelSpec;
import dev.streamtrain.training.ExampleBlock;
import dev.streamtrain.training.RecordHandle;

/** Checks parsed rows against the model's shape and label rules and builds the training block. */
final class BlockAssembler {

    private static final double ONE_HOT_TOLERANCE = 1e-3;

    private static final String KEYS = "streamtrain.ingest.range.";

    private final ModelSpec spec;
    private final ValueBounds bounds;
    // the values are float32: a bound compares with its float32 rounding, so that a record holding the bound passes
    private final float maxAbsFeature;
    private final float maxAbsLabel;
    private final float maxWeight;

    BlockAssembler(ModelSpec spec, ValueBounds bounds) {
        this.spec = spec;
        this.bounds = bounds;
        this.maxAbsFeature = (float) bounds.maxAbsFeature();
        this.maxAbsLabel = (float) bounds.maxAbsLabel();
        this.maxWeight = (float) bounds.maxWeight();
    }

    ExampleBlock assemble(Rows features, Rows labels, Rows weights, boolean batch, RecordHandle source) {
        int inputs = spec.inputs();
        int n = batch ? features.rows() : 1;
        if (!batch && features.kind() != Rows.Kind.FLAT) {
            throw wrongShape("\"features\" must be an array of " + inputs + " numbers");
        }
        if (n == 0) {
            throw new RejectedRecordException(RejectReason.MALFORMED, "the batch has no rows");
        }
        for (int i = 0; i < n; i++) {
            int length = batch ? features.length(i) : features.count();
            if (length != inputs) {
                throw wrongShape((batch ? "row " + i + " of \"features\"" : "\"features\"") + " has " + length
                        + " values; the model takes " + inputs);
            }
        }
        for (int i = 0; i < n * inputs; i++) {
            if (!Float.isFinite(features.value(i))) {
                throw new RejectedRecordException(RejectReason.NON_FINITE,
                        "feature " + (i % inputs) + " of example " + (i / inputs) + " is " + features.value(i));
            }
            if (Math.abs(features.value(i)) > maxAbsFeature) {
                throw outOfRange("feature " + (i % inputs) + " of example " + (i / inputs) + " is "
                        + features.value(i), "|feature| <= " + bounds.maxAbsFeature(), "max-abs-feature");
            }
        }
        float[] x = java.util.Arrays.copyOf(features.values(), n * inputs);
        return new ExampleBlock(n, x, labels(labels, n, batch), weights(weights, n, batch), source);
    }

    private float[] labels(Rows labels, int n, boolean batch) {
        int width = spec.labelWidth();
        float[] y = new float[n * width];
        boolean scalars = batch ? labels.kind() == Rows.Kind.FLAT : labels.kind() == Rows.Kind.SCALAR;
        boolean rows = batch ? labels.kind() == Rows.Kind.NESTED : labels.kind() == Rows.Kind.FLAT;
        int count = scalars ? labels.count() : labels.rows();
        if (!scalars && !rows) {
            throw wrongShape("\"labels\" must be " + (batch ? "an array with one label per row" : "a number or an array"));
        }
        if (count != n) {
            throw wrongShape("there are " + n + " examples but " + count + " labels");
        }
        int offset = 0;
        for (int i = 0; i < n; i++) {
            if (scalars) {
                scalarLabel(labels.value(i), y, i);
            } else {
                int length = batch ? labels.length(i) : labels.count();
                if (length != width) {
                    throw wrongShape("label " + i + " has " + length + " values; the model has " + width + " outputs");
                }
                rowLabel(labels.values(), offset, y, i);
                offset += length;
            }
        }
        return y;
    }

    private void scalarLabel(float v, float[] y, int row) {
        if (!Float.isFinite(v)) {
            throw new RejectedRecordException(RejectReason.NON_FINITE, "label " + row + " is " + v);
        }
        if (!spec.isClassification()) {
            if (spec.outputs() != 1) {
                throw wrongShape("label " + row + " is one number; the model has " + spec.outputs() + " outputs");
            }
            checkTarget(v, row);
            y[row] = v;
            return;
        }
        if (v != Math.rint(v) || v < 0 || v >= spec.outputs()) {
            throw new RejectedRecordException(RejectReason.BAD_LABEL, "label " + row + " is " + v
                    + "; a class index must be an integer from 0 to " + (spec.outputs() - 1));
        }
        y[row * spec.outputs() + (int) v] = 1f;
    }

    private void rowLabel(float[] values, int offset, float[] y, int row) {
        int width = spec.labelWidth();
        double sum = 0;
        for (int k = 0; k < width; k++) {
            float v = values[offset + k];
            if (!Float.isFinite(v)) {
                throw new RejectedRecordException(RejectReason.NON_FINITE, "label " + row + " holds " + v);
            }
            if (spec.isClassification() && (v < 0 || v > 1)) {
                throw new RejectedRecordException(RejectReason.BAD_LABEL,
                        "label " + row + " holds " + v + "; one-hot/multi-hot values must be in [0, 1]");
            }
            if (!spec.isClassification()) {
                checkTarget(v, row);
            }
            sum += v;
            y[row * width + k] = v;
        }
        if (spec.loss() == ModelSpec.LossKind.CROSS_ENTROPY && Math.abs(sum - 1) > ONE_HOT_TOLERANCE) {
            throw new RejectedRecordException(RejectReason.BAD_LABEL,
                    "label " + row + " sums to " + sum + "; a one-hot (or probability) label must sum to 1");
        }
    }

    private void checkTarget(float v, int row) {
        if (Math.abs(v) > maxAbsLabel) {
            throw outOfRange("label " + row + " holds " + v, "|label| <= " + bounds.maxAbsLabel(), "max-abs-label");
        }
    }

    private float[] weights(Rows weights, int n, boolean batch) {
        if (weights == null) {
            return null;
        }
        boolean shapeOk = batch ? weights.kind() == Rows.Kind.FLAT && weights.count() == n
                : weights.kind() == Rows.Kind.SCALAR;
        if (!shapeOk) {
            throw wrongShape(batch ? "\"weights\" must be an array of " + n + " numbers" : "\"weight\" must be a number");
        }
        float[] w = java.util.Arrays.copyOf(weights.values(), n);
        for (int i = 0; i < n; i++) {
            if (!Float.isFinite(w[i])) {
                throw new RejectedRecordException(RejectReason.NON_FINITE, "weight " + i + " is " + w[i]);
            }
            if (w[i] < 0) {
                throw new RejectedRecordException(RejectReason.MALFORMED, "weight " + i + " is negative: " + w[i]);
            }
            if (w[i] > maxWeight) {
                throw outOfRange("weight " + i + " is " + w[i], "weight <= " + bounds.maxWeight(), "max-weight");
            }
        }
        return w;
    }

    // the cause names the bound and the key that sets it, so that an operator can tell a bad producer from a bound too tight
    private static RejectedRecordException outOfRange(String what, String bound, String key) {
        return new RejectedRecordException(RejectReason.OUT_OF_RANGE, what + "; the bound is " + bound + " ("
                + KEYS + key + ")");
    }

    private static RejectedRecordException wrongShape(String detail) {
        return new RejectedRecordException(RejectReason.WRONG_SHAPE, detail);
    }
}
