package dev.streamtrain.ingest;

import com.fasterxml.jackson.core.io.NumberInput;

import java.nio.charset.StandardCharsets;

/**
 * Reads the most common record, one example {@code {"features": [numbers], "label": number}} (with an optional
 * {@code "weight": number}; the keys in any order, JSON whitespace anywhere), straight from its bytes into
 * {@link Rows}: no tokenizer, no text buffer per number. This is most of the CPU that ingest spends per record.
 * <p>
 * It only takes on what is plainly well-formed. Anything else (a batch, an array label, another key, a key
 * twice, an escape, a value that is not a number, a number JSON does not allow, more features than the model
 * takes, anything after the object) makes {@link #read} answer null, and the record goes through Jackson as
 * before, which decodes it or says what is wrong with it. So every refusal and its reason still come from one
 * place, and a record this reader takes decodes to the same floats as through Jackson's {@code getFloatValue}:
 * an integer is its {@code long} converted to float; a decimal is correctly rounded, exactly when its digits
 * and its power of ten are both floats (Clinger's fast path: one float division), otherwise by Jackson's own
 * parser ({@link NumberInput#parseFloat}).
 */
final class OneExampleJson {

    /** Jackson refuses longer numbers (its default maximum number length): leave them to it. */
    private static final int MAX_NUMBER_CHARS = 1000;
    private static final int MAX_LONG_DIGITS = 18;
    private static final long EXACT_FLOAT_MANTISSA = 1L << 24;
    private static final float[] EXACT_POWERS_OF_TEN = {1e0f, 1e1f, 1e2f, 1e3f, 1e4f, 1e5f, 1e6f, 1e7f, 1e8f, 1e9f,
            1e10f};
    private static final byte[] FEATURES = key("features");
    private static final byte[] LABEL = key("label");
    private static final byte[] WEIGHT = key("weight");

    private final byte[] b;
    private int pos;
    private Rows features;
    private Rows label;
    private Rows weight;

    private OneExampleJson(byte[] value) {
        this.b = value;
    }

    /** The example's parts, unchecked, as Jackson reads them; null: the record is for Jackson to read. */
    static OneExampleJson read(byte[] value, int maxFeatures) {
        OneExampleJson json = new OneExampleJson(value);
        return json.object(maxFeatures) ? json : null;
    }

    private boolean object(int maxFeatures) {
        if (!skipTo('{')) {
            return false;
        }
        while (true) {
            if (!skipTo('"')) {
                return false;
            }
            byte[] key = key();
            if (key == null || !skipTo(':')) {
                return false;
            }
            skipWhitespace();
            if (key == FEATURES && features == null) {
                features = features(maxFeatures);
            } else if (key == LABEL && label == null) {
                label = scalar();
            } else if (key == WEIGHT && weight == null) {
                weight = scalar();
            } else {
                return false;
            }
            if ((key == FEATURES ? features : key == LABEL ? label : weight) == null) {
                return false;
            }
            skipWhitespace();
            if (pos == b.length) {
                return false;
            }
            byte next = b[pos++];
            if (next == '}') {
                break;
            }
            if (next != ',') {
                return false;
            }
        }
        skipWhitespace();
        return pos == b.length && features != null && label != null;
    }

    Rows features() {
        return features;
    }

    Rows label() {
        return label;
    }

    /** Null when the record has none. */
    Rows weight() {
        return weight;
    }

    /** The flat array of numbers at the current position; null if it is anything else or longer than {@code max}. */
    private Rows features(int max) {
        if (pos == b.length || b[pos++] != '[') {
            return null;
        }
        Rows rows = Rows.of(Rows.Kind.FLAT);
        skipWhitespace();
        if (pos < b.length && b[pos] == ']') {
            return null;
        }
        while (true) {
            if (rows.count() == max) {
                return null;
            }
            float v = number();
            if (Float.isNaN(v)) {
                return null;
            }
            rows.add(v);
            skipWhitespace();
            if (pos == b.length) {
                return null;
            }
            byte next = b[pos++];
            if (next == ']') {
                return rows;
            }
            if (next != ',') {
                return null;
            }
            skipWhitespace();
        }
    }

