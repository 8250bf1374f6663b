package dev.streamtrain.serving;

import com.google.protobuf.ByteString;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

import inference.GrpcPredictV2.InferTensorContents;
import inference.GrpcPredictV2.ModelInferRequest;
import inference.GrpcPredictV2.ModelInferRequest.InferInputTensor;

/**
 * Reads the values of a KServe V2 gRPC input tensor as float32: from the typed {@code contents} field that
 * matches its datatype, or from its {@code raw_input_contents} entry (little-endian, tightly packed, row-major).
 * Every value must be finite once in FP32, as over REST.
 */
final class GrpcTensors {

    private GrpcTensors() {
    }

    /** The size in bytes of one element of {@code datatype} in raw contents. */
    static int elementSize(String datatype) {
        return switch (datatype) {
            case "INT8", "UINT8" -> 1;
            case "INT16", "UINT16", "FP16" -> 2;
            case "INT32", "UINT32", "FP32" -> 4;
            case "INT64", "UINT64", "FP64" -> 8;
            default -> throw InferenceException.badRequest("datatype " + datatype + " cannot be read as numbers");
        };
    }

    /**
     * The row-major values of the request's one input tensor, {@code features} per row, after checking the tensor's
     * header ({@link InputTensor#rows}) and that its values are there, as many as its shape says: the shape is
     * checked before anything is allocated for it.
     */
    static float[] input(ModelInferRequest request, int features, int maxRows) {
        if (request.getInputsCount() != 1) {
            throw InferenceException.badRequest("the request needs exactly one input tensor, named '"
                    + Inference.INPUT + "' with shape [N, " + features + "]; got " + request.getInputsCount());
        }
        InferInputTensor input = request.getInputs(0);
        long[] shape = new long[input.getShapeCount()];
        for (int i = 0; i < shape.length; i++) {
            shape[i] = input.getShape(i);
        }
        int rows = InputTensor.rows(input.getName(), input.getDatatype(), shape, features, maxRows);
        return values(request, rows * features);
    }

    /**
     * The {@code count} values of the request's one input tensor (its header already checked), from
     * {@code raw_input_contents} when the request has any, else from the tensor's typed contents.
     */
    static float[] values(ModelInferRequest request, int count) {
        InferInputTensor input = request.getInputs(0);
        if (request.getRawInputContentsCount() == 0) {
            return fromContents(input, count);
        }
        if (request.getRawInputContentsCount() != 1) {
            throw InferenceException.badRequest("raw_input_contents has " + request.getRawInputContentsCount()
                    + " entries; it needs one per input tensor, here 1");
        }
        if (input.hasContents()) {
            throw InferenceException.badRequest("input '" + input.getName() + "' has both contents and"
                    + " raw_input_contents; send its values in one of them");
        }
        return fromRaw(input, request.getRawInputContents(0), count);
    }

    /** {@code count} values of {@code input} (its header already checked) from raw little-endian bytes. */
    static float[] fromRaw(InferInputTensor input, ByteString raw, int count) {
        String name = input.getName();
        String datatype = input.getDatatype();
        int size = elementSize(datatype);
        long expected = (long) count * size;
        if (raw.size() != expected) {
            throw InferenceException.badRequest("input '" + name + "' has " + raw.size() + " bytes in raw_input_contents;"
                    + " its shape " + input.getShapeList() + " and datatype " + datatype + " need " + expected
                    + " (" + count + " x " + size + ", little-endian, tightly packed)");
        }
        ByteBuffer bytes = raw.asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
        float[] out = new float[count];
        for (int i = 0; i < count; i++) {
            double value = switch (datatype) {
                case "FP32" -> bytes.getFloat();
                case "FP64" -> bytes.getDouble();
                case "FP16" -> halfToFloat(bytes.getShort());
                case "INT8" -> bytes.get();
                case "UINT8" -> Byte.toUnsignedInt(bytes.get());
                case "INT16" -> bytes.getShort();
                case "UINT16" -> Short.toUnsignedInt(bytes.getShort());
                case "INT32" -> bytes.getInt();
                case "UINT32" -> Integer.toUnsignedLong(bytes.getInt());
                case "INT64" -> bytes.getLong();
                case "UINT64" -> unsigned(bytes.getLong());
                default -> throw new IllegalStateException(datatype);
            };
            out[i] = InputTensor.finite(value, i, name);
        }
        return out;
    }

