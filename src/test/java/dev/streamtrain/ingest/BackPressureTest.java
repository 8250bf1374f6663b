package dev.streamtrain.ingest;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.smallrye.reactive.messaging.kafka.KafkaClientService;
import jakarta.inject.Inject;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.common.TopicPartition;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasKey;
import static org.hamcrest.Matchers.not;
import static org.awaitility.Awaitility.await;

import dev.streamtrain.demo.DigitsDataset;
import dev.streamtrain.model.EngineKind;
import dev.streamtrain.support.KafkaBrokerResource;
import dev.streamtrain.support.Records;
import dev.streamtrain.training.TrainerService;

/**
 * A backlog far larger than the buffers in front of a slow trainer: the Kafka consumer fetches only a bounded
 * number of records ahead of training (its partitions pause), so memory does not grow with the backlog.
 */
@QuarkusTest
@TestProfile(BackPressureTest.SlowTrainer.class)
@QuarkusTestResource(value = KafkaBrokerResource.class, restrictToAnnotatedClass = true)
class BackPressureTest {

    private static final int BUFFER = 64;
    /**
     * Polls the connector can hold in batch mode: one in the consumer method (waiting for room in the trainer's
     * buffer), and a queue of max-queue-size-factor (1) polls plus the one that was in flight when it paused.
     */
    private static final int POLLS_HELD = 3;
    private static final int RECORDS = 20_000;
    private static final int BATCH = 16;

    /** A wide model with small batches on the slower engine (DL4J's, asked for by name), and a small trainer buffer. */
    public static class SlowTrainer implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("streamtrain.model.spec", "src/test/resources/specs/slow.yaml",
                    "streamtrain.compute.engine", "dl4j",
                    "streamtrain.training.buffer-examples", Integer.toString(BUFFER));
        }
    }

    @Inject
    TrainerService service;

    @Inject
    KafkaClientService kafkaClients;

    /** Records per poll: the service's default (application.properties). */
    @ConfigProperty(name = "mp.messaging.incoming.examples.max.poll.records")
    int poll;

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrapServers;

    @Test
    void theConsumerFetchesOnlyABoundedAmountAheadOfTraining() {
        DigitsDataset data = DigitsDataset.load();
        List<String[]> records = new ArrayList<>();
        for (int i = 0; i < RECORDS; i++) {
            records.add(new String[] {"digit-" + i, data.toJson(i % data.size())});
        }
        try (Records kafka = new Records(bootstrapServers)) {
            kafka.sendAll(KafkaBrokerResource.EXAMPLES, records);
        }
        // the partitions' end offsets are asked of the broker every 5 s (the consumer's own lag stands still while
        // back-pressure pauses it): once they are, the model's lag covers the whole backlog
        await().atMost(Duration.ofSeconds(30)).until(() ->
                modelLag().orElse(0) + service.trainer().stats().examples() >= RECORDS - BATCH);
        long maxAhead = 0;
        long maxBehind = 0;
        long lagSamples = 0;
        for (int sample = 0; sample < 20; sample++) {
            // the model's lag behind the topic is the backlog not trained yet (the client's own lag would leave out
            // everything fetched and buffered): between what is untrained before and after reading it, give or take
            // the mini-batch in progress
            long before = service.trainer().stats().examples();
            OptionalDouble lag = modelLag();
            long after = service.trainer().stats().examples();
            if (lag.isPresent()) {
                lagSamples++;
                assertThat(lag.getAsDouble()).isBetween((double) RECORDS - after - BATCH, (double) RECORDS - before + BATCH);
            }
            long trained = service.trainer().stats().examples();
            long fetched = recordsConsumedByTheKafkaClient();
            maxAhead = Math.max(maxAhead, fetched - trained);
            maxBehind = Math.max(maxBehind, RECORDS - trained);
            long seen = trained;
            await().atMost(Duration.ofSeconds(30)).until(() -> service.trainer().stats().examples() > seen + 200
                    || service.trainer().stats().examples() == RECORDS);
        }
        assertThat(lagSamples).as("samples of streamtrain_model_lag_records").isGreaterThan(10);
        // the position is real: the client has fetched at least everything that was trained
        long trained = service.trainer().stats().examples();
        assertThat(recordsConsumedByTheKafkaClient()).isGreaterThanOrEqualTo(trained).isPositive();
        // the trainer was far behind the topic while we looked ...
        assertThat(maxBehind).isGreaterThan(5 * (BUFFER + POLLS_HELD * poll));
        // ... yet the client never held more than the buffers allow: the trainer's buffer, the mini-batch being
        // trained (and one more for the time between our two readings), and the polls the connector holds;
        // without back-pressure it would be most of the backlog
        assertThat(maxAhead).as("records fetched but not trained (trainer behind by up to %d)", maxBehind)
                .isPositive().isLessThanOrEqualTo(BUFFER + 2L * BATCH + (long) POLLS_HELD * poll);
    }

    @Test
    void theEngineAskedForByNameIsTheOneThatTrainsAndSaysSo() {
        assertThat(service.trainer().engine()).isEqualTo(EngineKind.DL4J);
        given().get("/v1/training/status").then().statusCode(200)
                .body("engine.name", equalTo("dl4j"))
                .body("engine", not(hasKey("fallback-reason")));
        assertThat(given().get("/q/metrics").then().statusCode(200).extract().asString())
                .contains("streamtrain_engine{engine=\"dl4j\",model=\"slow\"} 1.0")
                .contains("streamtrain_engine{engine=\"lean\",model=\"slow\"} 0.0");
    }

    /** streamtrain_model_lag_records of the examples topic's partition 0, if exported yet. */
    private static OptionalDouble modelLag() {
        String prefix = "streamtrain_model_lag_records{model=\"slow\",partition=\"" + KafkaBrokerResource.EXAMPLES + "-0\"} ";
        return given().get("/q/metrics").then().statusCode(200).extract().asString().lines()
                .filter(l -> l.startsWith(prefix)).mapToDouble(l -> Double.parseDouble(l.substring(prefix.length())))
                .findFirst();
    }

    /** The Kafka consumer's position: every record before it has been fetched from the broker. */
    private long recordsConsumedByTheKafkaClient() {
        TopicPartition partition = new TopicPartition(KafkaBrokerResource.EXAMPLES, 0);
        return kafkaClients.getConsumer("examples")
                .runOnPollingThread((java.util.function.Function<Consumer<Object, Object>, Long>) c -> c.position(partition))
                .await().atMost(Duration.ofSeconds(10));
    }
}
