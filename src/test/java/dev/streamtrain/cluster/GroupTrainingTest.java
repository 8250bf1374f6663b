package dev.streamtrain.cluster;

import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.RangeAssignor;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

import dev.streamtrain.checkpoint.FileCheckpointStore;
import dev.streamtrain.checkpoint.StoreCheckpointer;
import dev.streamtrain.demo.DigitsDataset;
import dev.streamtrain.embedded.EmbeddedKafka;
import dev.streamtrain.model.ComputeSettings;
import dev.streamtrain.model.Network;
import dev.streamtrain.model.spec.ModelSpec;
import dev.streamtrain.model.spec.ModelSpecParser;
import dev.streamtrain.support.TestRecord;
import dev.streamtrain.training.ExampleBatcher;
import dev.streamtrain.training.ExampleBlock;
import dev.streamtrain.training.OnlineTrainer;
import dev.streamtrain.training.SavedTraining;
import dev.streamtrain.training.ServedModel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Two trainers of one model, each with its own consumer of one consumer group, its own training thread and its own
 * sync-topic clients, on a real broker and a real checkpoint store, train the digits from a topic of 4 partitions:
 * the group assigns them two partitions each, the members average every 4 steps, and the checkpoint is the average
 * both hold, with the offsets of all four partitions. Then one member stops: the group rebalances, the other member
 * takes all four partitions from the group's last average and trains the rest of the stream. The last checkpoint
 * then holds every partition up to its end, and its normaliser has counted every example exactly once (a record
 * trained twice into the average would count twice; one lost, not at all).
 */
class GroupTrainingTest {

    private static final String SPEC = """
            name: digits
            inputs: 64
            task: classification
            outputs: 10
            normalize: true
            layers: [{dense: {units: 32}}]
            optimizer: {type: adam, learning-rate: 0.01}
            batch-size: 16
            seed: 7
            """;
    private static final String TOPIC = "group.examples";
    private static final int PARTITIONS = 4;
    private static final int PERIOD = 4;
    private static EmbeddedKafka broker;
    private static Map<String, Object> client;

    @TempDir
    Path storeRoot;

