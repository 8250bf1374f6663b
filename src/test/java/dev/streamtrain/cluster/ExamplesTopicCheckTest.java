package dev.streamtrain.cluster;

import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.config.TopicConfig;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import dev.streamtrain.embedded.EmbeddedKafka;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** A group of trainers refuses a compacted examples topic (offset gaps would stall a partition), on a real broker. */
class ExamplesTopicCheckTest {

    private static EmbeddedKafka broker;
    private static Map<String, Object> client;

    @BeforeAll
    static void start() throws Exception {
        broker = EmbeddedKafka.start();
        client = Map.of(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        try (Admin admin = Admin.create(client)) {
            admin.createTopics(List.of(
                    topic("examples.delete", TopicConfig.CLEANUP_POLICY_DELETE),
                    topic("examples.compact", TopicConfig.CLEANUP_POLICY_COMPACT),
                    topic("examples.both", TopicConfig.CLEANUP_POLICY_COMPACT + "," + TopicConfig.CLEANUP_POLICY_DELETE)))
                    .all().get(60, TimeUnit.SECONDS);
        }
    }

    private static NewTopic topic(String name, String policy) {
        return new NewTopic(name, 2, (short) 1).configs(Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, policy));
    }

    @AfterAll
    static void stop() {
        if (broker != null) {
            broker.close();
        }
    }

    @Test
    void aDeletingTopicAndAMissingOnePass() {
        assertThatCode(() -> ExamplesTopicCheck.requireNotCompacted(client, "examples.delete")).doesNotThrowAnyException();
        assertThatCode(() -> ExamplesTopicCheck.requireNotCompacted(client, "examples.absent"))
                .doesNotThrowAnyException();
    }

    @Test
    void aCompactedTopicIsRefusedWithTheReason() {
        for (String topic : List.of("examples.compact", "examples.both")) {
            assertThatThrownBy(() -> ExamplesTopicCheck.requireNotCompacted(client, topic))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining(topic)
                    .hasMessageContaining("cleanup.policy=compact")
                    .hasMessageContaining("stall a partition");
        }
    }
}
