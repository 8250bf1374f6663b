package dev.streamtrain.support;

import com.google.protobuf.CodedOutputStream;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

import dev.streamtrain.ingest.proto.TrainBatch;

/**
 * Training records in the binary encodings, written as producers write them: the generated {@code TrainBatch}
 * for {@code application/x-protobuf}, and the Confluent wire format (magic byte 0, big-endian schema id, for
 * Protobuf the zigzag message-index array, then the payload) with Avro's own writer or protobuf's.
 */
public final class WireRecords {

    /** The Avro schema of one example, as a producer registers it. */
    public static final String AVRO_EXAMPLE = """
            {"type": "record", "name": "Example", "namespace": "dev.streamtrain.test", "fields": [
              {"name": "id", "type": "string"},
              {"name": "features", "type": {"type": "array", "items": "float"}},
              {"name": "label", "type": "int"},
              {"name": "weight", "type": ["null", "float"], "default": null}
            ]}""";

    /** The Avro schema of a batch per record, as a producer registers it: rows of features, a label per row. */
    public static final String AVRO_BATCH = """
            {"type": "record", "name": "ExampleBatch", "namespace": "dev.streamtrain.test", "fields": [
              {"name": "source", "type": "string"},
              {"name": "features", "type": {"type": "array", "items": {"type": "array", "items": "float"}}},
              {"name": "labels", "type": {"type": "array", "items": "int"}},
              {"name": "weights", "type": ["null", {"type": "array", "items": "float"}], "default": null}
            ]}""";

    /** A Protobuf schema of one example (message index [1]: the second message of the file). */
    public static final String PROTO_EXAMPLE = """
            syntax = "proto3";
            package test;
            message Envelope { string note = 1; }
            message Example {
              string id = 1;
              repeated float features = 2;
              int32 label = 3;
            }
            """;

    private WireRecords() {
    }

    /** One example as {@code application/x-protobuf}. */
    public static byte[] trainBatch(float[] features, int label) {
        return TrainBatch.newBuilder().setRows(1).addAllFeatures(boxed(features)).addLabels(label).build().toByteArray();
    }

    /** One example in the wire format of {@link #AVRO_EXAMPLE} (or of any schema with its fields) under {@code id}. */
    public static byte[] avro(int schemaId, String key, float[] features, int label) {
        Schema schema = new Schema.Parser().parse(AVRO_EXAMPLE);
        GenericRecord record = new GenericData.Record(schema);
        record.put("id", key);
        record.put("features", boxed(features));
        record.put("label", label);
        return written(schemaId, schema, record);
    }

    private static byte[] written(int schemaId, Schema schema, GenericRecord record) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        header(out, schemaId);
        try {
            BinaryEncoder encoder = EncoderFactory.get().directBinaryEncoder(out, null);
            new GenericDatumWriter<GenericRecord>(schema).write(record, encoder);
            encoder.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    /** Rows of features with their labels in the wire format of {@link #AVRO_BATCH} under {@code id}. */
    public static byte[] avroBatch(int schemaId, String source, float[][] features, int[] labels) {
        Schema schema = new Schema.Parser().parse(AVRO_BATCH);
        GenericRecord record = new GenericData.Record(schema);
        record.put("source", source);
        List<List<Float>> rows = new ArrayList<>(features.length);
        for (float[] row : features) {
            rows.add(boxed(row));
        }
        record.put("features", rows);
        List<Integer> y = new ArrayList<>(labels.length);
        for (int label : labels) {
            y.add(label);
        }
        record.put("labels", y);
        return written(schemaId, schema, record);
    }

    /** One example in the wire format of {@link #PROTO_EXAMPLE}'s {@code Example} (message index [1]). */
    public static byte[] protobuf(int schemaId, String key, float[] features, int label) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        header(out, schemaId);
        try {
            CodedOutputStream message = CodedOutputStream.newInstance(out);
            message.writeSInt32NoTag(1);
            message.writeSInt32NoTag(1);
            message.writeString(1, key);
            message.writeTag(2, com.google.protobuf.WireFormat.WIRETYPE_LENGTH_DELIMITED);
            message.writeUInt32NoTag(features.length * 4);
            for (float f : features) {
                message.writeFloatNoTag(f);
            }
            if (label != 0) {
                message.writeInt32(3, label);
            }
            message.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    /** A batch as {@code TrainBatch} in the wire format (message index [0] of train_batch.proto). */
    public static byte[] protobufBatch(int schemaId, float[][] features, int[] labels) {
        TrainBatch.Builder batch = TrainBatch.newBuilder().setRows(features.length);
        for (int i = 0; i < features.length; i++) {
            batch.addAllFeatures(boxed(features[i])).addLabels(labels[i]);
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        header(out, schemaId);
        out.write(0);
        out.writeBytes(batch.build().toByteArray());
        return out.toByteArray();
    }

    private static void header(ByteArrayOutputStream out, int schemaId) {
        out.write(0);
        out.writeBytes(ByteBuffer.allocate(4).putInt(schemaId).array());
    }

    private static List<Float> boxed(float[] values) {
        List<Float> list = new ArrayList<>(values.length);
        for (float v : values) {
            list.add(v);
        }
        return list;
    }
}
