package dev.streamtrain.ingest;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.json.JsonReadFeature;

import java.io.IOException;

import dev.streamtrain.model.spec.ModelSpec;
import dev.streamtrain.training.ExampleBlock;
import dev.streamtrain.training.RecordHandle;

/**
 * Decodes and validates one JSON record into an {@link ExampleBlock}: {@code {"features": [...], "label": y}}
 * for one example, {@code {"features": [[...], ...], "labels": [...]}} for a batch, with optional
 * {@code weight}/{@code weights}. Streams through the bytes once with Jackson's parser, straight into float
 * arrays. Thread-safe.
 */
public final class ExampleDecoder {

    private static final JsonFactory JSON = JsonFactory.builder()
            .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
            // parsing numbers is most of ingest's cost: the Eisel-Lemire parser is several times faster
            .enable(StreamReadFeature.USE_FAST_DOUBLE_PARSER)
            .build();

    private final ModelSpec spec;
    private final int maxBytes;
    private final int maxExamples;
    private final BlockAssembler assembler;

    /** A decoder with the default {@link ValueBounds}. */
    public ExampleDecoder(ModelSpec spec, int maxBytes, int maxExamples) {
        this(spec, maxBytes, maxExamples, ValueBounds.DEFAULTS);
    }

    /** A decoder that dead-letters values beyond {@code bounds} as {@code out-of-range}. */
    public ExampleDecoder(ModelSpec spec, int maxBytes, int maxExamples, ValueBounds bounds) {
        this.spec = spec;
        this.maxBytes = maxBytes;
        this.maxExamples = maxExamples;
        this.assembler = new BlockAssembler(spec, bounds);
    }

    public ExampleBlock decode(byte[] value, RecordHandle source) {
        if (value == null || value.length == 0) {
            throw new RejectedRecordException(RejectReason.MALFORMED, "the record has no value");
        }
        if (value.length > maxBytes) {
            throw new RejectedRecordException(RejectReason.TOO_LARGE,
                    "the record has " + value.length + " bytes; the limit is " + maxBytes);
        }
        try (JsonParser parser = JSON.createParser(value)) {
            return read(parser, source);
        } catch (JsonProcessingException e) {
            throw new RejectedRecordException(RejectReason.MALFORMED, "not valid JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new RejectedRecordException(RejectReason.MALFORMED, "unreadable record: " + e.getMessage());
        }
    }

    private ExampleBlock read(JsonParser p, RecordHandle source) throws IOException {
        if (p.nextToken() != JsonToken.START_OBJECT) {
            throw malformed("the record must be a JSON object with \"features\" and \"label\" or \"labels\"");
        }
        Rows features = null;
        Rows labels = null;
        Rows weights = null;
        boolean batch = false;
        boolean batchLabels = false;
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String field = p.currentName();
            if (p.nextToken() == null) {
                throw malformed("the record ends early");
            }
            switch (field) {
                case "features" -> {
                    features = Rows.read(p, "features", maxExamples);
                    batch = features.nested();
                }
                case "label", "labels" -> {
                    labels = Rows.read(p, field, maxExamples);
                    batchLabels = field.equals("labels");
                }
                case "weight", "weights" -> weights = Rows.read(p, field, maxExamples);
                default -> p.skipChildren();
            }
        }
        if (features == null) {
            throw malformed("the record has no \"features\"");
        }
        if (labels == null) {
            throw malformed("the record has no \"" + (batch ? "labels" : "label") + "\"");
        }
        if (batch != batchLabels) {
            throw malformed(batch ? "a batch (nested \"features\") needs \"labels\", one per row"
                    : "one example (flat \"features\") takes \"label\", not \"labels\"");
        }
        if (p.nextToken() != null) {
            // e.g. two objects in one record: the second would otherwise be dropped without a trace
            throw malformed("the record holds more than one JSON value; send one object (one example or a batch)");
        }
        return assembler.assemble(features, labels, weights, batch, source);
    }

    private static RejectedRecordException malformed(String detail) {
        return new RejectedRecordException(RejectReason.MALFORMED, detail);
    }
}
