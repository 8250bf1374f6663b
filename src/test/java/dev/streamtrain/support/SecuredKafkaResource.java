package dev.streamtrain.support;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;

/**
 * A {@link SecuredKafkaBroker} per test class, with the service's topics, and the service pointed at one of its
 * listeners through standard Kafka client properties only ({@code kafka.security.protocol}, {@code kafka.sasl.*},
 * {@code kafka.ssl.*}): init argument {@code listener} = {@code sasl-ssl} (SCRAM-SHA-512) or {@code mtls}.
 */
public class SecuredKafkaResource implements QuarkusTestResourceLifecycleManager {

    private static volatile SecuredKafkaBroker broker;
    private String listener = "sasl-ssl";

    /** The running broker, for the test's own clients. */
    public static SecuredKafkaBroker broker() {
        return broker;
    }

    @Override
    public void init(Map<String, String> initArgs) {
        listener = initArgs.getOrDefault("listener", listener);
    }

    @Override
    public Map<String, String> start() {
        TestCertificates certificates = TestCertificates.generate(
                Path.of("target", "tls", UUID.randomUUID().toString()).toAbsolutePath());
        broker = SecuredKafkaBroker.start(certificates);
        broker.createTopics(Map.of(KafkaBrokerResource.EXAMPLES, 1, KafkaBrokerResource.DLQ, 1,
                KafkaBrokerResource.EVENTS, 1));
        Map<String, Object> client = switch (listener) {
            case "sasl-ssl" -> broker.saslSslClient(SecuredKafkaBroker.USER, SecuredKafkaBroker.PASSWORD);
            case "mtls" -> broker.mutualTlsClient();
            default -> throw new IllegalArgumentException("listener " + listener + ": use sasl-ssl or mtls");
        };
        Map<String, String> config = new HashMap<>();
        client.forEach((key, value) -> config.put("kafka." + key, String.valueOf(value)));
        return config;
    }

    @Override
    public void stop() {
        if (broker != null) {
            broker.close();
            broker = null;
        }
    }
}
