package dev.streamtrain.ingest;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.json.JsonReadFeature;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import org.apache.avro.AvroRuntimeException;

import java.io.IOException;
import java.nio.ByteBuffer;

import dev.streamtrain.ingest.proto.TrainBatch;
import dev.streamtrain.model.spec.ModelSpec;
import dev.streamtrain.training.ExampleBlock;
import dev.streamtrain.training.RecordHandle;

/**
 * Decodes and validates one record into an {@link ExampleBlock}, by its {@code content-type} header:
 * <ul>
 * <li>{@code application/json} (the default): {@code {"features": [...], "label": y}} for one example,
 * {@code {"features": [[...], ...], "labels": [...]}} for a batch, with optional {@code weight}/{@code weights}.
 * Streams through the bytes once, straight into float arrays: a plain one-example record without a tokenizer
 * ({@link OneExampleJson}), anything else with Jackson's parser.</li>
 * <li>{@code application/x-protobuf}: one {@code TrainBatch} (src/main/proto/train_batch.proto).</li>
 * <li>no header and a first byte 0: the Confluent wire format (magic byte, 4-byte schema id, for Protobuf the
 * message indexes, then the Avro or Protobuf payload), its schema looked up in the {@link SchemaRegistry}.</li>
 * </ul>
 * Thread-safe.
 */
public final class ExampleDecoder {

    private static final JsonFactory JSON = JsonFactory.builder()
            .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
            // parsing numbers is most of ingest's cost: the Eisel-Lemire parser is several times faster
            .enable(StreamReadFeature.USE_FAST_DOUBLE_PARSER)
            .build();

    private static final String JSON_TYPE = "application/json";
    private static final String PROTOBUF_TYPE = "application/x-protobuf";
    private static final byte WIRE_MAGIC = 0;
    private static final int WIRE_HEADER = 5;
    private static final int[] FIRST_MESSAGE = {0};

    private final ModelSpec spec;
    private final int maxBytes;
    private final int maxExamples;
    private final BlockAssembler assembler;
    private final SchemaRegistry registry;

    /** A decoder with the default {@link ValueBounds}. */
    public ExampleDecoder(ModelSpec spec, int maxBytes, int maxExamples) {
        this(spec, maxBytes, maxExamples, ValueBounds.DEFAULTS);
    }

    /** A decoder that dead-letters values beyond {@code bounds} as {@code out-of-range}. */
    public ExampleDecoder(ModelSpec spec, int maxBytes, int maxExamples, ValueBounds bounds) {
        this(spec, maxBytes, maxExamples, bounds, null);
    }

    /** A decoder that also reads the schema registry's wire format, with the registry at {@code registryUrl}. */
    public ExampleDecoder(ModelSpec spec, int maxBytes, int maxExamples, ValueBounds bounds,
                          SchemaRegistryConfig registryConfig) {
        this.registry = registryConfig == null ? null
                : registryConfig.url().map(url -> new SchemaRegistry(url, registryConfig.timeout())).orElse(null);
        this.spec = spec;
        this.maxBytes = maxBytes;
        this.maxExamples = maxExamples;
        this.assembler = new BlockAssembler(spec, bounds);
    }

    /** Decodes a record without a content-type header: JSON, or the wire format when its first byte is 0. */
    public ExampleBlock decode(byte[] value, RecordHandle source) {
        return decode(value, null, source);
    }

    /** Decodes a record of the given content type ({@code null} or empty: no header). */
    public ExampleBlock decode(byte[] value, String contentType, RecordHandle source) {
        if (value == null || value.length == 0) {
            throw new RejectedRecordException(RejectReason.MALFORMED, "the record has no value");
        }
        if (value.length > maxBytes) {
            throw new RejectedRecordException(RejectReason.TOO_LARGE,
                    "the record has " + value.length + " bytes; the limit is " + maxBytes);
        }
        if (contentType == null || contentType.isEmpty()) {
            return value[0] == WIRE_MAGIC ? decodeWireFormat(value, source) : decodeJson(value, source);
        }
        if (contentType.regionMatches(true, 0, JSON_TYPE, 0, JSON_TYPE.length())) {
            return decodeJson(value, source);
        }
        if (contentType.regionMatches(true, 0, PROTOBUF_TYPE, 0, PROTOBUF_TYPE.length())) {
            return decodeTrainBatch(value, source);
        }
        throw malformed("content-type " + contentType + " is not supported; send " + JSON_TYPE + ", " + PROTOBUF_TYPE
                + ", or the schema registry's wire format (Avro or Protobuf) without a content-type");
    }

