package dev.streamtrain.ingest;

import jakarta.inject.Inject;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.equalTo;

import dev.streamtrain.demo.DigitsDataset;
import dev.streamtrain.support.KafkaBrokerResource;
import dev.streamtrain.support.SecuredKafkaBroker;
import dev.streamtrain.support.SecuredKafkaResource;
import dev.streamtrain.training.TrainerService;

/**
 * The service on a broker reachable only through secured listeners (SecuredKafkaResource): it trains every good
 * record and writes the bad one to the dead-letter topic through the same listener, and the broker refuses a client
 * without the credential. Subclasses choose the listener.
 */
abstract class SecuredKafkaContract {

    private static final int GOOD = 40;

    @Inject
    TrainerService service;

    /** Client properties of the listener the service uses, as the test's own producer and consumer use them. */
    abstract Map<String, Object> client();

    /** Client properties for the same listener with a wrong or missing credential. */
    abstract Map<String, Object> refusedClient();

    @Test
    void trainsFromTheSecuredListenerAndDeadLettersThroughIt() throws Exception {
        DigitsDataset data = DigitsDataset.load();
        Map<String, Object> producerConfig = new HashMap<>(client());
        producerConfig.put(ProducerConfig.ACKS_CONFIG, "all");
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(producerConfig, new ByteArraySerializer(),
                new ByteArraySerializer())) {
            for (int i = 0; i < GOOD; i++) {
                producer.send(record("digit-" + i, data.toJson(i)));
                if (i == GOOD / 2) {
                    producer.send(record("broken", "{\"features\": [1, 2"));
                }
            }
            producer.flush();
        }
        await().atMost(Duration.ofSeconds(120)).until(() -> service.trainer().stats().examples() == GOOD);

        List<ConsumerRecord<byte[], byte[]>> dead = readDeadLetters(1);
        assertThat(dead).hasSize(1);
        assertThat(text(dead.get(0).key())).isEqualTo("broken");
        assertThat(text(dead.get(0).headers().lastHeader("dead-letter-reason").value())).isEqualTo("malformed");
        given().get("/q/health/ready").then().statusCode(200).body("status", equalTo("UP"));
    }

    @Test
    void theBrokerRefusesAClientWithoutTheCredential() {
        try (Admin admin = Admin.create(refusedClient())) {
            assertThatThrownBy(() -> admin.listTopics().names().get(60, TimeUnit.SECONDS))
                    .isInstanceOf(ExecutionException.class)
                    .hasCauseInstanceOf(AuthenticationException.class);
        }
    }

    static SecuredKafkaBroker broker() {
        return SecuredKafkaResource.broker();
    }

    private static ProducerRecord<byte[], byte[]> record(String key, String value) {
        return new ProducerRecord<>(KafkaBrokerResource.EXAMPLES, key.getBytes(StandardCharsets.UTF_8),
                value.getBytes(StandardCharsets.UTF_8));
    }

    private List<ConsumerRecord<byte[], byte[]>> readDeadLetters(int expected) {
        Map<String, Object> config = new HashMap<>(client());
        config.put(ConsumerConfig.GROUP_ID_CONFIG, "dlq-reader-" + UUID.randomUUID());
        config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(config, new ByteArrayDeserializer(),
                new ByteArrayDeserializer())) {
            consumer.subscribe(List.of(KafkaBrokerResource.DLQ));
            await().atMost(Duration.ofSeconds(60)).until(() -> {
                consumer.poll(Duration.ofMillis(500)).forEach(records::add);
                return records.size() >= expected;
            });
        }
        return records;
    }

    private static String text(byte[] bytes) {
        return new String(bytes, StandardCharsets.UTF_8);
    }
}