    @BeforeAll
    static void start() {
        ComputeSettings.apply(Optional.of(1), null);
        broker = EmbeddedKafka.start();
        client = Map.of(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        SyncTopic.ensureTopic(client, (short) 1);
        broker.createTopics(Map.of(TOPIC, PARTITIONS));
    }

    @AfterAll
    static void stop() {
        if (broker != null) {
            broker.close();
        }
    }

    @Test
    void twoMembersTrainOneAverageAndTheSurvivorTrainsEveryRecordOnce() throws Exception {
        DigitsDataset digits = DigitsDataset.load();
        ModelSpec spec = ModelSpecParser.parse(SPEC);
        FileCheckpointStore store = new FileCheckpointStore(storeRoot);
        int firstHalf = digits.size() / 2;
        try (StoreCheckpointer checkpoints = new StoreCheckpointer(store, spec, SPEC);
             KafkaProducer<byte[], byte[]> producer = producer()) {
            Member a = new Member("trainer-a", spec, digits, checkpoints, store);
            Member b = new Member("trainer-b", spec, digits, checkpoints, store);
            try {
                await().atMost(Duration.ofMinutes(2)).until(() -> a.status().members() == 2
                        && b.status().members() == 2 && a.status().generation() == b.status().generation());
                produce(producer, 0, firstHalf);

                // both trained: the newest checkpoint is an average of rounds both members took part in
                SavedTraining half = await().atMost(Duration.ofMinutes(3)).until(() -> newest(checkpoints),
                        saved -> saved != null && streamPosition(saved) == firstHalf);
                assertThat(half.state().position().next()).hasSize(PARTITIONS);
                assertThat(a.status().roundsComplete()).isGreaterThan(firstHalf / 16 / PERIOD / 2);
                assertThat(b.status().roundsComplete()).isGreaterThan(firstHalf / 16 / PERIOD / 2);
                // at rest the rounds go on with nothing new: both members hold the same average, and it is what the
                // checkpoint holds (parameters, optimizer state, normaliser)
                await().atMost(Duration.ofMinutes(1)).until(() -> sameBits(a.group.lastAverage(), b.group.lastAverage())
                        && a.group.lastAverage().normalizer().count() == firstHalf);
                Network.Replica checkpointed = newest(checkpoints).network().replica();
                assertThat(checkpointed.parameters()).isEqualTo(a.group.lastAverage().parameters());
                assertThat(checkpointed.optimizerState()).isEqualTo(a.group.lastAverage().optimizerState());
                assertThat(checkpointed.normalizer().count()).isEqualTo(firstHalf);
                int generationOfTwo = a.status().generation();

                b.close();
                produce(producer, firstHalf, digits.size());
                await().atMost(Duration.ofMinutes(2)).until(() -> a.status().members() == 1
                        && a.status().generation() > generationOfTwo);
                SavedTraining end = await().atMost(Duration.ofMinutes(3)).until(() -> newest(checkpoints),
                        saved -> saved != null && streamPosition(saved) == digits.size());
                Map<String, Long> expectedEnds = new TreeMap<>();
                for (int p = 0; p < PARTITIONS; p++) {
                    expectedEnds.put(TOPIC + "-" + p, (long) recordsOf(p, digits.size()));
                }
                assertThat(new TreeMap<>(end.state().position().next())).isEqualTo(expectedEnds);
                // every example counted once into the average that survives: none twice, none lost
                assertThat(end.network().replica().normalizer().count()).isEqualTo(digits.size());
            } finally {
                a.close();
                b.close();
            }
        }
    }

    private static boolean sameBits(Network.Replica x, Network.Replica y) {
        return x != null && y != null && java.util.Arrays.equals(x.parameters(), y.parameters())
                && java.util.Arrays.equals(x.optimizerState(), y.optimizerState())
                && x.normalizer().count() == y.normalizer().count();
    }

    private static SavedTraining newest(StoreCheckpointer checkpoints) throws Exception {
        return checkpoints.restoreNewest().orElse(null);
    }

    private static long streamPosition(SavedTraining saved) {
        return saved.state().position().next().values().stream().mapToLong(Long::longValue).sum();
    }

    private static int recordsOf(int partition, int rows) {
        return (rows - partition + PARTITIONS - 1) / PARTITIONS;
    }

    private static KafkaProducer<byte[], byte[]> producer() {
        Map<String, Object> config = new HashMap<>(client);
        config.put(ProducerConfig.ACKS_CONFIG, "all");
        return new KafkaProducer<>(config, new ByteArraySerializer(), new ByteArraySerializer());
    }

    /** Rows {@code from} (inclusive) to {@code to} as records holding the row's index, row i in partition i % 4. */
    private static void produce(KafkaProducer<byte[], byte[]> producer, int from, int to) throws Exception {
        for (int row = from; row < to; row++) {
            producer.send(new ProducerRecord<>(TOPIC, row % PARTITIONS, null,
                    ByteBuffer.allocate(4).putInt(row).array()));
        }
        producer.flush();
    }

    /** One trainer of the group: a consumer on its polling thread, a trainer on its training thread. */
    private static final class Member implements AutoCloseable {

        private final GroupMember group;
        private final OnlineTrainer trainer;
        private final ExampleBatcher batcher = new ExampleBatcher(4096);
        private final SyncTopic sync;
        private final Thread polling;
        private final Thread training;
        private volatile boolean stopping;
        private boolean closed;

        Member(String name, ModelSpec spec, DigitsDataset digits, StoreCheckpointer checkpoints,
               FileCheckpointStore store) throws Exception {
            Optional<SavedTraining> restored = checkpoints.restoreNewest();
            trainer = new OnlineTrainer(restored.map(SavedTraining::network).orElseGet(() -> new Network(spec)),
                    restored.map(SavedTraining::state).orElseGet(OnlineTrainer::freshState), batcher,
                    new ServedModel(), List.of(), new OnlineTrainer.Settings(Duration.ofMillis(5), 1000,
                    Duration.ofHours(1), 100, PERIOD, Duration.ofSeconds(1)), checkpoints);
            sync = new SyncTopic(client, store, 1 << 20);
            Duration roundTimeout = Duration.ofSeconds(20);
            group = new GroupMember(spec.name(), sync, spec.inputs(),
                    new GroupMember.Settings(PERIOD, roundTimeout, Duration.ofMillis(300)));
            trainer.trainInGroup(group);
            GroupRebalance rebalance = new GroupRebalance(group, Admin.create(client), roundTimeout.plusSeconds(10));
            training = new Thread(trainer, name + "-training");
            training.start();
            polling = new Thread(() -> poll(name, digits, rebalance), name + "-polling");
            polling.start();
        }

        GroupStatus status() {
            return group.status();
        }

        private void poll(String name, DigitsDataset digits, GroupRebalance rebalance) {
            Map<String, Object> config = new HashMap<>(client);
            config.put(ConsumerConfig.GROUP_ID_CONFIG, "trainers");
            config.put(ConsumerConfig.CLIENT_ID_CONFIG, name);
            config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
            config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
            config.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, 6000);
            config.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, 1000);
            config.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 64);
            config.put(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG, RangeAssignor.class.getName());
            boolean[] rejoin = {false};
            try (rebalance; KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(config,
                    new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
                consumer.subscribe(List.of(TOPIC), new ConsumerRebalanceListener() {
                    @Override
                    public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
                        rebalance.revoked();
                    }

                    @Override
                    public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
                        rejoin[0] = rebalance.assigned(consumer, partitions).isEmpty();
                    }
                });
                while (!stopping) {
                    if (rejoin[0] || group.rejoinRequested()) {
                        rejoin[0] = false;
                        consumer.enforceRebalance();
                    }
                    for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(100))) {
                        int row = ByteBuffer.wrap(record.value()).getInt();
                        float[] label = new float[DigitsDataset.CLASSES];
                        label[digits.labels()[row]] = 1f;
                        batcher.submit(new ExampleBlock(1, digits.features()[row].clone(), label, null,
                                new TestRecord(record.topic() + "-" + record.partition(), record.offset())));
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        @Override
        public void close() throws InterruptedException {
            if (closed) {
                return;
            }
            closed = true;
            // the consumer leaves the group first (the others rebalance at once), then training stops
            stopping = true;
            polling.join(TimeUnit.MINUTES.toMillis(1));
            trainer.stop();
            training.join(TimeUnit.MINUTES.toMillis(1));
            sync.close();
        }
    }
}
