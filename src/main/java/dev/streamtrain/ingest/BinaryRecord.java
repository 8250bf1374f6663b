package dev.streamtrain.ingest;

import dev.streamtrain.model.spec.ModelSpec;
import dev.streamtrain.training.ExampleBlock;
import dev.streamtrain.training.RecordHandle;

/**
 * The numeric fields of one binary (protobuf or Avro) record as read, before the shape checks of
 * {@link BlockAssembler}. Two layouts: one example ({@code features}, {@code label}, {@code weight}) or a
 * row-major batch ({@code features} of rows × inputs values, {@code labels}, {@code weights}, and the row count,
 * which may be left out: then it is the feature count over the model's inputs).
 */
final class BinaryRecord {

    private final boolean batch;
    Rows features;
    Rows labels;
    Rows weights;
    long rows;

    BinaryRecord(boolean batch) {
        this.batch = batch;
        this.features = Rows.of(Rows.Kind.FLAT);
    }

    /** Checks the record against the model and builds its block. */
    ExampleBlock assemble(BlockAssembler assembler, ModelSpec spec, int maxExamples, RecordHandle source) {
        if (!batch) {
            if (labels == null) {
                throw new RejectedRecordException(RejectReason.MALFORMED, "the record has no \"label\"");
            }
            return assembler.assemble(features, labels, weights, false, source);
        }
        if (features.nested()) {
            // Avro's array of rows: the rows keep their own lengths
            if (features.rows() > maxExamples) {
                throw tooLarge(features.rows(), maxExamples);
            }
            return assembler.assemble(features, labels == null ? Rows.of(Rows.Kind.FLAT) : labels, weights, true,
                    source);
        }
        int inputs = spec.inputs();
        long n = rows > 0 ? rows : Math.max(1, features.count() / inputs);
        if (n > maxExamples) {
            throw tooLarge(n, maxExamples);
        }
        int count = (int) n;
        if (features.count() != count * inputs) {
            throw new RejectedRecordException(RejectReason.WRONG_SHAPE, "\"features\" has " + features.count()
                    + " values; " + count + " rows of the model's " + inputs + " inputs are " + count * inputs);
        }
        Rows y = labels == null ? Rows.of(Rows.Kind.FLAT) : labels;
        int width = spec.labelWidth();
        if (y.count() != count && y.count() == count * width) {
            y = Rows.split(y, count, width);
        }
        return assembler.assemble(Rows.split(features, count, inputs), y, weights, true, source);
    }

    private static RejectedRecordException tooLarge(long rows, int limit) {
        return new RejectedRecordException(RejectReason.TOO_LARGE,
                "the record has " + rows + " rows; the limit per record is " + limit);
    }
}
