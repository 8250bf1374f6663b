package dev.streamtrain.support;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

import java.util.Map;

import dev.streamtrain.embedded.EmbeddedKafka;

/**
 * One real Kafka broker (single-node KRaft, in the test JVM) per test class, with the service's topics
 * created, and the service pointed at it.
 */
public class KafkaBrokerResource implements QuarkusTestResourceLifecycleManager {

    public static final String EXAMPLES = "streamtrain.examples";
    public static final String DLQ = "streamtrain.examples.dlq";
    public static final String EVENTS = "streamtrain.events";

    private EmbeddedKafka broker;

    @Override
    public Map<String, String> start() {
        broker = EmbeddedKafka.start();
        broker.createTopics(Map.of(EXAMPLES, 1, DLQ, 1, EVENTS, 1));
        return Map.of("kafka.bootstrap.servers", broker.bootstrapServers());
    }

    @Override
    public void stop() {
        if (broker != null) {
            broker.close();
        }
    }
}
