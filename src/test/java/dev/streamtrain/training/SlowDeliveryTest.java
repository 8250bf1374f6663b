package dev.streamtrain.training;

import io.quarkus.arc.Unremovable;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Alternative;
import jakarta.inject.Inject;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.streamtrain.demo.DigitsDataset;
import dev.streamtrain.support.KafkaBrokerResource;

/**
 * A backlog delivered far slower than the linger time (one record per fetch, each fetch held by the broker) is
 * still trained in full mini-batches only: linger cuts a short batch at the live edge, not in the middle of the
 * backlog. After the backlog, the short rest of it and a few live records are flushed at the edge, with a stall
 * limit far longer than the test, so that only the live-edge rule can flush them.
 */
@QuarkusTest
@TestProfile(SlowDeliveryTest.SlowConsumer.class)
@QuarkusTestResource(value = SlowDeliveryTest.BacklogFirst.class, restrictToAnnotatedClass = true)
class SlowDeliveryTest {

    private static final int BATCH = 32;
    private static final int FULL_BATCHES = 10;
    private static final int REST = 5;
    private static final int BACKLOG = FULL_BATCHES * BATCH + REST;
    private static final int LIVE = 3;
    // far shorter than the time a batch of the backlog takes to arrive (about 90 ms here, one record per poll)
    private static final Duration LINGER = Duration.ofMillis(30);

    /** The consumer fetches one record at a time and the broker holds each fetch (it waits for 1 MB). */
    public static class SlowConsumer implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            String consumer = "mp.messaging.incoming.examples.";
            return Map.of(consumer + "max.poll.records", "1",
                    consumer + "max.partition.fetch.bytes", "1",
                    consumer + "fetch.max.bytes", "1",
                    consumer + "fetch.min.bytes", "1048576",
                    consumer + "fetch.max.wait.ms", "40",
                    "streamtrain.training.linger", LINGER.toMillis() + "ms",
                    "streamtrain.training.stall-limit", "10m");
        }

        @Override
        public Set<Class<?>> getEnabledAlternatives() {
            return Set.of(BatchSizes.class);
        }
    }

    /** The broker, with the whole backlog produced before the service starts (one record per producer batch). */
    public static class BacklogFirst extends KafkaBrokerResource {
        @Override
        public Map<String, String> start() {
            Map<String, String> config = super.start();
            send(config.get("kafka.bootstrap.servers"), 0, BACKLOG);
            return config;
        }
    }

    /** The trained rows of every step, in order (read through methods: the bean is injected as a proxy). */
    @Alternative
    @ApplicationScoped
    @Unremovable
    public static class BatchSizes implements TrainingListener {
        private final List<Integer> sizes = Collections.synchronizedList(new ArrayList<>());
        private final List<Long> times = Collections.synchronizedList(new ArrayList<>());

        @Override
        public void onStep(StepReport report) {
            sizes.add(report.score().examples());
            times.add(System.nanoTime());
        }

        List<Integer> sizes() {
            return List.copyOf(sizes);
        }

        /** When each step ended ({@link System#nanoTime}). */
        List<Long> times() {
            return List.copyOf(times);
        }
    }

    @Inject
    BatchSizes steps;

    @Inject
    TrainerService service;

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrapServers;

    @Test
    void aSlowlyDeliveredBacklogTrainsInFullBatchesAndTheEdgeStillFlushesShortOnes() {
        await().atMost(Duration.ofMinutes(3)).until(() -> service.trainer().stats().examples() == BACKLOG);
        List<Integer> backlog = steps.sizes();
        List<Integer> expected = new ArrayList<>(Collections.nCopies(FULL_BATCHES, BATCH));
        expected.add(REST);
        assertThat(backlog).as("mini-batch sizes while the backlog was delivered").isEqualTo(expected);
        // the premise: delivery was slower than linger, so linger alone would have cut short batches
        long backlogNanos = steps.times().get(FULL_BATCHES - 1) - steps.times().get(0);
        assertThat(backlogNanos).isGreaterThan((FULL_BATCHES - 1) * LINGER.toNanos());

        send(bootstrapServers, BACKLOG, LIVE);
        await().atMost(Duration.ofMinutes(1)).until(() -> service.trainer().stats().examples() == BACKLOG + LIVE);
        assertThat(steps.sizes()).as("a few live records flush at the edge").endsWith(REST, LIVE);
        assertThat(service.trainer().step()).isEqualTo(FULL_BATCHES + 2);
    }

    /** Digits {@code first}.. as records of one row each, every record its own producer batch. */
    private static void send(String bootstrapServers, int first, int count) {
        DigitsDataset data = DigitsDataset.load();
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers, ProducerConfig.ACKS_CONFIG, "all",
                ProducerConfig.BATCH_SIZE_CONFIG, 1), new StringSerializer(), new StringSerializer())) {
            for (int i = first; i < first + count; i++) {
                producer.send(new ProducerRecord<>(KafkaBrokerResource.EXAMPLES, "digit-" + i, data.toJson(i)));
            }
            producer.flush();
        }
    }
}