    private ExampleBlock decodeTrainBatch(byte[] value, RecordHandle source) {
        TrainBatch message;
        try {
            message = TrainBatch.parseFrom(value);
        } catch (InvalidProtocolBufferException e) {
            throw malformed("not a valid protobuf TrainBatch: " + e.getMessage());
        }
        BinaryRecord record = new BinaryRecord(true);
        record.rows = Integer.toUnsignedLong(message.getRows());
        for (int i = 0; i < message.getFeaturesCount(); i++) {
            record.features.add(message.getFeatures(i));
        }
        record.labels = Rows.of(Rows.Kind.FLAT);
        for (int i = 0; i < message.getLabelsCount(); i++) {
            record.labels.add(message.getLabels(i));
        }
        if (message.getWeightsCount() > 0) {
            record.weights = Rows.of(Rows.Kind.FLAT);
            for (int i = 0; i < message.getWeightsCount(); i++) {
                record.weights.add(message.getWeights(i));
            }
        }
        return record.assemble(assembler, spec, maxExamples, source);
    }

    private ExampleBlock decodeWireFormat(byte[] value, RecordHandle source) {
        if (value.length < WIRE_HEADER) {
            throw malformed("a schema-registry record needs 5 header bytes (magic byte 0, schema id); it has "
                    + value.length);
        }
        int id = ByteBuffer.wrap(value, 1, 4).getInt();
        if (registry == null) {
            throw new RejectedRecordException(RejectReason.UNKNOWN_SCHEMA, "the record names schema " + id
                    + " but no schema registry is configured (streamtrain.schema-registry.url)");
        }
        Object schema = registry.schema(id);
        try {
            BinaryRecord record;
            if (schema instanceof AvroLayout avro) {
                record = avro.read(value, WIRE_HEADER);
            } else {
                CodedInputStream in = CodedInputStream.newInstance(value, WIRE_HEADER, value.length - WIRE_HEADER);
                int[] path = messageIndexes(in);
                record = ((ProtobufSchema) schema).layout(path).read(value, WIRE_HEADER + in.getTotalBytesRead());
            }
            return record.assemble(assembler, spec, maxExamples, source);
        } catch (IOException | AvroRuntimeException | ArrayIndexOutOfBoundsException e) {
            throw malformed("the payload does not match its schema " + id + ": " + e.getMessage());
        }
    }

    /** Confluent's message-index array: a zigzag varint count, then the indexes; a lone 0 stands for [0]. */
    private static int[] messageIndexes(CodedInputStream in) throws IOException {
        int count = in.readSInt32();
        if (count == 0) {
            return FIRST_MESSAGE;
        }
        if (count < 0 || count > 32) {
            throw malformed("the message-index array has " + count + " entries");
        }
        int[] path = new int[count];
        for (int i = 0; i < count; i++) {
            path[i] = in.readSInt32();
        }
        return path;
    }

    private ExampleBlock decodeJson(byte[] value, RecordHandle source) {
        OneExampleJson example = OneExampleJson.read(value, spec.inputs());
        if (example != null) {
            return assembler.assemble(example.features(), example.label(), example.weight(), false, source);
        }
        return decodeWithJackson(value, source);
    }

    /** A JSON record through Jackson alone: the reference that {@link OneExampleJson} is held to in the tests. */
    ExampleBlock decodeWithJackson(byte[] value, RecordHandle source) {
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
