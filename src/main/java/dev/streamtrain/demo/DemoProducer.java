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
    private final DigitsDataset data;
    private final DemoConfig config;
    private final long total;
    /** The records of the pass being sent; a pass is built when its first record is due, so memory holds one. */
    private List<byte[][]> pass = List.of();
    private int passIndex = -1;
    private int inPass;
    private long sent;

    DemoProducer(String bootstrapServers, String topic, DigitsDataset data, DemoConfig config) {
        this.producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                ProducerConfig.LINGER_MS_CONFIG, 5,
                ProducerConfig.ACKS_CONFIG, "all"), new ByteArraySerializer(), new ByteArraySerializer());
        this.topic = topic;
        this.data = data;
        this.config = config;
        this.total = (long) config.passes() * (data.size() + (config.badRecords() ? data.size() / 400 : 0));
    }

    /** One pass: a seeded shuffle of the digits with a bad record after every 400th when asked. */
    private List<byte[][]> pass(int index) {
        List<byte[][]> records = new ArrayList<>();
        int[] order = data.shuffledOrder(config.seed() + index);
        for (int i = 0; i < order.length; i++) {
            records.add(record("digit-" + order[i], data.toJson(order[i])));
            if (config.badRecords() && i % 400 == 399) {
                int bad = i / 400;
                records.add(record("bad-" + index + "-" + bad, BAD_RECORDS.get(bad % BAD_RECORDS.size())));
            }
        }
        return records;
    }

    private static byte[][] record(String key, String value) {
        return new byte[][] {key.getBytes(StandardCharsets.UTF_8), value.getBytes(StandardCharsets.UTF_8)};
    }

    /** Sends up to {@code count} more records; returns how many are sent so far. */
    long sendNext(int count) {
        for (int n = 0; n < count && sent < total; n++, sent++) {
            if (inPass == pass.size()) {
                pass = pass(++passIndex);
                inPass = 0;
            }
            byte[][] r = pass.get(inPass++);
            producer.send(new ProducerRecord<>(topic, r[0], r[1]));
        }
        producer.flush();
        return sent;
    }

    long total() {
        return total;
    }

    boolean done() {
        return sent == total;
    }

    @Override
    public void close() {
        producer.close();
    }
}
