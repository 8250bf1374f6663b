package dev.streamtrain.cluster;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.common.TopicPartition;
import org.jboss.logging.Logger;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The consumer's side of a member of a group of trainers: called from the rebalance listener of the examples'
 * consumer (on its polling thread), it reads the group's generation and members, has the training thread join the
 * generation ({@link GroupMember#assigned}), and seeks every assigned partition to the offset the generation starts
 * from. The assignment must be eager (Kafka's range or round-robin assignor, the default): every rebalance revokes
 * every partition first, so every member abandons the round in flight.
 */
public final class GroupRebalance implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(GroupRebalance.class);

    private final GroupMember member;
    private final Admin admin;
    private final Duration wait;

    /** {@code admin}: a client of the cluster the group lives on; {@code wait}: how long a join may take. */
    public GroupRebalance(GroupMember member, Admin admin, Duration wait) {
        this.member = member;
        this.admin = admin;
        this.wait = wait;
    }

    public void revoked() {
        member.revoked();
    }

    /**
     * Joins the consumer's new generation and seeks its {@code partitions}; returns the offset each of them is read
     * from now ("topic-N" names), or empty when the join failed (the consumer then asks to rejoin, and its member
     * trains nothing until a generation is joined).
     */
    public Optional<Map<String, Long>> assigned(Consumer<?, ?> consumer, Collection<TopicPartition> partitions) {
        ConsumerGroupMetadata group = consumer.groupMetadata();
        Optional<Map<String, Long>> start;
        try {
            Set<String> members = members(group.groupId());
            if (!members.contains(group.memberId())) {
                LOG.warnf("Consumer group %s does not list member %s in generation %d (it is rebalancing again)",
                        group.groupId(), group.memberId(), group.generationId());
                return Optional.empty();
            }
            start = member.assigned(group.generationId(), group.memberId(), members, wait);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        } catch (ExecutionException | TimeoutException | RuntimeException e) {
            LOG.warnf("Could not read the members of consumer group %s (%s); the member rejoins", group.groupId(),
                    e.getMessage());
            return Optional.empty();
        }
        if (start.isEmpty()) {
            return Optional.empty();
        }
        Map<String, Long> reads = new TreeMap<>();
        List<TopicPartition> unread = new ArrayList<>();
        for (TopicPartition partition : partitions) {
            Long offset = start.get().get(name(partition));
            if (offset == null) {
                unread.add(partition);
            } else {
                consumer.seek(partition, offset);
                reads.put(name(partition), offset);
            }
        }
        if (!unread.isEmpty()) {
            for (Map.Entry<TopicPartition, Long> first : consumer.beginningOffsets(unread).entrySet()) {
                consumer.seek(first.getKey(), first.getValue());
                reads.put(name(first.getKey()), first.getValue());
            }
        }
        LOG.infof("Generation %d of group %s: partitions %s read from the group's average (%s from their beginning)",
                group.generationId(), group.groupId(), partitions, unread);
        return Optional.of(reads);
    }

    private static String name(TopicPartition partition) {
        return partition.topic() + "-" + partition.partition();
    }

    /** The consumers of {@code groupId} now: the members of the generation just assigned. */
    private Set<String> members(String groupId) throws ExecutionException, InterruptedException, TimeoutException {
        ConsumerGroupDescription description = admin.describeConsumerGroups(List.of(groupId)).describedGroups()
                .get(groupId).get(wait.toMillis(), TimeUnit.MILLISECONDS);
        Set<String> members = new TreeSet<>();
        for (MemberDescription m : description.members()) {
            members.add(m.consumerId());
        }
        return members;
    }

    @Override
    public void close() {
        member.left();
        admin.close(Duration.ofSeconds(5));
    }
}
