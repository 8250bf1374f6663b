package dev.streamtrain.ingest;

import io.smallrye.reactive.messaging.kafka.KafkaClientService;
import io.smallrye.reactive.messaging.kafka.KafkaConsumer;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.jboss.logging.Logger;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

import dev.streamtrain.checkpoint.CheckpointSaved;

/**
 * Commits a durable checkpoint's offsets to the consumer group of the {@code examples} channel, so that
 * ordinary Kafka tools show the lag of what is safely learnt. The checkpoint, not the group, is what a
 * restart resumes from; a commit that fails is only logged. Runs on the checkpoint writer's thread.
 */
@ApplicationScoped
public class OffsetCommitter {

    private static final Logger LOG = Logger.getLogger(OffsetCommitter.class);
    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    private final KafkaClientService clients;

    OffsetCommitter(KafkaClientService clients) {
        this.clients = clients;
    }

    void commit(@Observes CheckpointSaved checkpoint) {
        if (checkpoint.offsets().isEmpty()) {
            return;
        }
        try {
            KafkaConsumer<Object, Object> consumer = clients.getConsumer("examples");
            if (consumer == null) {
                return;
            }
            Integer committed = consumer.runOnPollingThread(c -> {
                Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
                for (var entry : checkpoint.offsets().entrySet()) {
                    TopicPartition partition = Partitions.parse(entry.getKey());
                    // another member owns a partition it was given: its own checkpoints commit for it
                    if (c.assignment().contains(partition)) {
                        offsets.put(partition, new OffsetAndMetadata(entry.getValue(), CommitMetadata.of(checkpoint.step())));
                    }
                }
                if (!offsets.isEmpty()) {
                    c.commitSync(offsets);
                }
                return offsets.size();
            }).await().atMost(TIMEOUT);
            LOG.debugf("Committed the offsets of checkpoint %s of model %s for %s partitions", (Object) checkpoint.step(),
                    checkpoint.model(), committed);
        } catch (RuntimeException e) {
            LOG.warnf("Could not commit the offsets of checkpoint %d of model %s to Kafka (%s); consumer lag shows"
                    + " older offsets until the next checkpoint", checkpoint.step(), checkpoint.model(), e.getMessage());
        }
    }
}
