package dev.streamtrain.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import dev.streamtrain.demo.DigitsDataset;
import dev.streamtrain.embedded.EmbeddedKafka;
import dev.streamtrain.model.spec.ModelSpec;
import dev.streamtrain.model.spec.ModelSpecParser;
import dev.streamtrain.support.Records;
import dev.streamtrain.support.S3ProxyServer;
import dev.streamtrain.support.ServiceProcess;
import dev.streamtrain.training.SavedTraining;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Exactly-once recovery of the packaged service, with a real broker and a real S3 API server: a run that is
 * killed hard (mid-step, mid-upload, right after a checkpoint) and restarted each time ends with the very
 * model, optimizer state and record counts of an uninterrupted run over the same records; corrupt
 * checkpoints are skipped with an event and the previous valid one is used, with the same final result.
 * Deterministic: one partition, one compute thread, mini-batches always full (records of 3 examples,
 * 32 a batch, a linger longer than the test; with the default linger, because linger cuts a short batch only at
 * the live edge, even when the replay is delivered slowly).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class CrashRecoveryIT {

    private static final String TOPIC = "crash.examples";
    private static final String BUCKET = "streamtrain";
    private static final int ROWS_PER_RECORD = 3;
    // 174 steps: not a multiple of the checkpoint interval, so the final checkpoint is the one SIGTERM writes
    private static final int RECORDS = 1856;
    private static final long FINAL_STEP = RECORDS * ROWS_PER_RECORD / 32;
    private static final int EVERY = 24;
    // the reference run gets the stream in 7 parts of one checkpoint interval each: 7 checkpoints, always
    private static final int RECORDS_PER_PART = EVERY * 32 / ROWS_PER_RECORD;
    private static final ObjectMapper JSON = new ObjectMapper();
    // the production-defaults scenario: its own topics, fed in three parts (48, 48, then 78 steps of records)
    private static final String EDGE_REFERENCE = "edge.reference";
    private static final String EDGE_CRASH = "edge.crash";
    private static final int PART_A = 512;
    private static final int PART_B = 1024;

    @TempDir
    static Path work;

    private static EmbeddedKafka broker;
    private static S3ProxyServer s3;
    private static Path spec;
    private static SavedTraining reference;
    private static List<String[]> records;

    @BeforeAll
    static void startBrokerAndStorage() throws IOException {
        broker = EmbeddedKafka.start();
        broker.createTopics(Map.of(TOPIC, 1, "crash.events", 1, "crash.dlq", 1, EDGE_REFERENCE, 1, EDGE_CRASH, 1));
        s3 = S3ProxyServer.start(Files.createDirectories(work.resolve("s3")));
        s3.createBucket(BUCKET);
        spec = work.resolve("crash.yaml");
        try (var in = CrashRecoveryIT.class.getResourceAsStream("/specs/crash.yaml")) {
            Files.write(spec, in.readAllBytes());
        }
        DigitsDataset data = DigitsDataset.load();
        records = new ArrayList<>();
        for (int r = 0; r < RECORDS; r++) {
            StringBuilder features = new StringBuilder();
            StringBuilder labels = new StringBuilder();
            for (int i = 0; i < ROWS_PER_RECORD; i++) {
                int row = (r * ROWS_PER_RECORD + i) % data.size();
                String one = data.toJson(row);
                features.append(i == 0 ? "" : ",").append(one, one.indexOf('['), one.indexOf(']') + 1);
                labels.append(i == 0 ? "" : ",").append(data.labels()[row]);
            }
            records.add(new String[] {"r" + r, "{\"features\":[" + features + "],\"labels\":[" + labels + "]}"});
        }
    }

    @AfterAll
    static void stop() {
        if (s3 != null) {
            s3.close();
        }
        if (broker != null) {
            broker.close();
        }
    }

    @Test
    @Order(1)
    void anUninterruptedRunTrainsEveryRecordOnceAndCheckpointsOnSigterm() throws Exception {
        try (ServiceProcess service = start("reference", "ref"); Records kafka = new Records(broker.bootstrapServers())) {
            for (int part = 1; part * RECORDS_PER_PART <= RECORDS; part++) {
                kafka.sendAll(TOPIC, records.subList((part - 1) * RECORDS_PER_PART, part * RECORDS_PER_PART));
                long step = (long) part * EVERY;
                awaitStatus(service, s -> s.path("checkpoint").path("last-step").asLong() == step);
            }
            kafka.sendAll(TOPIC, records.subList(RECORDS / RECORDS_PER_PART * RECORDS_PER_PART, RECORDS));
            awaitAllTrained(service);
            assertThat(service.terminate()).as("exit status after SIGTERM").isIn(0, 143);
        }
        reference = newest("ref");
        assertThat(reference.state().step()).isEqualTo(FINAL_STEP);
        assertThat(reference.state().recordsByPartition()).containsExactly(Map.entry(TOPIC + "-0", (long) RECORDS));
        assertThat(reference.state().position().next()).containsExactly(Map.entry(TOPIC + "-0", (long) RECORDS));
        // the final checkpoint was committed before the consumer closed
        assertThat(committed("ref")).isEqualTo(RECORDS);
    }

    @Test
    @Order(2)
    void killedMidStepMidUploadAndAfterACheckpointItEndsWithTheSameModel() throws Exception {
        // 1: mid-step, some steps after the first checkpoint
        try (ServiceProcess service = start("crash-1", "crash")) {
            awaitStatus(service, s -> s.path("checkpoint").path("last-step").asLong() >= EVERY
                    && s.path("step").asLong() >= EVERY + 10);
            service.kill();
        }
        // 2: mid-upload: the storage server freezes, so the next checkpoint's upload hangs, then the kill
        try (ServiceProcess service = start("crash-2", "crash")) {
            long restored = restoredStep(service);
            assertThat(restored).isGreaterThanOrEqualTo(EVERY);
            s3.pause();
            try {
                awaitStatus(service, s -> s.path("step").asLong() >= restored + EVERY + 5);
                service.kill();
            } finally {
                s3.resume();
            }
        }
        // 3: right after a checkpoint is durable, before its offsets are committed
        try (ServiceProcess service = start("crash-3", "crash")) {
            long restored = restoredStep(service);
            awaitStatus(service, s -> s.path("checkpoint").path("last-step").asLong() > restored);
            service.kill();
        }
        // 4: to the end, then a graceful stop
        try (ServiceProcess service = start("crash-4", "crash")) {
            assertThat(restoredStep(service)).isGreaterThan(EVERY);
            awaitAllTrained(service);
            assertThat(service.terminate()).as("exit status after SIGTERM").isIn(0, 143);
        }

        SavedTraining crashed = newest("crash");
        assertSameTraining(crashed, reference);
        assertThat(committed("crash")).isEqualTo(RECORDS);
        // the restores were published on the events topic, though they happen before the channels start
        Records.readUntil(broker.bootstrapServers(), "crash.events", read -> read.stream()
                .filter(r -> Records.text(r.value()).contains("\"type\":\"checkpoint-restored\"")).count() >= 3);
    }

    @Test
    @Order(3)
    void corruptCheckpointsAreSkippedAndThePreviousValidOneIsUsed() throws Exception {
        S3CheckpointStore store = new S3CheckpointStore(s3.client(), BUCKET, "ref");
        Checkpoints checkpoints = new Checkpoints(store);
        List<Long> steps = checkpoints.steps("crash");
        // keep = 5 besides the newest checkpoint marked best (the lowest held-out loss so far), which is kept
        // and not counted: six at most
        assertThat(steps.subList(0, 5)).containsExactly(174L, 168L, 144L, 120L, 96L);
        assertThat(steps.size()).isLessThanOrEqualTo(6);
        int best = 0;
        for (long step : steps) {
            best += checkpoints.manifest("crash", step).orElseThrow().best() ? 1 : 0;
        }
        assertThat(best).as("checkpoints marked best (the held-out loss fell during the run)").isPositive();
        String[] folders = steps.stream().map(step -> Checkpoints.folder("crash", step)).toArray(String[]::new);
        byte[] network = store.get(folders[0] + "network.zip").orElseThrow();
        network[network.length / 2] ^= 0x10;
        store.put(folders[0] + "network.zip", network);
        store.delete(folders[1] + Manifest.FILE_NAME);
        byte[] trainer = store.get(folders[2] + "trainer.json").orElseThrow();
        store.put(folders[2] + "trainer.json", java.util.Arrays.copyOf(trainer, trainer.length / 2));

        try (ServiceProcess service = start("corrupt", "ref")) {
            JsonNode events = status(service).path("events");
            Map<String, List<Long>> byType = new HashMap<>();
            events.forEach(e -> byType.computeIfAbsent(e.path("type").asText(), t -> new ArrayList<>())
                    .add(e.path("step").asLong()));
            assertThat(byType.get("checkpoint-skipped")).containsExactly(steps.get(0), steps.get(1), steps.get(2));
            assertThat(byType.get("checkpoint-restored")).containsExactly(steps.get(3));
            // it trains what the restored model had not seen, from the checkpoint's offsets, not the group's
            awaitAllTrained(service);
            assertThat(service.terminate()).as("exit status after SIGTERM").isIn(0, 143);
        }
        assertSameTraining(newest("ref"), reference);
    }

    /**
     * The production defaults (linger 100 ms, held-out rows, health monitors, good-state checkpoints) and a consumer
     * slowed after every restart so much that linger runs out in the middle of the backlog: kill -9 twice, an
     * operator's rollback in between, and the end is bit-identical to an uninterrupted run with the same rollback.
     * The stream comes in three parts so that the checkpoint rolled back to and the rollback itself happen at the
     * same steps in both runs (at the live edge, where the trainer is idle).
     */
    @Test
    @Order(4)
    void withProductionDefaultsASlowReplayAfterKillsAndARollbackEndsBitIdentical() throws Exception {
        SavedTraining uninterrupted;
        long checkpointA;
        try (ServiceProcess service = startEdge("edge-reference", EDGE_REFERENCE, false)) {
            checkpointA = partAThenCheckpoint(service, EDGE_REFERENCE);
            send(EDGE_REFERENCE, records.subList(PART_A, PART_B));
            awaitTrained(service, EDGE_REFERENCE, PART_B);
            rollBack(service, checkpointA);
            send(EDGE_REFERENCE, records.subList(PART_B, RECORDS));
            awaitTrained(service, EDGE_REFERENCE, RECORDS);
            assertThat(service.terminate()).as("exit status after SIGTERM").isIn(0, 143);
        }
        uninterrupted = newest(EDGE_REFERENCE);
        assertThat(uninterrupted.state().step()).as("174 steps and the rollback").isEqualTo(FINAL_STEP + 1);

        send(EDGE_CRASH, records.subList(0, PART_A));
        try (ServiceProcess service = startEdge("edge-crash-1", EDGE_CRASH, true)) {
            awaitStatus(service, s -> s.path("step").asLong() >= EVERY + 5);
            service.kill();
        }
        try (ServiceProcess service = startEdge("edge-crash-2", EDGE_CRASH, true)) {
            assertThat(partAThenCheckpoint(service, EDGE_CRASH)).isEqualTo(checkpointA);
            send(EDGE_CRASH, records.subList(PART_A, PART_B));
            awaitStatus(service, s -> s.path("step").asLong() >= checkpointA + EVERY + 5);
            service.kill();
        }
        try (ServiceProcess service = startEdge("edge-crash-3", EDGE_CRASH, true)) {
            awaitTrained(service, EDGE_CRASH, PART_B);
            rollBack(service, checkpointA);
            send(EDGE_CRASH, records.subList(PART_B, RECORDS));
            long rolledBack = status(service).path("step").asLong();
            awaitStatus(service, s -> s.path("step").asLong() >= rolledBack + EVERY + 5);
            service.kill();
        }
        try (ServiceProcess service = startEdge("edge-crash-4", EDGE_CRASH, true)) {
            awaitTrained(service, EDGE_CRASH, RECORDS);
            assertThat(service.terminate()).as("exit status after SIGTERM").isIn(0, 143);
        }
        SavedTraining crashed = newest(EDGE_CRASH);
        assertThat(crashed.state().step()).isEqualTo(uninterrupted.state().step());
        assertThat(crashed.state().recordsByPartition().values()).containsExactly((long) RECORDS);
        // the position is the next record's offset: past 1,856 records and the commit markers of three transactions
        assertThat(crashed.state().position().next().values()).containsExactly((long) RECORDS + 2);
        assertThat(crashed.state().prequential()).isEqualTo(uninterrupted.state().prequential());
        assertThat(crashed.state().holdout().examples()).isPositive();
        assertThat(crashed.state().holdout()).isEqualTo(uninterrupted.state().holdout());
        assertThat(crashed.state().health()).isEqualTo(uninterrupted.state().health());
        assertThat(maxAbsDifference(crashed.network().parameters(), uninterrupted.network().parameters()))
                .as("max |Δp| between the crashed and the uninterrupted run").isZero();
        assertThat(crashed.network().parameters()).containsExactly(uninterrupted.network().parameters());
        assertThat(crashed.network().optimizerState()).containsExactly(uninterrupted.network().optimizerState());
    }

    /** Trains part A (the topic gets it first if it has nothing yet), then checkpoints at the edge: its step. */
    private static long partAThenCheckpoint(ServiceProcess service, String topic) throws Exception {
        if (topic.equals(EDGE_REFERENCE)) {
            send(topic, records.subList(0, PART_A));
        }
        awaitTrained(service, topic, PART_A);
        long step = JSON.readTree(service.post("/v1/training/checkpoint", "{}", "it-token")).path("step").asLong();
        assertThat(step).as("the checkpoint at the edge holds all of part A").isEqualTo(PART_A * ROWS_PER_RECORD / 32);
        return step;
    }

    private static void rollBack(ServiceProcess service, long step) throws Exception {
        JsonNode answer = JSON.readTree(service.post("/v1/training/rollback?step=" + step, "{}", "it-token"));
        assertThat(answer.path("to-checkpoint").asLong()).isEqualTo(step);
    }

    private static ServiceProcess startEdge(String name, String topic, boolean slowed) throws IOException {
        Map<String, String> properties = new HashMap<>();
        properties.put("kafka.bootstrap.servers", broker.bootstrapServers());
        properties.put("mp.messaging.incoming.examples.topic", topic);
        properties.put("mp.messaging.incoming.examples.group.id", topic);
        properties.put("mp.messaging.incoming.examples.session.timeout.ms", "6000");
        properties.put("mp.messaging.incoming.examples.heartbeat.interval.ms", "1000");
        properties.put("mp.messaging.incoming.examples.dead-letter-queue.topic", "crash.dlq");
        properties.put("mp.messaging.outgoing.events.topic", "crash.events");
        properties.put("mp.messaging.incoming.examples.isolation.level", "read_committed");
        if (slowed) {
            // one record per fetch, each fetch held by the broker: a batch of 32 rows takes far longer than linger
            properties.put("mp.messaging.incoming.examples.max.poll.records", "1");
            properties.put("mp.messaging.incoming.examples.max.partition.fetch.bytes", "1");
            properties.put("mp.messaging.incoming.examples.fetch.max.bytes", "1");
            properties.put("mp.messaging.incoming.examples.fetch.min.bytes", "1048576");
            properties.put("mp.messaging.incoming.examples.fetch.max.wait.ms", "40");
        }
        properties.put("streamtrain.model.spec", spec.toString());
        properties.put("streamtrain.compute.threads", "1");
        properties.put("streamtrain.checkpoint.root", "s3://" + BUCKET + "/" + topic);
        properties.put("streamtrain.checkpoint.s3.endpoint", s3.endpoint());
        properties.put("streamtrain.checkpoint.s3.path-style", "true");
        properties.put("streamtrain.checkpoint.s3.region", "us-east-1");
        properties.put("streamtrain.checkpoint.every-steps", Integer.toString(EVERY));
        // the rollback's checkpoint must outlive retention
        properties.put("streamtrain.checkpoint.keep", "100");
        properties.put("streamtrain.admin.token", "it-token");
        return ServiceProcess.start(name, properties,
                Map.of("AWS_ACCESS_KEY_ID", s3.accessKey(), "AWS_SECRET_ACCESS_KEY", s3.secretKey()));
    }

    /**
     * One transaction (a read_committed consumer sees the part all at once, so a running trainer is never at the
     * live edge in the middle of it, and the part ends with a commit marker that is never delivered), every
     * record its own producer batch (a consumer fetching one batch at a time gets one record).
     */
    private static void send(String topic, List<String[]> keyValues) {
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers(), ProducerConfig.ACKS_CONFIG, "all",
                ProducerConfig.BATCH_SIZE_CONFIG, 1, ProducerConfig.TRANSACTIONAL_ID_CONFIG, topic + "-producer"),
                new ByteArraySerializer(), new ByteArraySerializer())) {
            producer.initTransactions();
            producer.beginTransaction();
            for (String[] kv : keyValues) {
                producer.send(new ProducerRecord<>(topic, kv[0].getBytes(StandardCharsets.UTF_8),
                        kv[1].getBytes(StandardCharsets.UTF_8)));
            }
            producer.commitTransaction();
        }
    }

    private static void awaitTrained(ServiceProcess service, String topic, long records) {
        awaitStatus(service, s -> s.path("records").path(topic + "-0").asLong() == records);
    }

    private static double maxAbsDifference(float[] a, float[] b) {
        assertThat(a).hasSameSizeAs(b);
        double max = 0;
        for (int i = 0; i < a.length; i++) {
            max = Math.max(max, Math.abs((double) a[i] - b[i]));
        }
        return max;
    }

    private static void assertSameTraining(SavedTraining actual, SavedTraining expected) {
        assertThat(actual.state().step()).isEqualTo(expected.state().step());
        assertThat(actual.state().recordsByPartition()).isEqualTo(expected.state().recordsByPartition());
        assertThat(actual.state().position()).isEqualTo(expected.state().position());
        // every example scored once: trained ones in the prequential figures, held-out ones (5 %) in their own
        assertThat(actual.state().holdout().examples()).isPositive();
        assertThat(actual.state().prequential().examples() + actual.state().holdout().examples())
                .isEqualTo((long) RECORDS * ROWS_PER_RECORD);
        assertThat(actual.state().holdout()).isEqualTo(expected.state().holdout());
        assertThat(actual.state().health()).isEqualTo(expected.state().health());
        assertThat(actual.network().parameters()).containsExactly(expected.network().parameters());
        assertThat(actual.network().optimizerState()).containsExactly(expected.network().optimizerState());
    }

    private static ServiceProcess start(String name, String run) throws IOException {
        Map<String, String> properties = new HashMap<>();
        properties.put("kafka.bootstrap.servers", broker.bootstrapServers());
        properties.put("mp.messaging.incoming.examples.topic", TOPIC);
        properties.put("mp.messaging.incoming.examples.group.id", run);
        // a member killed with -9 holds its partitions until its session times out (45 s by default)
        properties.put("mp.messaging.incoming.examples.session.timeout.ms", "6000");
        properties.put("mp.messaging.incoming.examples.heartbeat.interval.ms", "1000");
        properties.put("mp.messaging.incoming.examples.dead-letter-queue.topic", "crash.dlq");
        properties.put("mp.messaging.outgoing.events.topic", "crash.events");
        properties.put("streamtrain.model.spec", spec.toString());
        properties.put("streamtrain.compute.threads", "1");
        properties.put("streamtrain.training.linger", "1h");
        properties.put("streamtrain.checkpoint.root", "s3://" + BUCKET + "/" + run);
        properties.put("streamtrain.checkpoint.s3.endpoint", s3.endpoint());
        properties.put("streamtrain.checkpoint.s3.path-style", "true");
        properties.put("streamtrain.checkpoint.s3.region", "us-east-1");
        properties.put("streamtrain.checkpoint.every-steps", Integer.toString(EVERY));
        properties.put("streamtrain.checkpoint.interval", "1h");
        properties.put("streamtrain.checkpoint.keep", "5");
        properties.put("streamtrain.checkpoint.retry-backoff", "200ms");
        properties.put("streamtrain.checkpoint.retry-backoff-max", "1s");
        properties.put("streamtrain.admin.token", "it-token");
        return ServiceProcess.start(name, properties,
                Map.of("AWS_ACCESS_KEY_ID", s3.accessKey(), "AWS_SECRET_ACCESS_KEY", s3.secretKey()));
    }

    private static JsonNode status(ServiceProcess service) throws Exception {
        return JSON.readTree(service.get("/v1/training/status"));
    }

    /** The step of the checkpoint this process restored at start (-1 if none), from its events. */
    private static long restoredStep(ServiceProcess service) throws Exception {
        for (JsonNode event : status(service).path("events")) {
            if (event.path("type").asText().equals("checkpoint-restored")) {
                return event.path("step").asLong();
            }
        }
        return -1;
    }

    private static void awaitStatus(ServiceProcess service, java.util.function.Predicate<JsonNode> condition) {
        await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofMillis(20)).until(() -> {
            if (!service.isAlive()) {
                throw new IllegalStateException("the service died; its log ends:\n" + service.logTail());
            }
            return condition.test(status(service));
        });
    }

    private static void awaitAllTrained(ServiceProcess service) {
        awaitStatus(service, s -> s.path("records").path(TOPIC + "-0").asLong() == RECORDS);
    }

    private static SavedTraining newest(String run) throws IOException {
        ModelSpec model = ModelSpecParser.parse(Files.readString(spec, StandardCharsets.UTF_8));
        Checkpoints checkpoints = new Checkpoints(new S3CheckpointStore(s3.client(), BUCKET, run));
        Checkpoints.Loaded loaded = checkpoints.newestValid("crash", (step, reason) -> { }).orElseThrow();
        return CheckpointCodec.decode(loaded, model);
    }

    private static long committed(String group) {
        try (Records kafka = new Records(broker.bootstrapServers())) {
            return kafka.committed(group, TOPIC);
        }
    }
}
