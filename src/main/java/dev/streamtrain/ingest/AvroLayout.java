package dev.streamtrain.ingest;

import org.apache.avro.Schema;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.Decoder;
import org.apache.avro.io.DecoderFactory;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * How to read an Avro record of a registered (writer's) schema into a {@link BinaryRecord}: one reader per field in
 * the schema's order, the fields the service needs straight into float arrays, every other one skipped by Avro's own
 * {@link GenericDatumReader#skip}. No GenericRecord and no boxed numbers per record. The record must have
 * {@code features} (array of float/double, one example; or array of such arrays, a batch) and {@code label} (a
 * number or an array of numbers) or {@code labels} (an array of them, one per row); {@code weight}/{@code weights}
 * are optional. A field may be a union with null. Immutable and thread-safe.
 */
final class AvroLayout {

    private interface FieldReader {
        void read(Decoder in, BinaryRecord into) throws IOException;
    }

    private final List<FieldReader> readers;
    private final boolean batch;

    private AvroLayout(List<FieldReader> readers, boolean batch) {
        this.readers = readers;
        this.batch = batch;
    }

    /** The layout of {@code schema}; throws a {@link RejectReason#SCHEMA_MISMATCH} when the service cannot use it. */
    static AvroLayout of(int id, Schema schema) {
        if (schema.getType() != Schema.Type.RECORD) {
            throw mismatch(id, "is a " + schema.getType() + ", not a record");
        }
        Schema features = nonNull(schema.getField("features"));
        boolean batch = features != null && features.getType() == Schema.Type.ARRAY
                && nonNull(features.getElementType()).getType() == Schema.Type.ARRAY;
        if (features == null || depth(features) != (batch ? 2 : 1) || !floating(leaf(features))) {
            throw mismatch(id, "has no field \"features\" of array<float|double> (or array<array<...>> for a batch)");
        }
        Schema.Field labelField = schema.getField(batch ? "labels" : "label");
        Schema label = labelField == null ? null : nonNull(labelField.schema());
        if (label == null || !numeric(leaf(label)) || depth(label) < (batch ? 1 : 0) || depth(label) > (batch ? 2 : 1)) {
            throw mismatch(id, batch ? "has nested \"features\" but no \"labels\" array of numbers (or of arrays)"
                    : "has no \"label\" that is a number or an array of numbers");
        }
        List<FieldReader> readers = new ArrayList<>();
        for (Schema.Field field : schema.getFields()) {
            readers.add(reader(field, batch));
        }
        return new AvroLayout(readers, batch);
    }

    /** Reads the Avro binary datum in {@code bytes[offset..]}. */
    BinaryRecord read(byte[] bytes, int offset) throws IOException {
        BinaryDecoder in = DecoderFactory.get().binaryDecoder(bytes, offset, bytes.length - offset, null);
        BinaryRecord record = new BinaryRecord(batch);
        for (FieldReader reader : readers) {
            reader.read(in, record);
        }
        if (!in.isEnd()) {
            throw new RejectedRecordException(RejectReason.MALFORMED, "the Avro datum is followed by more bytes");
        }
        return record;
    }

    private static FieldReader reader(Schema.Field field, boolean batch) {
        Schema schema = field.schema();
        FieldReader inner = switch (field.name()) {
            case "features" -> (in, r) -> r.features = values(in, nonNull(schema));
            case "label", "labels" -> field.name().equals(batch ? "labels" : "label")
                    ? (in, r) -> r.labels = values(in, nonNull(schema)) : null;
            case "weight", "weights" -> field.name().equals(batch ? "weights" : "weight") && numeric(leaf(nonNull(schema)))
                    ? (in, r) -> r.weights = values(in, nonNull(schema)) : null;
            default -> null;
        };
        if (inner == null) {
            return (in, r) -> GenericDatumReader.skip(schema, in);
        }
        if (schema.getType() != Schema.Type.UNION) {
            return inner;
        }
        int nullBranch = schema.getIndexNamed(Schema.Type.NULL.getName()) == null ? -1
                : schema.getIndexNamed(Schema.Type.NULL.getName());
        return (in, r) -> {
            if (in.readIndex() != nullBranch) {
                inner.read(in, r);
            }
        };
    }

    /** Reads a number, an array of numbers or an array of arrays into the Rows of the given kind. */
    private static Rows values(Decoder in, Schema schema) throws IOException {
        if (schema.getType() != Schema.Type.ARRAY) {
            Rows scalar = Rows.of(Rows.Kind.SCALAR);
            scalar.add(number(in, schema.getType()));
            return scalar;
        }
        Schema element = nonNull(schema.getElementType());
        if (element.getType() != Schema.Type.ARRAY) {
            Rows flat = Rows.of(Rows.Kind.FLAT);
            Schema.Type type = element.getType();
            for (long n = in.readArrayStart(); n > 0; n = in.arrayNext()) {
                for (long i = 0; i < n; i++) {
                    flat.add(number(in, type));
                }
            }
            return flat;
        }
        Rows rows = Rows.of(Rows.Kind.NESTED);
        Schema.Type type = nonNull(element.getElementType()).getType();
        for (long n = in.readArrayStart(); n > 0; n = in.arrayNext()) {
            for (long i = 0; i < n; i++) {
                int start = rows.count();
                for (long m = in.readArrayStart(); m > 0; m = in.arrayNext()) {
                    for (long k = 0; k < m; k++) {
                        rows.add(number(in, type));
                    }
                }
                rows.endRow(start);
            }
        }
        return rows;
    }

    private static float number(Decoder in, Schema.Type type) throws IOException {
        return switch (type) {
            case FLOAT -> in.readFloat();
            case DOUBLE -> (float) in.readDouble();
            case INT -> in.readInt();
            case LONG -> in.readLong();
            default -> throw new IllegalStateException("not a number: " + type);
        };
    }

    private static int depth(Schema schema) {
        return schema.getType() == Schema.Type.ARRAY ? 1 + depth(nonNull(schema.getElementType())) : 0;
    }

    private static Schema leaf(Schema schema) {
        return schema.getType() == Schema.Type.ARRAY ? leaf(nonNull(schema.getElementType())) : schema;
    }

    private static boolean floating(Schema schema) {
        return schema.getType() == Schema.Type.FLOAT || schema.getType() == Schema.Type.DOUBLE;
    }

    private static boolean numeric(Schema schema) {
        return floating(schema) || schema.getType() == Schema.Type.INT || schema.getType() == Schema.Type.LONG;
    }

    /** The field's schema, or the one non-null branch of a union with null; null for a missing field. */
    private static Schema nonNull(Schema.Field field) {
        return field == null ? null : nonNull(field.schema());
    }

    private static Schema nonNull(Schema schema) {
        if (schema.getType() != Schema.Type.UNION) {
            return schema;
        }
        List<Schema> branches = schema.getTypes().stream().filter(s -> s.getType() != Schema.Type.NULL).toList();
        return branches.size() == 1 ? branches.get(0) : schema;
    }

    private static RejectedRecordException mismatch(int id, String detail) {
        return new RejectedRecordException(RejectReason.SCHEMA_MISMATCH, "Avro schema " + id + " " + detail);
    }
}
