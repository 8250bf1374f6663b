package dev.streamtrain.serving;

import java.util.Set;

import dev.streamtrain.serving.V2Messages.RequestInput;

/** Turns a V2 request input into row-major float32 rows of the model's width, or explains why it cannot. */
final class InputTensor {

    private static final Set<String> DATATYPES = Set.of("FP32", "FP64", "FP16", "INT8", "INT16", "INT32", "INT64",
            "UINT8", "UINT16", "UINT32", "UINT64");

    final int rows;
    final float[] data;

    private InputTensor(int rows, float[] data) {
        this.rows = rows;
        this.data = data;
    }

    static InputTensor of(RequestInput input, int features, int maxRows) {
        if (input == null) {
            throw InferenceException.badRequest("an input tensor is null; send {\"name\", \"shape\", \"datatype\", \"data\"}");
        }
        long[] shape = input.shape();
        int rows = rows(input.name(), input.datatype(), shape, features, maxRows);
        int needed = rows * features;
        TensorData data = input.data();
        String name = input.name();
        if (data == null || data.fault() == TensorData.Fault.NOT_AN_ARRAY) {
            throw InferenceException.badRequest("input '" + name + "' needs \"data\": an array of numbers");
        }
        // the faults in the order of the values: too many values, then the first unusable one, then too few
        if (data.count() > needed || data.fault() == TensorData.Fault.NOT_FINITE && data.count() == needed) {
            throw InferenceException.badRequest("input '" + name + "' has more values than its shape allows");
        }
        if (data.fault() == TensorData.Fault.NOT_A_NUMBER) {
            throw InferenceException.badRequest("input '" + name + "' holds a non-number: " + data.faultValue());
        }
        if (data.fault() == TensorData.Fault.NOT_FINITE) {
            throw notFinite(data.count(), data.faultValue(), name);
        }
        if (data.count() != needed) {
            throw InferenceException.badRequest("input '" + name + "' has " + data.count()
                    + " values; its shape " + java.util.Arrays.toString(shape) + " needs " + needed);
        }
        return new InputTensor(rows, data.values());
    }

    /**
     * Checks an input tensor's header and returns its row count: the name {@code input}, a numeric datatype,
     * shape [N, features] (or [features] for one row) with 1 <= N <= maxRows.
     */
    static int rows(String name, String datatype, long[] shape, int features, int maxRows) {
        if (name == null || !Inference.INPUT.equals(name)) {
            throw InferenceException.badRequest("the model's input is named '" + Inference.INPUT + "'; got "
                    + (name == null ? "no name" : "'" + name + "'"));
        }
        if (datatype == null || !DATATYPES.contains(datatype)) {
            throw InferenceException.badRequest("input '" + name + "' has datatype " + datatype
                    + "; use FP32 or FP64 (integer types are accepted too)");
        }
        if (shape == null || shape.length < 1 || shape.length > 2) {
            throw InferenceException.badRequest("input '" + name + "' must have shape [N, " + features + "]");
        }
        long rows = shape.length == 2 ? shape[0] : 1;
        long width = shape[shape.length - 1];
        if (width != features) {
            throw InferenceException.badRequest("input '" + name + "' has " + width
                    + " features per row; the model takes " + features + " (shape [N, " + features + "])");
        }
        if (rows < 1 || rows > maxRows) {
            throw InferenceException.badRequest("input '" + name + "' has " + rows + " rows; send 1 to " + maxRows);
        }
        return (int) rows;
    }

    /** Refuses a value that is not finite once in FP32 (NaN, infinity, or an FP64 beyond FP32's range). */
    static float finite(double value, int at, String name) {
        float v = (float) value;
        if (!Float.isFinite(v)) {
            throw notFinite(at, Double.toString(value), name);
        }
        return v;
    }

    private static InferenceException notFinite(int at, String value, String name) {
        return InferenceException.badRequest("input '" + name + "' holds a value that is not a finite FP32 number at "
                + at + ": " + value);
    }
}
