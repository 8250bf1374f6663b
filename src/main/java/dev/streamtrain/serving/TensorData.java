package dev.streamtrain.serving;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;

import java.io.IOException;
import java.util.Arrays;

/**
 * The {@code data} array of a V2 request tensor, flat or nested to the tensor's shape, read token by token into
 * float32 values (no JSON tree: a tree of 64 numbers costs more than the forward pass). The first value that cannot
 * be used (not a number, or not finite in FP32) ends the reading and is kept, with its position, for
 * {@link InputTensor} to refuse once it has checked the tensor's header: the protocol allows {@code data} before
 * {@code shape}, and the header's faults are reported first.
 */
@JsonDeserialize(using = TensorData.Reader.class)
final class TensorData {

    /** Why reading stopped early; NONE if every value was a finite number. */
    enum Fault { NONE, NOT_AN_ARRAY, NOT_A_NUMBER, NOT_FINITE }

    private final float[] values;
    private final int count;
    private final Fault fault;
    /** The JSON text of the value that is not a number, or the number that is not finite in FP32. */
    private final String faultValue;

    private TensorData(float[] values, int count, Fault fault, String faultValue) {
        this.values = values;
        this.count = count;
        this.fault = fault;
        this.faultValue = faultValue;
    }

    /** Finite values read, in order, before the end or the fault. */
    int count() {
        return count;
    }

    float[] values() {
        return values.length == count ? values : Arrays.copyOf(values, count);
    }

    Fault fault() {
        return fault;
    }

    String faultValue() {
        return faultValue;
    }

    /** Reads the array with Jackson's streaming parser; a JSON null never gets here (the field stays null). */
    static final class Reader extends JsonDeserializer<TensorData> {

        @Override
        public TensorData deserialize(JsonParser parser, DeserializationContext context) throws IOException {
            if (!parser.isExpectedStartArrayToken()) {
                context.readTree(parser); // skip whatever it is
                return new TensorData(new float[0], 0, Fault.NOT_AN_ARRAY, null);
            }
            float[] values = new float[64];
            int count = 0;
            Fault fault = Fault.NONE;
            String faultValue = null;
            int depth = 1;
            while (depth > 0) {
                JsonToken token = parser.nextToken();
                if (token == null) {
                    return context.reportInputMismatch(TensorData.class, "the data array is not closed");
                }
                switch (token) {
                    case START_ARRAY -> depth++;
                    case END_ARRAY -> depth--;
                    case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> {
                        if (fault != Fault.NONE) {
                            continue;
                        }
                        double value = parser.getDoubleValue();
                        float v = (float) value;
                        if (!Float.isFinite(v)) {
                            fault = Fault.NOT_FINITE;
                            faultValue = Double.toString(value);
                            continue;
                        }
                        if (count == values.length) {
                            values = Arrays.copyOf(values, count * 2);
                        }
                        values[count++] = v;
                    }
                    default -> {
                        // a string, a boolean, null or an object: read whole, so that the array's end is found
                        String text = context.readTree(parser).toString();
                        if (fault == Fault.NONE) {
                            fault = Fault.NOT_A_NUMBER;
                            faultValue = text;
                        }
                    }
                }
            }
            return new TensorData(values, count, fault, faultValue);
        }
    }
}
