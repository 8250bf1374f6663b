package dev.streamtrain.ingest;

import com.squareup.wire.schema.Field;
import com.squareup.wire.schema.Location;
import com.squareup.wire.schema.internal.parser.FieldElement;
import com.squareup.wire.schema.internal.parser.MessageElement;
import com.squareup.wire.schema.internal.parser.ProtoFileElement;
import com.squareup.wire.schema.internal.parser.ProtoParser;
import com.squareup.wire.schema.internal.parser.TypeElement;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A Protobuf schema from the schema registry: the {@code .proto} text parsed with Wire's parser, and the
 * {@link ProtobufLayout} of each of its messages as the records' message indexes ask for them (Confluent's wire
 * format names the message by its index path in the file: {@code [0]} the first top-level message). A message
 * without a numeric {@code features} field or a label is a {@link RejectReason#SCHEMA_MISMATCH}. Thread-safe.
 */
final class ProtobufSchema {

    private final int id;
    private final List<MessageElement> messages;
    private final Map<String, Object> layouts = new ConcurrentHashMap<>();

    private ProtobufSchema(int id, List<MessageElement> messages) {
        this.id = id;
        this.messages = messages;
    }

    /** Parses the registry's text of schema {@code id}; an unparsable text throws IllegalArgumentException. */
    static ProtobufSchema parse(int id, String text) {
        ProtoFileElement file;
        try {
            file = ProtoParser.Companion.parse(Location.get("schema-" + id + ".proto"), text);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("schema " + id + " is not a .proto file: " + e.getMessage(), e);
        }
        return new ProtobufSchema(id, messagesOf(file.getTypes()));
    }

    /** The layout of the message at {@code path} (message indexes); throws the rejection when there is none. */
    ProtobufLayout layout(int[] path) {
        Object layout = layouts.computeIfAbsent(java.util.Arrays.toString(path), key -> compile(path));
        if (layout instanceof RejectedRecordException rejection) {
            throw rejection;
        }
        return (ProtobufLayout) layout;
    }

    private Object compile(int[] path) {
        List<MessageElement> level = messages;
        MessageElement message = null;
        for (int index : path) {
            if (index < 0 || index >= level.size()) {
                return mismatch("has no message at index path " + java.util.Arrays.toString(path));
            }
            message = level.get(index);
            level = messagesOf(message.getNestedTypes());
        }
        try {
            return layoutOf(message);
        } catch (RejectedRecordException e) {
            return e;
        }
    }

    private ProtobufLayout layoutOf(MessageElement message) {
        Map<String, FieldElement> fields = new HashMap<>();
        message.getFields().forEach(f -> fields.put(f.getName(), f));
        message.getOneOfs().forEach(o -> o.getFields().forEach(f -> fields.put(f.getName(), f)));
        String name = message.getName();
        FieldElement features = fields.get("features");
        if (features == null || !repeated(features) || !floating(features)) {
            throw mismatch(name + " has no field \"repeated float features\" (or double)");
        }
        boolean batch = fields.containsKey("labels");
        FieldElement label = fields.get(batch ? "labels" : "label");
        if (label == null || scalar(label) == null || (batch && !repeated(label))) {
            throw mismatch(name + " has no numeric \"label\" (one example) or \"repeated ... labels\" (a batch)");
        }
        Map<Integer, ProtobufLayout.Slot> slots = new HashMap<>();
        slots.put(features.getTag(), slot(ProtobufLayout.Target.FEATURES, features));
        slots.put(label.getTag(), slot(ProtobufLayout.Target.LABELS, label));
        FieldElement weight = fields.get(batch ? "weights" : "weight");
        if (weight != null && scalar(weight) != null && repeated(weight) == batch) {
            slots.put(weight.getTag(), slot(ProtobufLayout.Target.WEIGHTS, weight));
        }
        FieldElement rows = fields.get("rows");
        if (batch && rows != null && scalar(rows) != null && !repeated(rows)) {
            slots.put(rows.getTag(), slot(ProtobufLayout.Target.ROWS, rows));
        }
        return new ProtobufLayout(slots, batch);
    }

    private static ProtobufLayout.Slot slot(ProtobufLayout.Target target, FieldElement field) {
        return new ProtobufLayout.Slot(target, scalar(field), repeated(field));
    }

    private static boolean repeated(FieldElement field) {
        return field.getLabel() == Field.Label.REPEATED;
    }

    private static boolean floating(FieldElement field) {
        ProtobufLayout.Scalar type = scalar(field);
        return type == ProtobufLayout.Scalar.FLOAT || type == ProtobufLayout.Scalar.DOUBLE;
    }

    private static ProtobufLayout.Scalar scalar(FieldElement field) {
        try {
            return ProtobufLayout.Scalar.valueOf(field.getType().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException notANumber) {
            return null;
        }
    }

    private static List<MessageElement> messagesOf(List<TypeElement> types) {
        List<MessageElement> messages = new ArrayList<>();
        for (TypeElement type : types) {
            if (type instanceof MessageElement message) {
                messages.add(message);
            }
        }
        return messages;
    }

    private RejectedRecordException mismatch(String detail) {
        return new RejectedRecordException(RejectReason.SCHEMA_MISMATCH, "Protobuf schema " + id + ": " + detail);
    }
}