    private Rows scalar() {
        float v = number();
        if (Float.isNaN(v)) {
            return null;
        }
        Rows rows = Rows.of(Rows.Kind.SCALAR);
        rows.add(v);
        return rows;
    }

    /**
     * The JSON number at the current position, as Jackson's {@code getFloatValue} gives it; NaN (never the value of
     * a JSON number) when the text there is not one this reader takes.
     */
    private float number() {
        int start = pos;
        int i = pos;
        boolean negative = i < b.length && b[i] == '-';
        if (negative) {
            i++;
        }
        int first = i;
        long mantissa = 0;
        while (i < b.length && isDigit(b[i])) {
            mantissa = mantissa * 10 + (b[i++] - '0');
        }
        int digits = i - first;
        if (digits == 0 || (digits > 1 && b[first] == '0')) {
            // JSON has no leading zeros
            return Float.NaN;
        }
        int fraction = 0;
        boolean integer = true;
        if (i < b.length && b[i] == '.') {
            integer = false;
            int from = ++i;
            while (i < b.length && isDigit(b[i])) {
                mantissa = mantissa * 10 + (b[i++] - '0');
            }
            fraction = i - from;
            if (fraction == 0) {
                return Float.NaN;
            }
        }
        boolean exponent = i < b.length && (b[i] == 'e' || b[i] == 'E');
        if (exponent) {
            integer = false;
            i++;
            if (i < b.length && (b[i] == '+' || b[i] == '-')) {
                i++;
            }
            int from = i;
            while (i < b.length && isDigit(b[i])) {
                i++;
            }
            if (i == from) {
                return Float.NaN;
            }
        }
        if (i - start > MAX_NUMBER_CHARS) {
            return Float.NaN;
        }
        pos = i;
        boolean mantissaExact = digits + fraction <= MAX_LONG_DIGITS;
        if (integer) {
            // Jackson reads an integer of up to 18 digits as an int or a long, then converts it: -0 is 0
            return mantissaExact ? (float) (negative ? -mantissa : mantissa) : Float.NaN;
        }
        if (!exponent && mantissaExact && mantissa <= EXACT_FLOAT_MANTISSA && fraction < EXACT_POWERS_OF_TEN.length) {
            float v = mantissa / EXACT_POWERS_OF_TEN[fraction];
            return negative ? -v : v;
        }
        return NumberInput.parseFloat(new String(b, start, i - start, StandardCharsets.ISO_8859_1), true);
    }

    /** The key (one of the three constants) whose opening quote was just read; null for any other key. */
    private byte[] key() {
        byte[] key = pos < b.length && b[pos] == 'f' ? FEATURES : pos < b.length && b[pos] == 'l' ? LABEL
                : pos < b.length && b[pos] == 'w' ? WEIGHT : null;
        if (key == null || pos + key.length > b.length) {
            return null;
        }
        for (int k = 0; k < key.length; k++) {
            if (b[pos + k] != key[k]) {
                return null;
            }
        }
        pos += key.length;
        return key;
    }

    /** Skips whitespace, then reads {@code expected}; false if another byte (or the end) comes first. */
    private boolean skipTo(char expected) {
        skipWhitespace();
        return pos < b.length && b[pos++] == expected;
    }

    private void skipWhitespace() {
        while (pos < b.length && (b[pos] == ' ' || b[pos] == '\n' || b[pos] == '\r' || b[pos] == '\t')) {
            pos++;
        }
    }

    private static boolean isDigit(byte c) {
        return c >= '0' && c <= '9';
    }

    /** The key's bytes after its opening quote, with the closing quote. */
    private static byte[] key(String name) {
        return (name + "\"").getBytes(StandardCharsets.US_ASCII);
    }
}