    /** {@code count} values of {@code input} (its header already checked) from its typed contents. */
    static float[] fromContents(InferInputTensor input, int count) {
        String name = input.getName();
        String datatype = input.getDatatype();
        InferTensorContents contents = input.getContents();
        String field = field(datatype);
        int given = switch (field) {
            case "fp32_contents" -> contents.getFp32ContentsCount();
            case "fp64_contents" -> contents.getFp64ContentsCount();
            case "int_contents" -> contents.getIntContentsCount();
            case "int64_contents" -> contents.getInt64ContentsCount();
            case "uint_contents" -> contents.getUintContentsCount();
            case "uint64_contents" -> contents.getUint64ContentsCount();
            default -> throw new IllegalStateException(field);
        };
        if (given != count) {
            String elsewhere = given == 0 ? otherFields(contents, field) : "";
            throw InferenceException.badRequest("input '" + name + "' has " + given + " values in contents." + field
                    + "; its shape " + input.getShapeList() + " needs " + count
                    + elsewhere);
        }
        float[] out = new float[count];
        for (int i = 0; i < count; i++) {
            double value = switch (field) {
                case "fp32_contents" -> contents.getFp32Contents(i);
                case "fp64_contents" -> contents.getFp64Contents(i);
                case "int_contents" -> contents.getIntContents(i);
                case "int64_contents" -> contents.getInt64Contents(i);
                case "uint_contents" -> Integer.toUnsignedLong(contents.getUintContents(i));
                case "uint64_contents" -> unsigned(contents.getUint64Contents(i));
                default -> throw new IllegalStateException(field);
            };
            out[i] = InputTensor.finite(value, i, name);
        }
        return out;
    }

    /** The typed contents field the protocol assigns to {@code datatype}. */
    static String field(String datatype) {
        return switch (datatype) {
            case "FP32" -> "fp32_contents";
            case "FP64" -> "fp64_contents";
            case "INT8", "INT16", "INT32" -> "int_contents";
            case "INT64" -> "int64_contents";
            case "UINT8", "UINT16", "UINT32" -> "uint_contents";
            case "UINT64" -> "uint64_contents";
            case "FP16" -> throw InferenceException.badRequest("FP16 has no typed contents field in the V2 protocol;"
                    + " send FP16 input as raw_input_contents (2 bytes per value, little-endian)");
            default -> throw InferenceException.badRequest("datatype " + datatype + " cannot be read as numbers");
        };
    }

    /** Names the typed fields that hold values when the datatype's own field is empty: a common client mistake. */
    private static String otherFields(InferTensorContents contents, String field) {
        List<String> filled = new java.util.ArrayList<>();
        if (contents.getFp32ContentsCount() > 0) {
            filled.add("fp32_contents");
        }
        if (contents.getFp64ContentsCount() > 0) {
            filled.add("fp64_contents");
        }
        if (contents.getIntContentsCount() > 0) {
            filled.add("int_contents");
        }
        if (contents.getInt64ContentsCount() > 0) {
            filled.add("int64_contents");
        }
        if (contents.getUintContentsCount() > 0) {
            filled.add("uint_contents");
        }
        if (contents.getUint64ContentsCount() > 0) {
            filled.add("uint64_contents");
        }
        if (contents.getBoolContentsCount() > 0) {
            filled.add("bool_contents");
        }
        if (contents.getBytesContentsCount() > 0) {
            filled.add("bytes_contents");
        }
        filled.remove(field);
        return filled.isEmpty() ? "" : " (values were sent in " + String.join(", ", filled)
                + ": the datatype decides the field, so send them in " + field + " or change the datatype)";
    }

    /** Row-major float32 values as tightly packed little-endian bytes, the protocol's raw FP32 layout. */
    static ByteString rawFp32(float[] values) {
        ByteBuffer bytes = ByteBuffer.allocate(values.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        bytes.asFloatBuffer().put(values);
        return ByteString.copyFrom(bytes.array());
    }

    private static double unsigned(long value) {
        return value >= 0 ? value : (double) (value >>> 1) * 2.0 + (value & 1);
    }

    /** IEEE 754 binary16 to float (Java 17 has no Float.float16ToFloat). */
    static float halfToFloat(short half) {
        int h = half & 0xffff;
        int sign = (h & 0x8000) << 16;
        int exponent = (h >>> 10) & 0x1f;
        int mantissa = h & 0x3ff;
        if (exponent == 0x1f) {
            return Float.intBitsToFloat(sign | 0x7f800000 | (mantissa << 13));
        }
        if (exponent == 0) {
            float magnitude = mantissa * 0x1p-24f;
            return sign == 0 ? magnitude : -magnitude;
        }
        return Float.intBitsToFloat(sign | ((exponent + 112) << 23) | (mantissa << 13));
    }
}
