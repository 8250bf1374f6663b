package dev.streamtrain.cluster;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import dev.streamtrain.checkpoint.CheckpointStore;
import dev.streamtrain.model.Network;

/**
 * The group's sync topic ({@value #TOPIC}, compacted, one partition): members publish their part of a round and read
 * everyone's. A record's key is {@code <model>/<member>} (compaction keeps each member's latest), its headers say the
 * generation, round, examples, steps and offsets, and its value is the replica — or, when the replica is larger than
 * {@code inlineLimit} bytes, empty, with a {@code replica-key} header naming an object in the checkpoint store under
 * {@code <model>/sync/<generation>/<round>/<member>.replica}. The reader is assigned the partition (it is not in
 * any group) and reads it from the beginning.
 */
public final class SyncTopic implements AutoCloseable {

    public static final String TOPIC = "streamtrain.sync";

    private final KafkaProducer<String, byte[]> producer;
    private final KafkaConsumer<String, byte[]> consumer;
    private final CheckpointStore store;
    private final int inlineLimit;

    /** {@code client} holds the Kafka client properties (bootstrap servers, security) for producer and reader. */
    public SyncTopic(Map<String, Object> client, CheckpointStore store, int inlineLimit) {
        this.store = store;
        this.inlineLimit = inlineLimit;
        Map<String, Object> producerConfig = new HashMap<>(client);
        producerConfig.put(ProducerConfig.ACKS_CONFIG, "all");
        producerConfig.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        producerConfig.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, Math.max(1 << 20, inlineLimit + (64 << 10)));
        this.producer = new KafkaProducer<>(producerConfig, new StringSerializer(), new ByteArraySerializer());
        Map<String, Object> consumerConfig = new HashMap<>(client);
        consumerConfig.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        consumerConfig.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        consumerConfig.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        this.consumer = new KafkaConsumer<>(consumerConfig, new StringDeserializer(), new ByteArrayDeserializer());
        TopicPartition partition = new TopicPartition(TOPIC, 0);
        consumer.assign(List.of(partition));
        consumer.seekToBeginning(List.of(partition));
    }

    /** Creates the compacted topic unless it exists. */
    public static void ensureTopic(Map<String, Object> client, short replication) {
        Map<String, Object> adminConfig = new HashMap<>(client);
        adminConfig.putIfAbsent(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 30_000);
        try (Admin admin = Admin.create(adminConfig)) {
            NewTopic topic = new NewTopic(TOPIC, 1, replication).configs(Map.of(
                    TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT));
            admin.createTopics(List.of(topic)).all().get(60, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            if (!(e.getCause() instanceof TopicExistsException)) {
                throw new IllegalStateException("could not create the sync topic " + TOPIC + ": " + e.getCause(), e);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while creating the sync topic", e);
        } catch (TimeoutException e) {
            throw new IllegalStateException("the broker did not create the sync topic " + TOPIC + " in 60 s", e);
        }
    }

    /** Publishes this member's part of a round and waits until the broker has it (and the store, if it went there). */
    public SyncMessage publish(String model, String member, int generation, long round, Map<String, Long> offsets,
                               long examples, int steps, Network.Replica replica) throws IOException {
        return publish(model, member, generation, round, offsets, examples, steps, 0, replica);
    }

    /** As above, with the member's trainer step. */
    public SyncMessage publish(String model, String member, int generation, long round, Map<String, Long> offsets,
                               long examples, int steps, long trainerStep, Network.Replica replica)
            throws IOException {
        byte[] bytes = ReplicaCodec.encode(replica);
        String replicaKey = null;
        byte[] value = bytes;
        if (bytes.length > inlineLimit) {
            replicaKey = model + "/sync/" + generation + "/" + round + "/" + member + ".replica";
            store.put(replicaKey, bytes);
            value = new byte[0];
        }
        ProducerRecord<String, byte[]> record = new ProducerRecord<>(TOPIC, 0, model + "/" + member, value);
        Headers headers = record.headers();
        header(headers, "generation", Integer.toString(generation));
        header(headers, "round", Long.toString(round));
        header(headers, "examples", Long.toString(examples));
        header(headers, "steps", Integer.toString(steps));
        header(headers, "offsets", encodeOffsets(offsets));
        header(headers, "trainer-step", Long.toString(trainerStep));
        if (replicaKey != null) {
            header(headers, "replica-key", replicaKey);
        }
        try {
            producer.send(record).get(60, TimeUnit.SECONDS);
        } catch (ExecutionException | TimeoutException e) {
            throw new IOException("could not publish round " + round + " of member " + member + " to " + TOPIC + ": "
                    + (e.getCause() != null ? e.getCause() : e), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while publishing to " + TOPIC, e);
        }
        return new SyncMessage(model, member, generation, round, offsets, examples, steps, trainerStep,
                replicaKey == null ? bytes : null, replicaKey);
    }

    /** The messages of {@code model} that arrived since the last call, waiting at most {@code timeout} for some. */
    public List<SyncMessage> poll(String model, Duration timeout) {
        List<SyncMessage> messages = new ArrayList<>();
        for (ConsumerRecord<String, byte[]> record : consumer.poll(timeout)) {
            String key = record.key();
            if (key == null || !key.startsWith(model + "/") || record.value() == null) {
                continue;
            }
            try {
                String replicaKey = text(record.headers(), "replica-key", null);
                messages.add(new SyncMessage(model, key.substring(model.length() + 1),
                        Integer.parseInt(text(record.headers(), "generation", "")),
                        Long.parseLong(text(record.headers(), "round", "")), decodeOffsets(text(record.headers(), "offsets", "")),
                        Long.parseLong(text(record.headers(), "examples", "")),
                        Integer.parseInt(text(record.headers(), "steps", "")),
                        Long.parseLong(text(record.headers(), "trainer-step", "0")),
                        replicaKey == null ? record.value() : null, replicaKey));
            } catch (RuntimeException e) {
                // not a member's message (another version, or written by hand): never a round's contribution
                continue;
            }
        }
        return messages;
    }

    /** The replica a message carries, read from the store when it is there. */
    public Network.Replica replica(SyncMessage message, int features) throws IOException {
        if (message.inlineReplica() != null) {
            return ReplicaCodec.decode(message.inlineReplica(), features);
        }
        byte[] bytes = store.get(message.replicaKey()).orElseThrow(() -> new IOException("the replica of member "
                + message.member() + " for round " + message.round() + " is not in the store at "
                + message.replicaKey()));
        return ReplicaCodec.decode(bytes, features);
    }

    @Override
    public void close() {
        try {
            producer.close(Duration.ofSeconds(5));
        } finally {
            consumer.close(Duration.ofSeconds(5));
        }
    }

    private static void header(Headers headers, String name, String value) {
        headers.add(name, value.getBytes(StandardCharsets.UTF_8));
    }

    private static String text(Headers headers, String name, String fallback) {
        Header header = headers.lastHeader(name);
        return header == null ? fallback : new String(header.value(), StandardCharsets.UTF_8);
    }

    /** {@code topic-partition=offset} pairs joined by commas (partition names cannot hold '=' or ','). */
    static String encodeOffsets(Map<String, Long> offsets) {
        StringBuilder out = new StringBuilder();
        for (Map.Entry<String, Long> e : new TreeMap<>(offsets).entrySet()) {
            if (out.length() > 0) {
                out.append(',');
            }
            out.append(e.getKey()).append('=').append(e.getValue());
        }
        return out.toString();
    }

    static Map<String, Long> decodeOffsets(String text) {
        Map<String, Long> offsets = new TreeMap<>();
        if (text.isEmpty()) {
            return offsets;
        }
        for (String pair : text.split(",")) {
            int eq = pair.lastIndexOf('=');
            offsets.put(pair.substring(0, eq), Long.parseLong(pair.substring(eq + 1)));
        }
        return offsets;
    }

}
