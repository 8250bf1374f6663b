package dev.streamtrain.demo;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import dev.streamtrain.support.KafkaBrokerResource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The demo producer builds each pass when its first record is due (a backlog of thousands of passes once held every
 * record in the heap for the service's life): the topic gets every pass, each a different seeded shuffle, with the
 * bad records in their places, and the producer counts them all.
 */
class DemoProducerTest {

    private static final KafkaBrokerResource BROKER = new KafkaBrokerResource();
    private static String bootstrap;

    @BeforeAll
    static void start() {
        bootstrap = BROKER.start().get("kafka.bootstrap.servers");
    }

    @AfterAll
    static void stop() {
        BROKER.stop();
    }

    @Test
    void sendsEveryPassInItsOwnShuffleWithTheBadRecordsInPlace() {
        DigitsDataset data = DigitsDataset.load();
        int passes = 3;
        List<String> expected = new ArrayList<>();
        for (int pass = 0; pass < passes; pass++) {
            int[] order = data.shuffledOrder(7 + pass);
            for (int i = 0; i < order.length; i++) {
                expected.add("digit-" + order[i]);
                if (i % 400 == 399) {
                    expected.add("bad-" + pass + "-" + i / 400);
                }
            }
        }
        try (DemoProducer producer = new DemoProducer(bootstrap, KafkaBrokerResource.EXAMPLES, data, config(passes))) {
            assertThat(producer.total()).isEqualTo(expected.size());
            while (!producer.done()) {
                producer.sendNext(1000); // slices that straddle the passes' ends
            }
            assertThat(producer.sendNext(1000)).isEqualTo(expected.size());
        }
        List<ConsumerRecord<byte[], byte[]>> records = readAll(expected.size());
        assertThat(records).extracting(r -> new String(r.key(), StandardCharsets.UTF_8)).isEqualTo(expected);
        int first = data.shuffledOrder(7)[0];
        assertThat(new String(records.get(0).value(), StandardCharsets.UTF_8)).isEqualTo(data.toJson(first));
        assertThat(expected.subList(0, 10)).isNotEqualTo(expected.subList(data.size() + 4, data.size() + 14));
    }

    private static List<ConsumerRecord<byte[], byte[]>> readAll(int count) {
        List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap, ConsumerConfig.GROUP_ID_CONFIG, "demo-producer-test",
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest"), new ByteArrayDeserializer(),
                new ByteArrayDeserializer())) {
            consumer.subscribe(List.of(KafkaBrokerResource.EXAMPLES));
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (records.size() < count && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(200)).forEach(records::add);
            }
        }
        return records;
    }

    private static DemoConfig config(int passes) {
        return new DemoConfig() {
            @Override
            public boolean enabled() {
                return true;
            }

            @Override
            public int passes() {
                return passes;
            }

            @Override
            public int rate() {
                return 0;
            }

            @Override
            public long seed() {
                return 7;
            }

            @Override
            public boolean badRecords() {
                return true;
            }

            @Override
            public Duration progressInterval() {
                return Duration.ofSeconds(2);
            }

            @Override
            public boolean exitAfterSummary() {
                return false;
            }
        };
    }
}
