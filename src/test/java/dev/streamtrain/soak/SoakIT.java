package dev.streamtrain.soak;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.Stream;

import dev.streamtrain.checkpoint.Checkpoints;
import dev.streamtrain.checkpoint.S3CheckpointStore;
import dev.streamtrain.demo.DigitsDataset;
import dev.streamtrain.loadtest.SteadyInference;
import dev.streamtrain.support.KafkaBrokerProcess;
import dev.streamtrain.support.Records;
import dev.streamtrain.support.S3ProxyServer;
import dev.streamtrain.support.ServiceProcess;
import dev.streamtrain.training.TrainerState;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The soak: the packaged service on its production defaults (checkpoints to S3 every minute, linger, held-out rows,
 * health monitors) trains from a steady stream of digits (300 records/s, 1 % of them bad) and answers a steady 25
 * REST and 25 gRPC inference requests/s for {@code -Dsoak.minutes} (30 by default, after 30 s of warm-up), while its
 * broker is restarted (at a third, down 20 s) and its object storage is down for a minute (at two thirds). Every
 * 10 s it samples RSS, heap, off-heap, GC time, training and checkpoint counts and inference latency into
 * {@code target/soak/soak.csv} (every third sample after a full collection, so that the heap read is the live heap),
 * drawn in {@code soak.svg} and summed up in {@code summary.md}.
 * <p>
 * At the end the producer stops, the trainer catches up, a graceful stop writes the final checkpoint, and the test
 * proves by offset that every record was trained exactly once or dead-lettered: the examples topic read back says
 * which offsets hold good records and which bad; the dead-letter topic holds each bad offset exactly once and no
 * good one; the final checkpoint's position is the topic's end, its record count is the number of good records, and
 * it scored (trained or held out) that many examples, one each. Memory must be flat after warm-up: over the second
 * half, the Theil–Sen slopes of heap after full GC, off-heap, classes ever loaded and RSS less the JIT's memory
 * (metaspace, code cache) stay under bounds a leak of a few hundred KB/min, or of a class a minute, would exceed; the
 * code cache may grow only while the JIT compiles. Run it with {@code ./mvnw -Psoak verify -Dsoak.minutes=30} (see docs/soak.md).
 */
@Tag("soak")
class SoakIT {

    private static final String EXAMPLES = "streamtrain.examples";
    private static final String DLQ = "streamtrain.examples.dlq";
    private static final String EVENTS = "streamtrain.events";
    private static final String PARTITION = EXAMPLES + "-0";
    private static final String BUCKET = "streamtrain";
    private static final double MINUTES = Double.parseDouble(System.getProperty("soak.minutes", "30"));
    private static final double RECORDS_PER_SECOND = 300;
    private static final int BAD_EVERY = 100;
    private static final double REQUESTS_PER_SECOND = 25;
    private static final Duration WARM_UP = Duration.ofSeconds(30);
    private static final Duration SAMPLE = Duration.ofSeconds(10);
    // the live heap varies by a few MiB from one full GC to the next (what is fetched, batched and in flight at that
    // moment): a reading every 30 s gives the second half of a 30-minute run 30 of them
    private static final int FULL_GC_EVERY = 3;
    private static final Duration BROKER_DOWN = Duration.ofSeconds(20);
    private static final Duration STORAGE_DOWN = Duration.ofSeconds(60);
    // bytes per minute over the second half: a leak of 300 KB/min (5 KB/s) fails each of them (the heap's: 30 readings
    // scattered by ±2.5 MiB over 15 minutes put the slope's standard error near 65 KiB/min)
    private static final double HEAP_SLOPE_BOUND = 200 * 1024;
    private static final double OFF_HEAP_SLOPE_BOUND = 128 * 1024;
    private static final double RSS_SLOPE_BOUND = 256 * 1024;
    // classes ever loaded per minute: a class loaded per request, per record or per checkpoint (one a minute) and
    // never unloaded, or loaded and unloaded over and over, exceeds it; a flat count has a slope of 0
    private static final double CLASS_SLOPE_BOUND = 1;
    private static final ObjectMapper JSON = new ObjectMapper()
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    private final Path dir = Path.of("target", "soak");
    private volatile String phase = "steady";

