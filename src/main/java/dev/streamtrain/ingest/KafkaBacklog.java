package dev.streamtrain.ingest;

import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.smallrye.reactive.messaging.kafka.KafkaClientService;
import io.smallrye.reactive.messaging.kafka.KafkaConsumer;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.common.TopicPartition;
import org.jboss.logging.Logger;

import java.time.Duration;
import java.util.Collection;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import dev.streamtrain.training.Backlog;
import dev.streamtrain.ServiceConfig;

/**
 * The {@link Backlog} of the {@code examples} channel: whether the Kafka consumer's assigned partitions hold
 * records beyond those delivered to the trainer ({@link LiveEdge}). End offsets are learnt at assignment
 * ({@link ResumeSeeker}) and then every 50 ms from the consumer's own position and lag, read on its polling
 * thread (no request to the broker per record or per question).
 */
@ApplicationScoped
public class KafkaBacklog implements Backlog {

    private static final Logger LOG = Logger.getLogger(KafkaBacklog.class);
    private static final Duration REFRESH = Duration.ofMillis(50);
    /**
     * How often the partitions' end offsets are asked of the broker: the consumer's own lag stops moving while its
     * partitions are paused (back-pressure), exactly when how far the model is behind matters.
     */
    private static final Duration END_OFFSETS = Duration.ofSeconds(5);

    private final KafkaClientService clients;
    private final ServiceConfig config;
    private final LiveEdge edge = new LiveEdge();
    private final AtomicBoolean refreshing = new AtomicBoolean();
    private final AtomicBoolean askingEnds = new AtomicBoolean();
    private ScheduledExecutorService refresher;

    KafkaBacklog(KafkaClientService clients, ServiceConfig config) {
        this.clients = clients;
        this.config = config;
    }

    void start(@Observes StartupEvent event) {
        if (!config.trains()) {
            return;
        }
        refresher = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread thread = new Thread(r, "streamtrain-live-edge");
            thread.setDaemon(true);
            return thread;
        });
        refresher.scheduleWithFixedDelay(this::refresh, REFRESH.toMillis(), REFRESH.toMillis(), TimeUnit.MILLISECONDS);
        refresher.scheduleWithFixedDelay(this::askEndOffsets, END_OFFSETS.toMillis(), END_OFFSETS.toMillis(),
                TimeUnit.MILLISECONDS);
    }

    void stop(@Observes ShutdownEvent event) {
        if (refresher != null) {
            refresher.shutdownNow();
        }
    }

    @Override
    public boolean behind() {
        return edge.behind(System.nanoTime());
    }

    @Override
    public long deliveries() {
        return edge.deliveries();
    }

    @Override
    public Map<String, Edge> edges() {
        return edge.edges();
    }

    /** Partitions were assigned and sought; called on the polling thread by the rebalance listener. */
    void assigned(Consumer<?, ?> consumer, Collection<TopicPartition> partitions, Map<TopicPartition, Long> ends) {
        long now = System.nanoTime();
        for (TopicPartition partition : partitions) {
            Long position = null;
            try {
                position = consumer.position(partition, Duration.ofSeconds(10));
            } catch (RuntimeException e) {
                LOG.warnf("No position for %s at assignment (%s): its mini-batches linger only after the stall"
                        + " limit until records arrive", Partitions.name(partition), e.getMessage());
            }
            edge.assigned(Partitions.name(partition), ends.get(partition), position, now);
        }
    }

    /** Partitions were revoked or lost; called on the polling thread by the rebalance listener. */
    void forget(Collection<TopicPartition> partitions) {
        partitions.forEach(partition -> edge.forget(Partitions.name(partition)));
    }

    /** A record went through ingest; called on the ingest worker thread once it is buffered (or done with). */
    void delivered(String partition, long offset) {
        edge.delivered(partition, offset, System.nanoTime());
    }

    private void askEndOffsets() {
        KafkaConsumer<Object, Object> consumer = clients.getConsumer("examples");
        if (consumer == null || edge.partitions().isEmpty() || !askingEnds.compareAndSet(false, true)) {
            return;
        }
        try {
            consumer.runOnPollingThread(c -> {
                try {
                    c.endOffsets(c.assignment(), Duration.ofSeconds(2))
                            .forEach((partition, end) -> edge.ended(Partitions.name(partition), end));
                } catch (org.apache.kafka.common.KafkaException e) {
                    // the broker did not answer in time: the next round asks again
                    LOG.debugf("No end offsets from the broker: %s", e.getMessage());
                }
            }).subscribe().with(done -> askingEnds.set(false), failure -> {
                askingEnds.set(false);
                LOG.debugf("Could not ask for the partitions' end offsets: %s", failure.getMessage());
            });
        } catch (RuntimeException e) {
            askingEnds.set(false);
            LOG.debugf("Could not ask for the partitions' end offsets: %s", e.getMessage());
        }
    }

    private void refresh() {
        KafkaConsumer<Object, Object> consumer = clients.getConsumer("examples");
        // one question at a time: the polling thread runs it between two polls, which can be a while apart
        if (consumer == null || edge.partitions().isEmpty() || !refreshing.compareAndSet(false, true)) {
            return;
        }
        try {
            consumer.runOnPollingThread(c -> {
                for (TopicPartition partition : c.assignment()) {
                    String name = Partitions.name(partition);
                    if (edge.partitions().contains(name)) {
                        try {
                            edge.fetched(name, c.position(partition, Duration.ZERO), c.currentLag(partition));
                        } catch (org.apache.kafka.common.errors.TimeoutException e) {
                            // no position yet (being looked up): the next refresh will tell
                        }
                    }
                }
            }).subscribe().with(done -> refreshing.set(false), failure -> {
                refreshing.set(false);
                LOG.debugf("Could not read the consumer's positions: %s", failure.getMessage());
            });
        } catch (RuntimeException e) {
            refreshing.set(false);
            LOG.debugf("Could not ask the consumer for its positions: %s", e.getMessage());
        }
    }
}
