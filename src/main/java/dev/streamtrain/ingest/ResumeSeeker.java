package dev.streamtrain.ingest;

import io.smallrye.common.annotation.Identifier;
import io.smallrye.reactive.messaging.kafka.KafkaConsumerRebalanceListener;
import jakarta.enterprise.context.ApplicationScoped;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.jboss.logging.Logger;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

import dev.streamtrain.cluster.ClusterService;
import dev.streamtrain.cluster.GroupRebalance;
import dev.streamtrain.training.TrainerService;
import dev.streamtrain.training.TrainingEvents;

/**
 * Rebalance listener of the {@code examples} channel: when partitions are assigned, seeks each to where the
 * restored checkpoint's model stands (or, for a partition this process has read before, to where it
 * stopped), so that records trained are not read again and records after them are not skipped. Partitions
 * the checkpoint does not know start from the group's committed offsets.
 * A checkpoint offset beyond the partition's end means the topic is not the one the checkpoint read (it was
 * deleted and created again, or an ephemeral broker restarted): that offset is ignored and reported.
 * It also tells the {@link KafkaBacklog} where assigned partitions end, and which partitions are gone.
 * In a group of trainers ({@code streamtrain.cluster.enabled}) the group's {@link GroupRebalance} decides instead:
 * every member reads its partitions from the group's last average (docs/scale-out.md).
 * Called on the consumer's polling thread.
 */
@ApplicationScoped
@Identifier(ResumeSeeker.NAME)
public class ResumeSeeker implements KafkaConsumerRebalanceListener {

    static final String NAME = "streamtrain.resume";
    private static final Logger LOG = Logger.getLogger(ResumeSeeker.class);

    private final TrainerService trainer;
    private final ReadPosition position;
    private final TrainingEvents events;
    private final KafkaBacklog backlog;
    private final Optional<GroupRebalance> group;

    ResumeSeeker(TrainerService trainer, ReadPosition position, TrainingEvents events, KafkaBacklog backlog,
                 ClusterService cluster) {
        this.group = cluster.rebalance();
        this.trainer = trainer;
        this.position = position;
        this.events = events;
        this.backlog = backlog;
    }

    @Override
    public void onPartitionsAssigned(Consumer<?, ?> consumer, Collection<TopicPartition> partitions) {
        Map<TopicPartition, Long> ends = consumer.endOffsets(partitions);
        if (group.isPresent()) {
            Optional<Map<String, Long>> start = group.get().assigned(consumer, partitions);
            if (start.isPresent()) {
                position.restartInGroup(start.get());
            } else {
                position.restartInGroup(Map.of());
                consumer.enforceRebalance();
            }
            backlog.assigned(consumer, partitions, ends);
            return;
        }
        List<TopicPartition> unknown = new ArrayList<>();
        for (TopicPartition partition : partitions) {
            String name = Partitions.name(partition);
            OptionalLong offset = position.seekOffset(name);
            if (offset.isEmpty()) {
                unknown.add(partition);
                continue;
            }
            long end = ends.getOrDefault(partition, Long.MAX_VALUE);
            if (offset.getAsLong() > end && !position.hasRead(name)) {
                LOG.warnf("The checkpoint of model %s has read %s up to offset %d, but the partition ends at %d:"
                        + " it is not the partition the checkpoint read; starting it from the committed offset",
                        trainer.modelSpec().name(), name, offset.getAsLong(), end);
                trainer.forgetPosition(name);
                events.publish("checkpoint-offsets-ignored", trainer.trainer().step(),
                        Map.of("partition", name, "checkpoint-offset", offset.getAsLong(), "end-offset", end));
                continue;
            }
            consumer.seek(partition, offset.getAsLong());
            LOG.infof("Partition %s of model %s resumes at offset %d, %s", name, trainer.modelSpec().name(),
                    offset.getAsLong(), position.hasRead(name) ? "where this process stopped reading it"
                            : "from the checkpoint");
        }
        if (!unknown.isEmpty()) {
            rewindCommitsAheadOfTheModel(consumer, unknown);
        }
        backlog.assigned(consumer, partitions, ends);
    }

    @Override
    public void onPartitionsRevoked(Consumer<?, ?> consumer, Collection<TopicPartition> partitions) {
        group.ifPresent(GroupRebalance::revoked);
        backlog.forget(partitions);
    }

    @Override
    public void onPartitionsLost(Consumer<?, ?> consumer, Collection<TopicPartition> partitions) {
        group.ifPresent(GroupRebalance::revoked);
        backlog.forget(partitions);
    }

    /**
     * The group's offset of a partition the restored checkpoint does not know may come from a newer
     * checkpoint (since skipped as corrupt, or deleted): then the model holds none of those records, and
     * the partition is read from its beginning instead.
     */
    private void rewindCommitsAheadOfTheModel(Consumer<?, ?> consumer, List<TopicPartition> partitions) {
        Map<TopicPartition, OffsetAndMetadata> committed = consumer.committed(new HashSet<>(partitions));
        for (TopicPartition partition : partitions) {
            OffsetAndMetadata commit = committed.get(partition);
            OptionalLong step = commit == null ? OptionalLong.empty() : CommitMetadata.step(commit.metadata());
            if (step.isPresent() && step.getAsLong() > trainer.restoredStep()) {
                LOG.warnf("The group's offset %d of %s was committed with checkpoint %d, which the model (restored"
                        + " from step %d) does not hold: reading the partition from its beginning", commit.offset(),
                        Partitions.name(partition), step.getAsLong(), trainer.restoredStep());
                consumer.seekToBeginning(List.of(partition));
                events.publish("checkpoint-offsets-ignored", trainer.trainer().step(),
                        Map.of("partition", Partitions.name(partition), "committed-offset", commit.offset(),
                                "committed-with-step", step.getAsLong()));
            }
        }
    }
}