    @Test
    void trainsEveryRecordExactlyOnceOrDeadLettersItWithMemoryFlat() throws Exception {
        // the storage is down from two thirds for a minute, and a checkpoint must be durable after it while sampling
        assertThat(MINUTES).as("-Dsoak.minutes: long enough for a checkpoint after the storage outage").isGreaterThanOrEqualTo(5);
        reset(dir);
        List<SoakSample> samples = new ArrayList<>();
        String firstInferenceError = null;
        double total = MINUTES * 60;
        try (KafkaBrokerProcess broker = KafkaBrokerProcess.start(dir.resolve("broker"));
             S3ProxyServer s3 = S3ProxyServer.start(dir.resolve("s3"))) {
            broker.createTopics(Map.of(EXAMPLES, 1, DLQ, 1, EVENTS, 1));
            s3.createBucket(BUCKET);
            ExecutorService disruptions = Executors.newSingleThreadExecutor();
            try (ServiceProcess service = ServiceProcess.start("soak", properties(broker, s3),
                    Map.of("AWS_ACCESS_KEY_ID", s3.accessKey(), "AWS_SECRET_ACCESS_KEY", s3.secretKey(),
                            // which classes load late, and when: a class count that keeps growing names its culprit
                            "JDK_JAVA_OPTIONS", System.getenv().getOrDefault("JDK_JAVA_OPTIONS", "")
                                    + " -Xlog:class+load=info,class+unload=info:file="
                                    + dir.resolve("classes.log").toAbsolutePath() + ":uptime"))) {
                SoakProducer producer = new SoakProducer(broker.bootstrapServers(), EXAMPLES, DigitsDataset.load(),
                        RECORDS_PER_SECOND, BAD_EVERY);
                try (SteadyInference rest = SteadyInference.start(service.uri("").toString(), "rest", "digits",
                        DigitsDataset.FEATURES, REQUESTS_PER_SECOND);
                     SteadyInference grpc = SteadyInference.start(service.uri("").toString(), "grpc", "digits",
                             DigitsDataset.FEATURES, REQUESTS_PER_SECOND)) {
                    // a fresh JVM on two shared cores compiles for its first tens of seconds: not part of the soak
                    Thread.sleep(WARM_UP.toMillis());
                    SteadyInference.Window restWarmUp = rest.window();
                    SteadyInference.Window grpcWarmUp = grpc.window();
                    System.out.printf("warm-up: %d inference requests answered, %d failed (first: %s)%n",
                            restWarmUp.ok() + grpcWarmUp.ok(), restWarmUp.errors() + grpcWarmUp.errors(),
                            restWarmUp.firstError() != null ? restWarmUp.firstError() : grpcWarmUp.firstError());
                    SoakProbe probe = new SoakProbe(service, rest, grpc, producer::acknowledged, FULL_GC_EVERY);
                    Future<?> disrupted = disruptions.submit(() -> disrupt(probe, total, broker, s3));
                    Files.writeString(dir.resolve("soak.csv"), SoakSample.CSV_HEADER + "\n");
                    try {
                        for (long n = 1; n * SAMPLE.toSeconds() <= total; n++) {
                            long wait = (long) (n * SAMPLE.toMillis() - probe.elapsedSeconds() * 1000);
                            Thread.sleep(Math.max(0, wait));
                            assertThat(service.isAlive()).as("the service is alive; its log ends:\n%s",
                                    service.logTail()).isTrue();
                            SoakSample sample = probe.sample(phase);
                            samples.add(sample);
                            Files.writeString(dir.resolve("soak.csv"), sample.csv() + "\n", StandardOpenOption.APPEND);
                        }
                        disrupted.get(5, TimeUnit.MINUTES);
                    } finally {
                        disruptions.shutdownNow();
                        producer.close();
                        if (samples.size() > 1) {
                            SoakChart.write(samples, String.format(java.util.Locale.ROOT, "streamtrain soak, %.0f min",
                                    MINUTES), dir.resolve("soak.svg"));
                            SoakSummary.write(samples, (int) SAMPLE.toSeconds(), total >= 1200 ? 300 : 60,
                                    dir.resolve("summary.md"));
                        }
                    }
                    firstInferenceError = probe.firstInferenceError();
                }
                assertThat(producer.failed()).as("records the producer could not deliver: %s",
                        producer.firstFailure()).isZero();
                proveEveryRecordTrainedOnceOrDeadLettered(broker, s3, service, producer.acknowledged());
            }
        }
        assertDisruptionsHappenedAndWereSurvived(samples);
        assertMemoryFlat(samples.stream().filter(s -> s.seconds() >= total / 2).toList());
        long requests = samples.stream().mapToLong(s -> s.inferenceOk() + s.inferenceErrors()).sum();
        long errors = samples.stream().mapToLong(SoakSample::inferenceErrors).sum();
        assertThat(errors).as("inference errors of %d requests (at most 0.1 %%); the first: %s", requests,
                firstInferenceError).isLessThanOrEqualTo(requests / 1000);
    }

