package dev.streamtrain.ingest;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;

import java.io.IOException;
import java.util.Arrays;

/**
 * One numeric value of a record as read: a number, a flat array of numbers, or an array of such arrays.
 * Numbers go straight into one float array; nested rows keep their lengths for the shape checks. JSON is read by
 * {@link #read}; the binary decoders fill one through {@link #of}, {@link #add} and {@link #endRow}.
 */
final class Rows {

    enum Kind { SCALAR, FLAT, NESTED }

    private final Kind kind;
    private float[] values = new float[64];
    private int count;
    private int[] lengths = new int[8];
    private int rows;

    private Rows(Kind kind) {
        this.kind = kind;
    }

    Kind kind() {
        return kind;
    }

    boolean nested() {
        return kind == Kind.NESTED;
    }

    int count() {
        return count;
    }

    float value(int i) {
        return values[i];
    }

    float[] values() {
        return values;
    }

    int rows() {
        return rows;
    }

    int length(int row) {
        return lengths[row];
    }

    /** An empty value of this kind, to be filled with {@link #add} (and {@link #endRow} for each nested row). */
    static Rows of(Kind kind) {
        Rows rows = new Rows(kind);
        if (kind == Kind.FLAT) {
            rows.rows = 1;
        }
        return rows;
    }

    /**
     * The values of {@code flat} (no copy) as {@code rows} nested rows of {@code width} values each; the caller has
     * checked that {@code flat} holds {@code rows * width} values.
     */
    static Rows split(Rows flat, int rows, int width) {
        Rows nested = new Rows(Kind.NESTED);
        nested.values = flat.values;
        nested.count = flat.count;
        nested.lengths = new int[Math.max(rows, 1)];
        java.util.Arrays.fill(nested.lengths, 0, rows, width);
        nested.rows = rows;
        return nested;
    }

    /** Ends the nested row whose first value was added when {@link #count()} was {@code start}. */
    void endRow(int start) {
        if (rows == lengths.length) {
            lengths = Arrays.copyOf(lengths, rows * 2);
        }
        lengths[rows++] = count - start;
    }

    /** Reads the value at the parser's current token; {@code maxRows} bounds a batch's size. */
    static Rows read(JsonParser p, String field, int maxRows) throws IOException {
        JsonToken token = p.currentToken();
        if (token != null && token.isNumeric()) {
            Rows scalar = new Rows(Kind.SCALAR);
            scalar.add(p.getFloatValue());
            return scalar;
        }
        if (token != JsonToken.START_ARRAY) {
            throw malformed("\"" + field + "\" must be a number or an array of numbers, got " + describe(token));
        }
        JsonToken first = p.nextToken();
        if (first == JsonToken.START_ARRAY) {
            Rows nested = new Rows(Kind.NESTED);
            nested.readRow(p, field);
            while (p.nextToken() == JsonToken.START_ARRAY) {
                if (nested.rows >= maxRows) {
                    throw new RejectedRecordException(RejectReason.TOO_LARGE,
                            "\"" + field + "\" has more than " + maxRows + " rows, the limit per record");
                }
                nested.readRow(p, field);
            }
            if (p.currentToken() != JsonToken.END_ARRAY) {
                throw malformed("\"" + field + "\" mixes arrays with " + describe(p.currentToken()));
            }
            return nested;
        }
        Rows flat = new Rows(Kind.FLAT);
        for (JsonToken t = first; t != JsonToken.END_ARRAY; t = p.nextToken()) {
            if (t == null || !t.isNumeric()) {
                throw malformed("\"" + field + "\" must hold only numbers, found " + describe(t));
            }
            flat.add(p.getFloatValue());
        }
        flat.rows = 1;
        return flat;
    }

    private void readRow(JsonParser p, String field) throws IOException {
        int start = count;
        for (JsonToken t = p.nextToken(); t != JsonToken.END_ARRAY; t = p.nextToken()) {
            if (t == null || !t.isNumeric()) {
                throw malformed("rows of \"" + field + "\" must hold only numbers, found " + describe(t));
            }
            add(p.getFloatValue());
        }
        endRow(start);
    }

    void add(float v) {
        if (count == values.length) {
            values = Arrays.copyOf(values, count * 2);
        }
        values[count++] = v;
    }

    private static String describe(JsonToken token) {
        return token == null ? "the end of the record" : token.asString() == null ? token.name() : token.asString();
    }

    private static RejectedRecordException malformed(String detail) {
        return new RejectedRecordException(RejectReason.MALFORMED, detail);
    }
}
