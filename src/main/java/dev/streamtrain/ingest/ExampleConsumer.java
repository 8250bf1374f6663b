package dev.streamtrain.ingest;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.smallrye.common.annotation.Blocking;
import io.smallrye.reactive.messaging.kafka.api.IncomingKafkaRecordMetadata;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.eclipse.microprofile.reactive.messaging.Message;
import org.jboss.logging.Logger;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

import dev.streamtrain.model.spec.ModelSpec;
import dev.streamtrain.telemetry.RejectionMeter;
import dev.streamtrain.training.ExampleBatcher;
import dev.streamtrain.training.ExampleBlock;
import dev.streamtrain.training.RangeConfig;
import dev.streamtrain.training.RecordHandle;
import dev.streamtrain.training.health.HealthConfig;

/**
 * Reads training records from the {@code examples} channel (topic {@code streamtrain.examples}), decodes and
 * validates them, and hands them to the trainer, leaving out what the model or its buffer already holds
 * ({@link ReadPosition}). Offsets are committed after checkpoints ({@link OffsetCommitter}), not on
 * acknowledgement; a bad record is nacked with its reason and SmallRye's dead-letter strategy sends it,
 * unchanged, to {@code streamtrain.examples.dlq}.
 * Runs on a worker thread, one record at a time: blocking here while the trainer's buffer is full is what
 * stops the consumer from fetching more (the connector pauses the partitions).
 */
@ApplicationScoped
public class ExampleConsumer {

    private static final Logger LOG = Logger.getLogger(ExampleConsumer.class);
    private static final String JSON = "application/json";

    private final ExampleDecoder decoder;
    private final ExampleBatcher batcher;
    private final RejectionMeter rejections;
    private final ReadPosition position;
    private final HoldoutSplit holdout;
    private final Timer decodeTime;
    private final KafkaBacklog backlog;

    ExampleConsumer(ModelSpec spec, IngestConfig config, RangeConfig range, HealthConfig health,
                    ExampleBatcher batcher, RejectionMeter rejections, ReadPosition position, MeterRegistry registry,
                    KafkaBacklog backlog) {
        this.decodeTime = Timer.builder("streamtrain.decode").tag("model", spec.name())
                .description("Time to decode and validate one training record").register(registry);
        this.holdout = new HoldoutSplit(health.holdout().fraction());
        this.decoder = new ExampleDecoder(spec, config.maxRecordBytes(), config.maxExamplesPerRecord(),
                ValueBounds.of(range));
        this.batcher = batcher;
        this.rejections = rejections;
        this.position = position;
        this.backlog = backlog;
    }

    @Incoming("examples")
    @Blocking
    public CompletionStage<Void> consume(Message<byte[]> message) {
        KafkaRecord record = new KafkaRecord(message, rejections);
        try {
            checkContentType(record.metadata);
            long start = System.nanoTime();
            ExampleBlock block = decoder.decode(message.getPayload(), record)
                    .heldOut(holdout.heldOut(record.key(), message.getPayload()));
            decodeTime.record(System.nanoTime() - start, java.util.concurrent.TimeUnit.NANOSECONDS);
            ExampleBlock untrained = position.admit(block);
            if (untrained == null) {
                backlog.delivered(record.partition(), record.offset());
                return message.ack();
            }
            batcher.submit(untrained);
            // only once it is buffered: the trainer must not see the partition at its end before the record is in
            backlog.delivered(record.partition(), record.offset());
            return CompletableFuture.completedFuture(null);
        } catch (RejectedRecordException e) {
            rejections.rejected(e.reason().code());
            LOG.debugf("Dead-lettering %s@%d: %s (%s)", record.partition(), record.offset(), e.getMessage(), e.detail());
            backlog.delivered(record.partition(), record.offset());
            return message.nack(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            // stopping: leave the record unacknowledged so that it is read again
            return CompletableFuture.completedFuture(null);
        }
    }

    private static void checkContentType(IncomingKafkaRecordMetadata<?, ?> metadata) {
        var header = metadata == null ? null : metadata.getHeaders().lastHeader("content-type");
        if (header == null) {
            return;
        }
        String type = new String(header.value(), StandardCharsets.UTF_8).trim();
        if (!type.isEmpty() && !type.regionMatches(true, 0, JSON, 0, JSON.length())) {
            throw new RejectedRecordException(RejectReason.MALFORMED,
                    "content-type " + type + " is not supported; send application/json");
        }
    }

    /** The Kafka record behind a block: acknowledging it lets the commit strategy commit its offset. */
    private static final class KafkaRecord implements RecordHandle {

        private final Message<byte[]> message;
        private final IncomingKafkaRecordMetadata<?, ?> metadata;
        private final RejectionMeter rejections;

        @SuppressWarnings("unchecked")
        KafkaRecord(Message<byte[]> message, RejectionMeter rejections) {
            this.message = message;
            this.metadata = message.getMetadata(IncomingKafkaRecordMetadata.class).orElse(null);
            this.rejections = rejections;
        }

        byte[] key() {
            return metadata != null && metadata.getKey() instanceof byte[] bytes ? bytes : null;
        }

        @Override
        public String partition() {
            return metadata == null ? "unknown" : metadata.getTopic() + "-" + metadata.getPartition();
        }

        @Override
        public long offset() {
            return metadata == null ? -1 : metadata.getOffset();
        }

        @Override
        public void trained() {
            message.ack();
        }

        @Override
        public void quarantined(String reason, String cause) {
            RejectReason code = java.util.Arrays.stream(RejectReason.values())
                    .filter(r -> r.code().equals(reason)).findFirst().orElse(RejectReason.NON_FINITE);
            rejections.rejected(code.code());
            LOG.warnf("Dead-lettering %s@%d: %s", partition(), offset(), cause);
            message.nack(new RejectedRecordException(code, cause));
        }
    }
}