    /** The broker stopped at a third (down 20 s), the storage at two thirds (down 60 s); the phase names each. */
    private Void disrupt(SoakProbe probe, double total, KafkaBrokerProcess broker, S3ProxyServer s3)
            throws InterruptedException {
        Thread.sleep(Math.max(0, (long) (total / 3 * 1000 - probe.elapsedSeconds() * 1000)));
        phase = "broker down";
        broker.stop();
        Thread.sleep(BROKER_DOWN.toMillis());
        broker.restart();
        phase = "steady";
        Thread.sleep(Math.max(0, (long) (total * 2 / 3 * 1000 - probe.elapsedSeconds() * 1000)));
        phase = "storage down";
        s3.stop();
        Thread.sleep(STORAGE_DOWN.toMillis());
        s3.restart();
        phase = "steady";
        return null;
    }

    private void proveEveryRecordTrainedOnceOrDeadLettered(KafkaBrokerProcess broker, S3ProxyServer s3,
                                                           ServiceProcess service, long acknowledged) throws Exception {
        long end;
        try (Records kafka = new Records(broker.bootstrapServers())) {
            end = kafka.endOffset(EXAMPLES);
        }
        assertThat(end).as("records in the topic: each acknowledged one, once (idempotent producer)")
                .isEqualTo(acknowledged);
        TreeSet<Long> bad = new TreeSet<>();
        long[] good = {0};
        readAll(broker, EXAMPLES, end, r -> {
            if (Records.text(r.key()).startsWith(SoakProducer.BAD)) {
                bad.add(r.offset());
            } else {
                good[0]++;
            }
        });
        assertThat(good[0] + bad.size()).isEqualTo(end);

        await().atMost(Duration.ofMinutes(10)).pollInterval(Duration.ofSeconds(1)).until(() -> {
            assertThat(service.isAlive()).as("the service is alive; its log ends:\n%s", service.logTail()).isTrue();
            return JSON.readTree(service.get("/v1/training/status")).path("records").path(PARTITION).asLong() >= good[0];
        });
        long dlqEnd;
        try (Records kafka = new Records(broker.bootstrapServers())) {
            await().atMost(Duration.ofMinutes(2)).until(() -> kafka.endOffset(DLQ) >= bad.size());
            dlqEnd = kafka.endOffset(DLQ);
        }
        List<Long> deadLettered = new ArrayList<>();
        readAll(broker, DLQ, dlqEnd, r -> {
            assertThat(header(r, "dead-letter-topic")).isEqualTo(EXAMPLES);
            deadLettered.add(Long.parseLong(header(r, "dead-letter-offset")));
        });
        assertThat(deadLettered).as("dead-lettered offsets: each once").doesNotHaveDuplicates();
        assertThat(new TreeSet<>(deadLettered)).as("dead-lettered offsets: the bad records', no good one's")
                .isEqualTo(bad);

        assertThat(service.terminate()).as("exit status after SIGTERM").isIn(0, 143);
        TrainerState state = finalCheckpoint(s3);
        assertThat(state.position().next()).as("the final checkpoint's position: the topic's end")
                .containsExactly(Map.entry(PARTITION, end));
        assertThat(state.recordsByPartition()).as("records the final checkpoint trained: every good one, once")
                .containsExactly(Map.entry(PARTITION, good[0]));
        assertThat(state.prequential().examples() + state.holdout().examples())
                .as("examples scored (trained, or held out), one per good record").isEqualTo(good[0]);
        try (Records kafka = new Records(broker.bootstrapServers())) {
            assertThat(kafka.committed("streamtrain", EXAMPLES)).as("the group's committed offset").isEqualTo(end);
        }
        Files.writeString(dir.resolve("proof.txt"), String.format(java.util.Locale.ROOT,
                "records in the topic: %d (good %d, bad %d)%ndead-lettered: %d distinct offsets, the bad ones%n"
                        + "final checkpoint: step %d, position %d, records trained %d, examples trained %d + held out %d%n",
                end, good[0], bad.size(), deadLettered.size(), state.step(), state.position().next().get(PARTITION),
                state.recordsByPartition().get(PARTITION), state.prequential().examples(), state.holdout().examples()));
    }

