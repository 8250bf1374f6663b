package dev.streamtrain.ingest;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.WireFormat;

import java.io.IOException;
import java.util.Map;

/**
 * Where the fields the service needs sit in a protobuf message: the field numbers and scalar types of
 * {@code features}, {@code label}/{@code labels}, {@code weight}/{@code weights} and {@code rows}, taken from the
 * message's schema. Decoding walks the wire bytes once with protobuf-java's {@link CodedInputStream} straight into
 * float arrays (packed or not), skipping every other field: no message object and no boxed list per record.
 * Immutable and thread-safe.
 */
final class ProtobufLayout {

    /** The protobuf scalar types a numeric field may have, by their .proto names. */
    enum Scalar { FLOAT, DOUBLE, INT32, INT64, UINT32, UINT64, SINT32, SINT64 }

    /** One field the service reads: what it fills, its type, and whether it repeats. */
    record Slot(Target target, Scalar type, boolean repeated) { }

    enum Target { FEATURES, LABELS, WEIGHTS, ROWS }

    private final Slot[] byNumber;
    private final boolean batch;

    /** {@code slots} by field number; {@code batch}: the row-major batch layout ({@code labels}, not {@code label}). */
    ProtobufLayout(Map<Integer, Slot> slots, boolean batch) {
        int max = slots.keySet().stream().mapToInt(Integer::intValue).max().orElse(0);
        this.byNumber = new Slot[max + 1];
        slots.forEach((number, slot) -> byNumber[number] = slot);
        this.batch = batch;
    }

    /** Reads the message in {@code bytes[offset..]}; a proto3 label left out is 0, the default it stands for. */
    BinaryRecord read(byte[] bytes, int offset) throws IOException {
        CodedInputStream in = CodedInputStream.newInstance(bytes, offset, bytes.length - offset);
        BinaryRecord record = new BinaryRecord(batch);
        for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
            int number = WireFormat.getTagFieldNumber(tag);
            Slot slot = number < byNumber.length ? byNumber[number] : null;
            if (slot == null) {
                in.skipField(tag);
                continue;
            }
            switch (slot.target()) {
                case FEATURES -> read(in, tag, slot, record.features);
                case LABELS -> record.labels = read(in, tag, slot, record.labels != null ? record.labels
                        : Rows.of(slot.repeated() ? Rows.Kind.FLAT : Rows.Kind.SCALAR));
                case WEIGHTS -> record.weights = read(in, tag, slot, record.weights != null ? record.weights
                        : Rows.of(slot.repeated() ? Rows.Kind.FLAT : Rows.Kind.SCALAR));
                case ROWS -> record.rows = (long) readScalar(in, WireFormat.getTagWireType(tag), slot.type());
            }
        }
        if (record.labels == null && !batch) {
            record.labels = Rows.of(Rows.Kind.SCALAR);
            record.labels.add(0f);
        }
        return record;
    }

    private static Rows read(CodedInputStream in, int tag, Slot slot, Rows into) throws IOException {
        int wireType = WireFormat.getTagWireType(tag);
        if (wireType == WireFormat.WIRETYPE_LENGTH_DELIMITED) {
            if (!slot.repeated()) {
                throw malformed("field " + WireFormat.getTagFieldNumber(tag) + " is length-delimited; the schema says "
                        + slot.type().name().toLowerCase());
            }
            int limit = in.pushLimit(in.readRawVarint32());
            while (in.getBytesUntilLimit() > 0) {
                into.add((float) readScalar(in, expected(slot.type()), slot.type()));
            }
            in.popLimit(limit);
        } else {
            if (!slot.repeated() && into.count() > 0) {
                // a scalar field sent twice: protobuf keeps the last value
                Rows last = Rows.of(Rows.Kind.SCALAR);
                last.add((float) readScalar(in, wireType, slot.type()));
                return last;
            }
            into.add((float) readScalar(in, wireType, slot.type()));
        }
        return into;
    }

    private static double readScalar(CodedInputStream in, int wireType, Scalar type) throws IOException {
        if (wireType != expected(type)) {
            throw malformed("a " + type.name().toLowerCase() + " field arrived with wire type " + wireType);
        }
        return switch (type) {
            case FLOAT -> in.readFloat();
            case DOUBLE -> in.readDouble();
            case INT32 -> in.readInt32();
            case INT64 -> in.readInt64();
            case UINT32 -> Integer.toUnsignedLong(in.readUInt32());
            case UINT64 -> in.readUInt64();
            case SINT32 -> in.readSInt32();
            case SINT64 -> in.readSInt64();
        };
    }

    private static int expected(Scalar type) {
        return switch (type) {
            case FLOAT -> WireFormat.WIRETYPE_FIXED32;
            case DOUBLE -> WireFormat.WIRETYPE_FIXED64;
            default -> WireFormat.WIRETYPE_VARINT;
        };
    }

    private static RejectedRecordException malformed(String detail) {
        return new RejectedRecordException(RejectReason.MALFORMED, "not valid protobuf for its schema: " + detail);
    }
}
