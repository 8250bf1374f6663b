package dev.streamtrain.ingest;

import io.smallrye.reactive.messaging.kafka.IncomingKafkaRecord;
import io.smallrye.reactive.messaging.kafka.KafkaRecord;
import io.smallrye.reactive.messaging.kafka.KafkaRecordBatch;
import io.smallrye.reactive.messaging.kafka.api.IncomingKafkaRecordMetadata;
import org.jboss.logging.Logger;

import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicInteger;

import dev.streamtrain.telemetry.RejectionMeter;
import dev.streamtrain.training.RecordHandle;

/**
 * The records of one poll of the {@code examples} channel and what has become of them. The batch is acknowledged
 * once, when the last of its records is done with (trained, dropped as already trained, or dead-lettered): one
 * acknowledgement per poll instead of one per record, each of which the connector runs on the channel's Vert.x
 * context. With the channel's commit strategy ({@code ignore}: offsets are committed after checkpoints, see
 * {@link OffsetCommitter}) an acknowledgement commits nothing; it is made all the same, so that another strategy
 * would still see every record acknowledged only once it is done with. A dead-lettered record is nacked on its
 * own: the connector's dead-letter strategy sends it, unchanged, with its reason.
 * Records are done with on the ingest worker and on the training thread: the count is atomic.
 */
final class PolledBatch {

    private static final Logger LOG = Logger.getLogger(PolledBatch.class);

    private final KafkaRecordBatch<byte[], byte[]> batch;
    private final RejectionMeter rejections;
    private final AtomicInteger pending;

    PolledBatch(KafkaRecordBatch<byte[], byte[]> batch, int size, RejectionMeter rejections) {
        this.batch = batch;
        this.rejections = rejections;
        this.pending = new AtomicInteger(size);
    }

    /** The handle of one record of this poll; {@code partition} is its "topic-N" name, shared by its partition. */
    Record record(KafkaRecord<byte[], byte[]> record, String partition) {
        // the connector's records of a poll are IncomingKafkaRecords; the interface itself has no offset
        long offset = record instanceof IncomingKafkaRecord<?, ?> incoming ? incoming.getOffset()
                : record.getMetadata(IncomingKafkaRecordMetadata.class).map(IncomingKafkaRecordMetadata::getOffset)
                .orElse(-1L);
        return new Record(record, partition, offset);
    }

    private void done() {
        if (pending.decrementAndGet() == 0) {
            batch.ack();
        }
    }

    /** One record of the poll: the trainer's {@link RecordHandle}. */
    final class Record implements RecordHandle {

        private final KafkaRecord<byte[], byte[]> record;
        private final String partition;
        private final long offset;

        private Record(KafkaRecord<byte[], byte[]> record, String partition, long offset) {
            this.record = record;
            this.partition = partition;
            this.offset = offset;
        }

        KafkaRecord<byte[], byte[]> kafka() {
            return record;
        }

        @Override
        public String partition() {
            return partition;
        }

        @Override
        public long offset() {
            return offset;
        }

        /** Done with without training: dropped as already in the model or its buffer. */
        void skipped() {
            done();
        }

        /** Dead-letters the record with the reason and cause of {@code rejection}; completes once it is sent. */
        CompletionStage<Void> deadLetter(RejectedRecordException rejection) {
            rejections.rejected(rejection.reason().code());
            CompletionStage<Void> sent = record.nack(rejection);
            done();
            return sent;
        }

        @Override
        public void trained() {
            done();
        }

        @Override
        public void quarantined(String reason, String cause) {
            RejectReason code = RejectReason.of(reason);
            LOG.warnf("Dead-lettering %s@%d: %s", partition, offset(), cause);
            deadLetter(new RejectedRecordException(code, cause));
        }
    }
}