    private static void assertDisruptionsHappenedAndWereSurvived(List<SoakSample> samples) {
        SoakSample last = samples.get(samples.size() - 1);
        assertThat(samples).as("samples taken while the broker was down").anyMatch(s -> s.phase().equals("broker down"));
        assertThat(last.checkpointsFailed()).as("checkpoint attempts that failed while the storage was down")
                .isPositive();
        int storageBack = 0;
        for (int i = 0; i < samples.size(); i++) {
            storageBack = samples.get(i).phase().equals("storage down") ? i + 1 : storageBack;
        }
        assertThat(storageBack).as("samples taken while the storage was down").isPositive();
        assertThat(last.checkpointsOk()).as("checkpoints written after the storage came back")
                .isGreaterThan(samples.get(storageBack - 1).checkpointsOk());
        assertThat(samples.stream().mapToLong(SoakSample::inferenceOk).sum()).as("inference requests answered")
                .isPositive();
    }

    /**
     * Flat after warm-up, over the second half: the live heap, off-heap and the count of classes ever loaded grow by
     * no more than a slow leak would; the resident set less what the JIT holds (metaspace and code cache, committed)
     * likewise. The JIT's own memory is judged apart: the code cache is bounded by its reserved size, and it may grow
     * only while the JIT still compiles (its compile time growing); the JIT's profiles of warm methods live in
     * metaspace, so metaspace grows with them while no class is loaded, and is reported, not bounded.
     */
    private void assertMemoryFlat(List<SoakSample> secondHalf) throws IOException {
        double[] minutes = secondHalf.stream().mapToDouble(SoakSample::minutes).toArray();
        List<SoakSample> gc = secondHalf.stream().filter(s -> !Double.isNaN(s.heapAfterGcBytes())).toList();
        double heap = Trend.slope(gc.stream().mapToDouble(SoakSample::minutes).toArray(),
                gc.stream().mapToDouble(SoakSample::heapAfterGcBytes).toArray());
        double offHeap = Trend.slope(minutes, column(secondHalf, SoakSample::offHeapBytes));
        double rss = Trend.slope(minutes, column(secondHalf, SoakSample::rssBytes));
        double rssBesidesJit = Trend.slope(minutes, column(secondHalf, s -> s.rssBytes()
                - s.jvm().metaspaceCommittedBytes() - s.jvm().codeCacheCommittedBytes()));
        double nonHeap = Trend.slope(minutes, column(secondHalf, SoakSample::nonHeapUsedBytes));
        double metaspace = Trend.slope(minutes, column(secondHalf, s -> s.jvm().metaspaceUsedBytes()));
        double codeCache = Trend.slope(minutes, column(secondHalf, s -> s.jvm().codeCacheUsedBytes()));
        double classes = Trend.slope(minutes, column(secondHalf, s -> s.jvm().classesEverLoaded()));
        double compile = Trend.slope(minutes, secondHalf.stream().mapToDouble(s -> s.jvm().compileSeconds()).toArray());
        JvmSample first = secondHalf.get(0).jvm();
        JvmSample last = secondHalf.get(secondHalf.size() - 1).jvm();
        Files.writeString(dir.resolve("memory.txt"), String.format(java.util.Locale.ROOT, "over the second half (%d samples),"
                + " KiB/min: heap after full GC %.1f (%d readings), off-heap %.1f, RSS %.1f, RSS less metaspace and"
                + " code cache %.1f, non-heap used %.1f, metaspace used %.1f, code cache used %.1f%n"
                + "classes ever loaded: %.2f/min (%d -> %d; loaded now %d -> %d, unloaded %d -> %d)%n"
                + "JIT compile time: %.2f s/min (%.1f -> %.1f s); code cache %d of %d KiB at the end%n",
                secondHalf.size(), heap / 1024, gc.size(), offHeap / 1024, rss / 1024, rssBesidesJit / 1024,
                nonHeap / 1024, metaspace / 1024, codeCache / 1024, classes, first.classesEverLoaded(),
                last.classesEverLoaded(), first.classesLoaded(), last.classesLoaded(), first.classesUnloaded(),
                last.classesUnloaded(), compile, first.compileSeconds(), last.compileSeconds(),
                last.codeCacheUsedBytes() / 1024, last.codeCacheMaxBytes() / 1024));
        assertThat(heap).as("heap after full GC, bytes/min over the second half").isLessThan(HEAP_SLOPE_BOUND);
        assertThat(offHeap).as("off-heap, bytes/min over the second half").isLessThan(OFF_HEAP_SLOPE_BOUND);
        assertThat(classes).as("classes ever loaded (loaded + unloaded), per minute over the second half")
                .isLessThan(CLASS_SLOPE_BOUND);
        assertThat(rssBesidesJit).as("RSS less metaspace and code cache (committed), bytes/min over the second half")
                .isLessThan(RSS_SLOPE_BOUND);
        assertThat(last.codeCacheUsedBytes()).as("code cache used, within its reserved size")
                .isLessThan(last.codeCacheMaxBytes());
        if (compile == 0) {
            assertThat(codeCache).as("code cache, bytes/min over a second half in which the JIT compiled nothing")
                    .isLessThan(OFF_HEAP_SLOPE_BOUND);
        }
    }

