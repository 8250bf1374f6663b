package dev.streamtrain.ingest;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.smallrye.common.annotation.Blocking;
import io.smallrye.reactive.messaging.kafka.KafkaRecord;
import io.smallrye.reactive.messaging.kafka.KafkaRecordBatch;
import jakarta.enterprise.context.ApplicationScoped;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.jboss.logging.Logger;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import dev.streamtrain.model.spec.ModelSpec;
import dev.streamtrain.telemetry.RejectionMeter;
import dev.streamtrain.training.ExampleBatcher;
import dev.streamtrain.training.ExampleBlock;
import dev.streamtrain.training.RangeConfig;
import dev.streamtrain.training.health.HealthConfig;

/**
 * Reads training records from the {@code examples} channel (topic {@code streamtrain.examples}), decodes and
 * validates them, and hands them to the trainer, leaving out what the model or its buffer already holds
 * ({@link ReadPosition}). The channel delivers whole polls ({@code batch=true}): one hand-off to the worker
 * thread and one acknowledgement per poll ({@link PolledBatch}), not per record. Offsets are committed after
 * checkpoints ({@link OffsetCommitter}), not on acknowledgement; a bad record is nacked on its own with its reason
 * and SmallRye's dead-letter strategy sends it, unchanged, to {@code streamtrain.examples.dlq}; the rest of its
 * poll goes on.
 * Runs on a worker thread, one poll at a time: blocking here while the trainer's buffer is full is what stops the
 * consumer from fetching more (the connector pauses the partitions once its queue of polls is full).
 */
@ApplicationScoped
public class ExampleConsumer {

    private static final Logger LOG = Logger.getLogger(ExampleConsumer.class);
    private static final CompletableFuture<Void> DONE = CompletableFuture.completedFuture(null);

    private final ExampleDecoder decoder;
    private final ExampleBatcher batcher;
    private final RejectionMeter rejections;
    private final ReadPosition position;
    private final HoldoutSplit holdout;
    private final Timer decodeTime;
    private final KafkaBacklog backlog;
    // one String per partition for good: the trainer's per-partition maps then hash each name once, not per record
    private final Map<TopicPartition, String> names = new ConcurrentHashMap<>();

    ExampleConsumer(ModelSpec spec, IngestConfig config, SchemaRegistryConfig schemaRegistry, RangeConfig range,
                    HealthConfig health,
                    ExampleBatcher batcher, RejectionMeter rejections, ReadPosition position, MeterRegistry registry,
                    KafkaBacklog backlog) {
        this.decodeTime = Timer.builder("streamtrain.decode").tag("model", spec.name())
                .description("Time to decode and validate one training record").register(registry);
        this.holdout = new HoldoutSplit(health.holdout().fraction());
        this.decoder = new ExampleDecoder(spec, config.maxRecordBytes(), config.maxExamplesPerRecord(),
                ValueBounds.of(range), schemaRegistry);
        this.batcher = batcher;
        this.rejections = rejections;
        this.position = position;
        this.backlog = backlog;
    }

    /** Completes once the dead letters of the poll are sent (at once when there are none). */
    @Incoming("examples")
    @Blocking
    public CompletionStage<Void> consume(KafkaRecordBatch<byte[], byte[]> batch) {
        List<KafkaRecord<byte[], byte[]>> records = batch.getRecords();
        PolledBatch polled = new PolledBatch(batch, records.size(), rejections);
        List<CompletableFuture<Void>> deadLetters = new ArrayList<>(0);
        String topic = null;
        int partition = -1;
        String name = null;
        for (KafkaRecord<byte[], byte[]> record : records) {
            // a poll holds a few partitions, each in a run: the name is looked up once per run
            if (record.getPartition() != partition || !record.getTopic().equals(topic)) {
                topic = record.getTopic();
                partition = record.getPartition();
                name = names.computeIfAbsent(new TopicPartition(topic, partition), Partitions::name);
            }
            PolledBatch.Record handle = polled.record(record, name);
            try {
                CompletionStage<Void> deadLetter = consume(handle);
                if (deadLetter != null) {
                    deadLetters.add(deadLetter.toCompletableFuture());
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                // stopping: the rest of the poll stays unacknowledged, so that it is read again
                break;
            }
        }
        return deadLetters.isEmpty() ? DONE : CompletableFuture.allOf(deadLetters.toArray(CompletableFuture[]::new));
    }

    /** Hands one record to the trainer; returns the sending of its dead letter if it cannot be used, else null. */
    private CompletionStage<Void> consume(PolledBatch.Record handle) throws InterruptedException {
        KafkaRecord<byte[], byte[]> record = handle.kafka();
        if (!position.inSequence(handle.partition(), handle.offset())) {
            backlog.delivered(handle.partition(), handle.offset());
            handle.skipped();
            return null;
        }
        try {
            ExampleBlock block = decode(record, handle);
            ExampleBlock untrained = position.admit(block);
            if (untrained == null) {
                backlog.delivered(handle.partition(), handle.offset());
                handle.skipped();
                return null;
            }
            batcher.submit(untrained);
            // only once it is buffered: the trainer must not see the partition at its end before the record is in
            backlog.delivered(handle.partition(), handle.offset());
            return null;
        } catch (RejectedRecordException e) {
            LOG.debugf("Dead-lettering %s@%d: %s (%s)", handle.partition(), handle.offset(), e.getMessage(), e.detail());
            backlog.delivered(handle.partition(), handle.offset());
            return handle.deadLetter(e);
        }
    }

    private ExampleBlock decode(KafkaRecord<byte[], byte[]> record, PolledBatch.Record handle)
            throws InterruptedException {
        long start = System.nanoTime();
        byte[] value = record.getPayload();
        ExampleBlock block;
        try {
            block = decoder.decode(value, contentType(record.getHeaders()), handle);
        } catch (RejectedRecordException e) {
            throw e;
        } catch (SchemaRegistry.RegistryInterruptedException e) {
            throw new InterruptedException(e.getMessage());
        } catch (RuntimeException e) {
            // the decoder's own failure on one odd record must not fail the whole poll (the connector would
            // dead-letter every record of it, trained ones too): this record alone goes to the dead-letter topic
            throw new RejectedRecordException(RejectReason.MALFORMED, "the record could not be decoded: " + e);
        }
        decodeTime.record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
        return block.heldOut(holdout.heldOut(record.getKey(), value));
    }

    private static String contentType(Headers headers) {
        Header header = headers == null ? null : headers.lastHeader("content-type");
        return header == null || header.value() == null ? null
                : new String(header.value(), StandardCharsets.UTF_8).trim();
    }
}
