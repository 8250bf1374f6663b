package dev.streamtrain.cluster;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Refuses a compacted examples topic in a group of trainers. In a group, {@code ReadPosition} admits a record only
 * at the next offset of an assigned partition (so that a poll fetched before a rebalance is dropped after it); a
 * compacted topic has offset gaps, and the first gap would stall its partition for good. Transaction markers leave
 * gaps too, but a topic does not say whether it is written transactionally: that limit is documented only
 * (docs/scale-out.md).
 */
final class ExamplesTopicCheck {

    private ExamplesTopicCheck() {
    }

    /** Throws if {@code topic}'s cleanup policy compacts; a topic that does not exist yet passes. */
    static void requireNotCompacted(Map<String, Object> client, String topic) {
        ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
        try (Admin admin = Admin.create(client)) {
            Config config = admin.describeConfigs(List.of(resource)).all().get(60, TimeUnit.SECONDS).get(resource);
            ConfigEntry policy = config.get(TopicConfig.CLEANUP_POLICY_CONFIG);
            if (policy != null && policy.value() != null
                    && policy.value().contains(TopicConfig.CLEANUP_POLICY_COMPACT)) {
                throw new IllegalArgumentException("Refusing to start: streamtrain.cluster.enabled cannot train the"
                        + " examples topic " + topic + " (cleanup.policy=" + policy.value() + "): a group admits"
                        + " only consecutive offsets, and compaction's offset gaps would stall a partition; use"
                        + " cleanup.policy=delete or train this topic with one trainer");
            }
        } catch (ExecutionException e) {
            if (!(e.getCause() instanceof UnknownTopicOrPartitionException)) {
                throw new IllegalStateException("could not read the configuration of the examples topic " + topic
                        + ": " + e.getCause(), e);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while reading the examples topic's configuration", e);
        } catch (TimeoutException e) {
            throw new IllegalStateException("the broker did not describe the examples topic " + topic + " in 60 s", e);
        }
    }
}