    private static double[] column(List<SoakSample> samples, java.util.function.ToDoubleFunction<SoakSample> value) {
        return samples.stream().mapToDouble(value).toArray();
    }

    /** The trainer state of the newest valid checkpoint in the store. */
    private static TrainerState finalCheckpoint(S3ProxyServer s3) throws IOException {
        try (S3CheckpointStore store = new S3CheckpointStore(s3.client(), BUCKET, "soak")) {
            Checkpoints.Loaded loaded = new Checkpoints(store).newestValid("digits", (step, reason) -> { })
                    .orElseThrow(() -> new AssertionError("no valid checkpoint in the store"));
            return JSON.readValue(loaded.files().get("trainer.json"), TrainerState.class);
        }
    }

    /** Reads partition 0 of the topic from its beginning to {@code end}. */
    private static void readAll(KafkaBrokerProcess broker, String topic, long end,
                                Consumer<ConsumerRecord<byte[], byte[]>> each) {
        TopicPartition partition = new TopicPartition(topic, 0);
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers(),
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false), new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            consumer.assign(List.of(partition));
            consumer.seekToBeginning(List.of(partition));
            long deadline = System.nanoTime() + Duration.ofMinutes(5).toNanos();
            while (consumer.position(partition) < end) {
                assertThat(System.nanoTime()).as("reading %s to offset %d within 5 minutes", topic, end)
                        .isLessThan(deadline);
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(500))) {
                    if (r.offset() < end) {
                        each.accept(r);
                    }
                }
            }
        }
    }

    private static String header(ConsumerRecord<byte[], byte[]> record, String name) {
        Header header = record.headers().lastHeader(name);
        return header == null ? null : new String(header.value(), StandardCharsets.UTF_8);
    }

    private static Map<String, String> properties(KafkaBrokerProcess broker, S3ProxyServer s3) {
        Map<String, String> properties = new HashMap<>();
        properties.put("kafka.bootstrap.servers", broker.bootstrapServers());
        properties.put("streamtrain.checkpoint.root", "s3://" + BUCKET + "/soak");
        properties.put("streamtrain.checkpoint.s3.endpoint", s3.endpoint());
        properties.put("streamtrain.checkpoint.s3.path-style", "true");
        properties.put("streamtrain.checkpoint.s3.region", "us-east-1");
        properties.put("streamtrain.admin.token", "soak-token");
        return properties;
    }

    private static void reset(Path dir) throws IOException {
        if (Files.exists(dir)) {
            try (Stream<Path> paths = Files.walk(dir)) {
                for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                    Files.delete(path);
                }
            }
        }
        Files.createDirectories(dir);
    }
}
