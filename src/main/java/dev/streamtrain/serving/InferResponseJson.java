package dev.streamtrain.serving;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.StreamWriteFeature;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.util.Arrays;

/**
 * Writes the V2 infer answer ({@link V2Messages.InferResponse}'s JSON, field for field) straight from the output
 * array with Jackson's streaming generator, into a buffer each thread reuses, and returns the exact bytes. The answer
 * of a single-row request is a few hundred bytes; built as a record and serialised by the REST layer it cost about
 * 2 KB of garbage per request (the record, its list, a {@code String} and a {@code BigInteger}-backed conversion per
 * float), and garbage is what makes the collector pause while requests wait. Floats are written with Jackson's
 * shortest-representation writer ({@link StreamWriteFeature#USE_FAST_DOUBLE_WRITER}); non-finite outputs are written as
 * the strings {@code "NaN"}, {@code "Infinity"}, {@code "-Infinity"}, as before.
 *
 * <p>Thread-safe: the reused buffer belongs to the calling thread and is only used within one call, so concurrent
 * answers never share state; the returned array is the caller's.
 */
final class InferResponseJson {

    /** A thread's buffers are dropped rather than kept when an answer needed more than this (a huge batch). */
    static final int RETAINED_BYTES = 64 * 1024;

    private final JsonFactory factory = JsonFactory.builder().enable(StreamWriteFeature.USE_FAST_DOUBLE_WRITER).build();
    private final ThreadLocal<Output> outputs = ThreadLocal.withInitial(Output::new);

    /**
     * The JSON of an answer: {@code model_name}, {@code model_version}, {@code id} (left out when null) and the one
     * output {@code output} of shape [rows, columns], FP32, row-major {@code data}.
     */
    byte[] write(String model, String version, String id, int rows, int columns, float[] data) {
        Output out = outputs.get();
        out.reset();
        try (JsonGenerator json = factory.createGenerator(out)) {
            json.writeStartObject();
            json.writeStringField("model_name", model);
            json.writeStringField("model_version", version);
            if (id != null) {
                json.writeStringField("id", id);
            }
            json.writeArrayFieldStart("outputs");
            json.writeStartObject();
            json.writeStringField("name", Inference.OUTPUT);
            json.writeArrayFieldStart("shape");
            json.writeNumber(rows);
            json.writeNumber(columns);
            json.writeEndArray();
            json.writeStringField("datatype", "FP32");
            json.writeArrayFieldStart("data");
            for (float v : data) {
                json.writeNumber(v);
            }
            json.writeEndArray();
            json.writeEndObject();
            json.writeEndArray();
            json.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException("writing an answer into memory", e);
        }
        byte[] bytes = out.toByteArray();
        if (out.capacity() > RETAINED_BYTES) {
            outputs.remove();
        }
        return bytes;
    }

    /** A growable byte buffer, reset per answer: the part of the answer's cost that need not be paid every time. */
    static final class Output extends OutputStream {

        private byte[] bytes = new byte[1024];
        private int size;

        void reset() {
            size = 0;
        }

        int capacity() {
            return bytes.length;
        }

        @Override
        public void write(int b) {
            ensure(1);
            bytes[size++] = (byte) b;
        }

        @Override
        public void write(byte[] b, int off, int len) {
            ensure(len);
            System.arraycopy(b, off, bytes, size, len);
            size += len;
        }

        private void ensure(int more) {
            if (size + more > bytes.length) {
                bytes = Arrays.copyOf(bytes, Math.max(bytes.length * 2, size + more));
            }
        }

        byte[] toByteArray() {
            return Arrays.copyOf(bytes, size);
        }
    }
}
