package dev.streamtrain.soak;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

import dev.streamtrain.demo.DigitsDataset;

/**
 * Writes digits records to the examples topic at a fixed rate, one example each (keys {@code digit-<n>}), and every
 * {@code badEvery}-th record a bad one (key {@code bad-<n>}): alternately truncated JSON ({@code malformed}) and an
 * example of 3 features ({@code wrong-shape}). The keys say which is which when the topic is read back. An
 * idempotent producer with {@code acks=all}: a broker restart delays records, it neither loses nor doubles them.
 */
final class SoakProducer implements AutoCloseable {

    static final String BAD = "bad-";
    static final String GOOD = "digit-";

    private final KafkaProducer<byte[], byte[]> producer;
    private final String topic;
    private final DigitsDataset data;
    private final long period;
    private final int badEvery;
    private final AtomicLong acknowledged = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();
    private final AtomicReference<Exception> firstFailure = new AtomicReference<>();
    private final Thread sender;
    private volatile boolean running = true;

    SoakProducer(String bootstrapServers, String topic, DigitsDataset data, double rate, int badEvery) {
        this.producer = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                ProducerConfig.ACKS_CONFIG, "all", ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true,
                ProducerConfig.LINGER_MS_CONFIG, 5,
                // a broker restart must not outlast a record: ten minutes to be delivered
                ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 600_000, ProducerConfig.MAX_BLOCK_MS_CONFIG, 600_000),
                new ByteArraySerializer(), new ByteArraySerializer());
        this.topic = topic;
        this.data = data;
        this.period = (long) (1e9 / rate);
        this.badEvery = badEvery;
        this.sender = new Thread(this::send, "soak-producer");
        sender.setDaemon(true);
        sender.start();
    }

    long acknowledged() {
        return acknowledged.get();
    }

    long failed() {
        return failed.get();
    }

    Exception firstFailure() {
        return firstFailure.get();
    }

    private void send() {
        long n = 0;
        for (long due = System.nanoTime(); running; due += period, n++) {
            long wait = due - System.nanoTime();
            if (wait > 0) {
                LockSupport.parkNanos(wait);
            }
            boolean bad = n % badEvery == badEvery - 1;
            String key = (bad ? BAD : GOOD) + n;
            String value = !bad ? data.toJson((int) (n % data.size()))
                    : (n / badEvery) % 2 == 0 ? "{\"features\": [1, 2, 3" : "{\"features\": [1, 2, 3], \"label\": 1}";
            producer.send(new ProducerRecord<>(topic, key.getBytes(StandardCharsets.UTF_8),
                    value.getBytes(StandardCharsets.UTF_8)), (metadata, e) -> {
                        if (e == null) {
                            acknowledged.incrementAndGet();
                        } else {
                            failed.incrementAndGet();
                            firstFailure.compareAndSet(null, e);
                        }
                    });
        }
    }

    /** Stops sending and waits until every record sent is acknowledged (or has failed). */
    @Override
    public void close() {
        running = false;
        try {
            sender.join(30_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        producer.flush();
        producer.close();
    }
}
