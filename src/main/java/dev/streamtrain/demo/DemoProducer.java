package dev.streamtrain.demo;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Writes the demo stream to the examples topic: each pass is a seeded shuffle of the digits, one JSON example
 * per record keyed by "digit-ROW", with a few bad records mixed in when asked. Sends in slices so the caller
 * can pace it.
 */
final class DemoProducer implements AutoCloseable {

    static final List<String> BAD_RECORDS = List.of(
            "{\"features\": [1, 2, 3",
            "{\"features\": [1, 2, 3], \"label\": 1}",
            "{\"features\": [" + "NaN," .repeat(63) + "NaN], \"label\": 1}",
            "{\"features\": [" + "0,".repeat(63) + "0], \"label\": 12}");

    private final KafkaProducer<byte[], byte[]> producer;
    private final String topic;
    private final List<byte[][]> records = new ArrayList<>();
    private int next;

    DemoProducer(String bootstrapServers, String topic, DigitsDataset data, DemoConfig config) {
        this.producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                ProducerConfig.LINGER_MS_CONFIG, 5,
                ProducerConfig.ACKS_CONFIG, "all"), new ByteArraySerializer(), new ByteArraySerializer());
        this.topic = topic;
        for (int pass = 0; pass < config.passes(); pass++) {
            int[] order = data.shuffledOrder(config.seed() + pass);
            for (int i = 0; i < order.length; i++) {
                records.add(record("digit-" + order[i], data.toJson(order[i])));
                if (config.badRecords() && i % 400 == 399) {
                    int bad = i / 400;
                    records.add(record("bad-" + pass + "-" + bad, BAD_RECORDS.get(bad % BAD_RECORDS.size())));
                }
            }
        }
    }

    private static byte[][] record(String key, String value) {
        return new byte[][] {key.getBytes(StandardCharsets.UTF_8), value.getBytes(StandardCharsets.UTF_8)};
    }

    /** Sends up to {@code count} more records; returns how many are sent so far. */
    int sendNext(int count) {
        int end = Math.min(records.size(), next + count);
        for (; next < end; next++) {
            byte[][] r = records.get(next);
            producer.send(new ProducerRecord<>(topic, r[0], r[1]));
        }
        producer.flush();
        return next;
    }

    int total() {
        return records.size();
    }

    boolean done() {
        return next == records.size();
    }

    @Override
    public void close() {
        producer.close();
    }
}
