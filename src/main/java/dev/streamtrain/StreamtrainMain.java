package dev.streamtrain;

import io.quarkus.runtime.Quarkus;
import io.quarkus.runtime.annotations.QuarkusMain;
import org.eclipse.microprofile.config.Config;
import org.eclipse.microprofile.config.ConfigProvider;
import org.jboss.logging.Logger;

import java.util.LinkedHashMap;
import java.util.Map;

import dev.streamtrain.embedded.EmbeddedKafka;
import dev.streamtrain.model.ComputeSettings;

/**
 * Starts streamtrain. When no {@code kafka.bootstrap.servers} is configured (property, environment or
 * application.properties), an embedded single-node KRaft broker is started first, on loopback, and the
 * service is pointed at it: the embedded default for laptops and the demo.
 */
@QuarkusMain
public final class StreamtrainMain {

    private static final Logger LOG = Logger.getLogger(StreamtrainMain.class);

    private StreamtrainMain() {
    }

    public static void main(String... args) {
        ComputeSettings.configureNativeMemoryAccounting();
        Config config = ConfigProvider.getConfig();
        if (config.getOptionalValue("kafka.bootstrap.servers", String.class).isPresent()) {
            Quarkus.run(args);
            return;
        }
        if ("serve".equals(config.getOptionalValue("streamtrain.mode", String.class).orElse("train"))) {
            LOG.warn("A serving-only replica (streamtrain.mode=serve) without kafka.bootstrap.servers gets an embedded"
                    + " broker of its own, where no trainer publishes checkpoint-saved events: it finds new checkpoints"
                    + " only by looking in the store (streamtrain.serving.poll-interval). Point it at the trainer's"
                    + " cluster.");
        }
        long start = System.nanoTime();
        try (EmbeddedKafka broker = EmbeddedKafka.start()) {
            Map<String, Integer> topics = new LinkedHashMap<>();
            topics.put(topic(config, "mp.messaging.incoming.examples.topic", "streamtrain.examples"),
                    config.getOptionalValue("streamtrain.embedded.partitions", Integer.class).orElse(1));
            topics.put(topic(config, "mp.messaging.incoming.examples.dead-letter-queue.topic", "streamtrain.examples.dlq"), 1);
            topics.put(topic(config, "mp.messaging.outgoing.events.topic", "streamtrain.events"), 1);
            broker.createTopics(topics);
            System.setProperty("kafka.bootstrap.servers", broker.bootstrapServers());
            LOG.infof("Embedded Kafka broker (KRaft, single node) ready at %s in %d ms; topics %s",
                    broker.bootstrapServers(), (System.nanoTime() - start) / 1_000_000, topics.keySet());
            Quarkus.run(args);
        }
    }

    private static String topic(Config config, String key, String fallback) {
        return config.getOptionalValue(key, String.class).orElse(fallback);
    }
}
