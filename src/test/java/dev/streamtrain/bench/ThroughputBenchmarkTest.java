package dev.streamtrain.bench;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

import dev.streamtrain.checkpoint.Checkpoints;
import dev.streamtrain.checkpoint.FileCheckpointStore;
import dev.streamtrain.demo.DigitsDataset;
import dev.streamtrain.ingest.ExampleDecoder;
import dev.streamtrain.model.Capture;
import dev.streamtrain.model.MiniBatch;
import dev.streamtrain.model.spec.ModelSpec;
import dev.streamtrain.model.Network;
import dev.streamtrain.support.KafkaBrokerResource;
import dev.streamtrain.support.Records;
import dev.streamtrain.support.TestRecord;
import dev.streamtrain.training.ExampleBatcher;
import dev.streamtrain.training.ExampleBlock;
import dev.streamtrain.training.OnlineTrainer;
import dev.streamtrain.training.RecordHandle;
import dev.streamtrain.training.ServedModel;
import dev.streamtrain.training.TrainerService;
import dev.streamtrain.training.TrainingEvents;
import dev.streamtrain.training.health.HealthSettings;
import dev.streamtrain.training.health.TrainingHealth;
import dev.streamtrain.support.Measure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Throughput benchmark, one spec per run ({@code -Dbench.spec=digits|S|M|W}): (a) in-memory test-then-train
 * throughput of the trainer, (b) end-to-end throughput of the running service from a backlog of JSON records
 * (one example each) in the embedded broker, and (b)/(a). Steady state only: both are measured after a
 * warm-up, as the median of several windows, with the CPU time per example of the training thread and of the rest
 * of the process ({@code -Dbench.throughput-only=true} stops there; otherwise the monitors' and a checkpoint's
 * costs follow). Not a test of speed: it asserts only that it measured.
 */
@Tag("benchmark")
@QuarkusTest
@TestProfile(BenchmarkProfile.class)
@QuarkusTestResource(value = KafkaBrokerResource.class, restrictToAnnotatedClass = true)
class ThroughputBenchmarkTest {

    private static final Logger LOG = Logger.getLogger(ThroughputBenchmarkTest.class);
    private static final Duration WARMUP = Duration.ofSeconds(Long.getLong("bench.warmup", 40));
    private static final long MAX_BACKLOG_BYTES = Long.getLong("bench.max-backlog-bytes", 1_500_000_000L);
    /** The rate the backlog is sized for at least (examples/s), whatever (a) measured. */
    private static final long MIN_RATE = Long.getLong("bench.min-rate", 25_000);
    private static final Duration WINDOW = Duration.ofSeconds(Long.getLong("bench.window", 5));
    private static final int WINDOWS = Integer.getInteger("bench.windows", 5);
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    @Inject
    TrainerService service;

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrapServers;

    @Test
    void measure() throws Exception {
        ModelSpec spec = service.modelSpec();
        List<ExampleBlock> pool = examples(spec);
        List<String[]> json = jsonRecords(spec, 5000);
        double decode = decodeThroughput(spec, json);
        double inMemory = inMemoryThroughput(spec, pool);
        double endToEnd = endToEndThroughput(spec, inMemory, json);
        String line = String.format("| %s | %d | %d | %,.0f | %,.0f | %.2f | %,.0f |", BenchmarkProfile.specName(),
                spec.batchSize(), service.computeThreads(), inMemory, endToEnd,
                endToEnd / inMemory, decode);
        LOG.infof("benchmark (spec | batch | threads | in-memory ex/s | end-to-end ex/s | ratio | decode records/s): %s",
                line);
        Path out = Path.of("target", "benchmark-results.md");
        Files.writeString(out, line + System.lineSeparator(), StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        assertThat(inMemory).isPositive();
        assertThat(endToEnd).isPositive();
        if (Boolean.getBoolean("bench.throughput-only")) {
            return;
        }
        String monitors = monitorOverhead(spec, pool);
        LOG.infof("monitors (spec | off ex/s | on ex/s | overhead | non-finite guard per step): %s", monitors);
        Files.writeString(out, monitors + System.lineSeparator(), StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        String checkpoint = checkpointCost(spec, pool);
        LOG.infof("checkpoint (spec | parameters | MB | training-thread stall ms | serialise ms | write ms): %s",
                checkpoint);
        Files.writeString(out, checkpoint + System.lineSeparator(), StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }

    /** Decoding alone, one thread: the ceiling of the JSON ingest path. */
    private static double decodeThroughput(ModelSpec spec, List<String[]> json) {
        ExampleDecoder decoder = new ExampleDecoder(spec, 1 << 20, 4096);
        List<byte[]> values = json.stream().map(kv -> Records.bytes(kv[1])).toList();
        long count = 0;
        long start = System.nanoTime();
        long end = start + WINDOW.toNanos();
        while (System.nanoTime() < end) {
            decoder.decode(values.get((int) (count++ % values.size())), null);
        }
        return count / ((System.nanoTime() - start) / 1e9);
    }

    /** (a): the trainer alone, fed from memory through the same batcher, on this thread. */
    private double inMemoryThroughput(ModelSpec spec, List<ExampleBlock> pool) throws InterruptedException {
        ExampleBatcher batcher = new ExampleBatcher(spec.batchSize() * 4);
        OnlineTrainer trainer = new OnlineTrainer(new Network(spec), OnlineTrainer.freshState(), batcher, new ServedModel(),
                List.of(), new OnlineTrainer.Settings(Duration.ZERO, 1000, Duration.ofMinutes(10), 1000,
                        0, Duration.ofHours(1)), null);
        int next = 0;
        double[] rates = new double[WINDOWS];
        double[] cpu = new double[WINDOWS];
        long warmupEnd = System.nanoTime() + WARMUP.toNanos();
        for (int w = -1; w < WINDOWS; w++) {
            long start = System.nanoTime();
            long startCpu = THREADS.getCurrentThreadCpuTime();
            long end = w < 0 ? warmupEnd : start + WINDOW.toNanos();
            long examples = 0;
            while (System.nanoTime() < end) {
                ExampleBlock block = pool.get(next++ % pool.size());
                batcher.submit(block);
                trainer.trainOnce(0);
                examples += block.count();
            }
            if (w >= 0) {
                rates[w] = examples / ((System.nanoTime() - start) / 1e9);
                cpu[w] = (THREADS.getCurrentThreadCpuTime() - startCpu) / 1e3 / examples;
            }
        }
        LOG.infof("in-memory windows (ex/s): %s", Arrays.toString(rates));
        LOG.infof("in-memory CPU per example (us, median of windows): %.2f", Measure.median(cpu));
        return Measure.median(rates);
    }

    /**
     * The cost of the health monitors: two trainers on the same data, one with the default monitors (per-layer
     * sampling every 10 steps, ADWIN on every example, held-out scoring) and one with sampling and drift
     * detection off, measured in alternating windows so that both see the same machine. The non-finite guard
     * (one sum over the parameters a step) is in both: it cannot be switched off.
     */
    private static String monitorOverhead(ModelSpec spec, List<ExampleBlock> pool) throws InterruptedException {
        HealthSettings on = HealthSettings.defaults();
        HealthSettings off = new HealthSettings(0, on.goodStateEverySteps(), on.gradients(), on.backoffFactor(),
                on.minLearningRateScale(), on.holdoutHalfLife(), on.overfitting(), new HealthSettings.Drift("none",
                0.002, 30, 0.005, 50, 0.9999, "none", 1, 1, 100));
        ExampleBatcher[] batchers = {new ExampleBatcher(spec.batchSize() * 4), new ExampleBatcher(spec.batchSize() * 4)};
        OnlineTrainer[] trainers = new OnlineTrainer[2];
        for (int t = 0; t < 2; t++) {
            trainers[t] = new OnlineTrainer(new Network(spec), OnlineTrainer.freshState(), batchers[t],
                    new ServedModel(), List.of(), new OnlineTrainer.Settings(Duration.ZERO, 1000,
                    Duration.ofMinutes(10), 1000, 0, Duration.ofHours(1)), null,
                    new TrainingHealth(t == 0 ? off : on, TrainingEvents.NONE));
        }
        int[] next = new int[2];
        double[][] rates = new double[2][WINDOWS * 2];
        long warmUntil = System.nanoTime() + WARMUP.toNanos();
        while (System.nanoTime() < warmUntil) {
            for (int t = 0; t < 2; t++) {
                batchers[t].submit(pool.get(next[t]++ % pool.size()));
                trainers[t].trainOnce(0);
            }
        }
        for (int w = 0; w < WINDOWS * 2; w++) {
            for (int t = 0; t < 2; t++) {
                long start = System.nanoTime();
                long end = start + WINDOW.toNanos() / 2;
                long examples = 0;
                while (System.nanoTime() < end) {
                    batchers[t].submit(pool.get(next[t]++ % pool.size()));
                    trainers[t].trainOnce(0);
                    examples += spec.batchSize();
                }
                rates[t][w] = examples / ((System.nanoTime() - start) / 1e9);
            }
        }
        double offRate = Measure.median(rates[0]);
        double onRate = Measure.median(rates[1]);
        // the guard both have: one pass over the parameters a step
        Network network = new Network(spec);
        double[] guard = new double[201];
        for (int i = 0; i < guard.length; i++) {
            long start = System.nanoTime();
            assertThat(network.parametersFinite()).isTrue();
            guard[i] = (System.nanoTime() - start) / 1e6;
        }
        double stepMs = 1000.0 * spec.batchSize() / offRate;
        return String.format("| %s | %,.0f | %,.0f | %.1f %% | %.3f ms (%.1f %% of a step) |",
                BenchmarkProfile.specName(), offRate, onRate, 100 * (offRate - onRate) / offRate, Measure.median(guard),
                100 * Measure.median(guard) / stepMs);
    }

    /** (b): the running service trains a backlog of one-example JSON records from the broker. */
    private double endToEndThroughput(ModelSpec spec, double expectedRate, List<String[]> json) {
        // the JIT is warm from (a): a shorter warm-up, and a backlog that outlasts the measurement
        Duration warmup = WARMUP.dividedBy(2);
        long seconds = warmup.toSeconds() + WINDOW.toSeconds() * WINDOWS + 20;
        long recordBytes = json.get(0)[1].length();
        // at least bench.min-rate: on a shared machine (a) may have run in a slow spell, and a backlog trained out
        // before the last window ends measures nothing
        int records = (int) Math.min(MAX_BACKLOG_BYTES / recordBytes, Math.max(expectedRate, MIN_RATE) * seconds * 2);
        long before = service.trainer().stats().examples();
        try (Records kafka = new Records(bootstrapServers)) {
            for (int sent = 0; sent < records; sent += json.size()) {
                kafka.sendAll(KafkaBrokerResource.EXAMPLES, json.subList(0, Math.min(json.size(), records - sent)));
            }
        }
        await().atMost(Duration.ofMinutes(2)).until(() -> service.trainer().stats().examples() > before);
        long warmupEnd = System.nanoTime() + warmup.toNanos();
        await().atMost(warmup.plusSeconds(5)).until(() -> System.nanoTime() >= warmupEnd);
        double[] rates = new double[WINDOWS];
        double[] trainerCpu = new double[WINDOWS];
        double[] restCpu = new double[WINDOWS];
        long trainerThread = threadNamed("streamtrain-trainer");
        Map<String, Long> threadCpu = new TreeMap<>();
        long measured = 0;
        for (int w = 0; w < WINDOWS; w++) {
            long start = System.nanoTime();
            long from = service.trainer().stats().examples();
            Map<Long, Long> threadsFrom = threadCpuNanos();
            long processFrom = processCpuNanos();
            long trainerFrom = THREADS.getThreadCpuTime(trainerThread);
            await().atMost(WINDOW.plusSeconds(5)).pollInterval(Duration.ofMillis(20))
                    .until(() -> System.nanoTime() - start >= WINDOW.toNanos());
            long to = service.trainer().stats().examples();
            long trainer = THREADS.getThreadCpuTime(trainerThread) - trainerFrom;
            long process = processCpuNanos() - processFrom;
            addThreadCpu(threadCpu, threadsFrom, threadCpuNanos());
            measured += to - from;
            assertThat(to - before).as("the backlog lasted the whole measurement").isLessThan(records);
            rates[w] = (to - from) / ((System.nanoTime() - start) / 1e9);
            trainerCpu[w] = trainer / 1e3 / (to - from);
            restCpu[w] = (process - trainer) / 1e3 / (to - from);
        }
        LOG.infof("end-to-end windows (ex/s): %s", Arrays.toString(rates));
        // CPU time per example holds up under a loaded machine far better than examples per second: the rest of
        // the process is ingest (consumer, decode, hand-off), the embedded broker and the JVM's own threads
        LOG.infof("end-to-end CPU per example (us, medians of windows): training thread %.2f, rest of the process"
                + " %.2f", Measure.median(trainerCpu), Measure.median(restCpu));
        StringBuilder table = new StringBuilder();
        long examples = measured;
        threadCpu.entrySet().stream().sorted(Map.Entry.<String, Long>comparingByValue().reversed())
                .forEach(e -> table.append(String.format("%n| %s | %.2f |", e.getKey(), e.getValue() / 1e3 / examples)));
        LOG.infof("end-to-end CPU per example by thread (us, all windows):%s", table);
        return Measure.median(rates);
    }

    /** CPU time of every live thread, by thread id. */
    private static Map<Long, Long> threadCpuNanos() {
        Map<Long, Long> cpu = new HashMap<>();
        for (long id : THREADS.getAllThreadIds()) {
            long nanos = THREADS.getThreadCpuTime(id);
            if (nanos >= 0) {
                cpu.put(id, nanos);
            }
        }
        return cpu;
    }

    /**
     * Adds each thread's CPU time between the two snapshots to {@code byRole}, under its name with the numbers
     * left out (a pool's threads are one role); a thread that started in between counts from 0.
     */
    private static void addThreadCpu(Map<String, Long> byRole, Map<Long, Long> from, Map<Long, Long> to) {
        to.forEach((id, nanos) -> {
            ThreadInfo info = THREADS.getThreadInfo(id);
            if (info != null) {
                String role = info.getThreadName().replaceAll("[0-9]+", "N");
                byRole.merge(role, nanos - from.getOrDefault(id, 0L), Long::sum);
            }
        });
    }

    private static long threadNamed(String name) {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().equals(name)).findFirst()
                .orElseThrow(() -> new IllegalStateException("no thread " + name)).getId();
    }

    private static long processCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime();
    }

    /**
     * What a checkpoint costs: the stall of the training thread (the copy of the arrays), and, off it, the
     * serialisation and the write to a local filesystem store; medians of 15, after 5 unmeasured.
     */
    private static String checkpointCost(ModelSpec spec, List<ExampleBlock> pool) throws Exception {
        Network network = new Network(spec);
        MiniBatchFeed feed = new MiniBatchFeed(spec, pool);
        Path root = Files.createTempDirectory("bench-checkpoints");
        Checkpoints checkpoints = new Checkpoints(new FileCheckpointStore(root));
        double[] stall = new double[15];
        double[] serialise = new double[15];
        double[] write = new double[15];
        long bytes = 0;
        for (int i = -5; i < 15; i++) {
            network.trainStep(feed.next());
            long t0 = System.nanoTime();
            Network.State state;
            try (Capture capture = network.capture()) {
                long t1 = System.nanoTime();
                state = capture.serialize();
                long t2 = System.nanoTime();
                checkpoints.write(spec.name(), i + 5, Map.of("network.zip", state.graph(), "normalizer.bin",
                        state.normalizer()), Map.of(), Map.of(), false);
                long t3 = System.nanoTime();
                if (i >= 0) {
                    stall[i] = (t1 - t0) / 1e6;
                    serialise[i] = (t2 - t1) / 1e6;
                    write[i] = (t3 - t2) / 1e6;
                }
            }
            bytes = state.graph().length + state.normalizer().length;
        }
        return String.format("| %s | %,d | %.1f | %.2f | %.1f | %.1f |", BenchmarkProfile.specName(),
                network.parameterCount(), bytes / 1e6, Measure.median(stall), Measure.median(serialise), Measure.median(write));
    }

    /** Mini-batches of the spec's size cut from the example pool, round and round. */
    private static final class MiniBatchFeed {
        private final List<ExampleBlock> pool;
        private final MiniBatch batch;
        private int next;

        MiniBatchFeed(ModelSpec spec, List<ExampleBlock> pool) {
            this.pool = pool;
            this.batch = new MiniBatch(spec.batchSize(), spec.inputs(), spec.labelWidth());
        }

        MiniBatch next() {
            batch.clear();
            ExampleBlock block = pool.get(next++ % pool.size());
            for (int r = 0; r < block.count() && !batch.isFull(); r++) {
                batch.add(block.features(), block.labels(), block.weight(r), r);
            }
            return batch;
        }
    }

    private static List<ExampleBlock> examples(ModelSpec spec) {
        List<ExampleBlock> pool = new ArrayList<>();
        Random random = new Random(1);
        RecordHandle none = new TestRecord(0);
        for (int b = 0; b < 64; b++) {
            int n = spec.batchSize();
            float[] x = new float[n * spec.inputs()];
            float[] y = new float[n * spec.outputs()];
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < spec.inputs(); j++) {
                    x[i * spec.inputs() + j] = (float) random.nextGaussian();
                }
                y[i * spec.outputs() + random.nextInt(spec.outputs())] = 1f;
            }
            pool.add(new ExampleBlock(n, x, y, null, none));
        }
        return pool;
    }

    private static List<String[]> jsonRecords(ModelSpec spec, int count) {
        List<String[]> records = new ArrayList<>();
        if (spec.inputs() == DigitsDataset.FEATURES && spec.name().equals("digits")) {
            DigitsDataset data = DigitsDataset.load();
            for (int i = 0; i < count; i++) {
                int row = i % data.size();
                records.add(new String[] {"digit-" + row, data.toJson(row)});
            }
            return records;
        }
        Random random = new Random(2);
        for (int i = 0; i < count; i++) {
            StringBuilder json = new StringBuilder("{\"features\":[");
            for (int j = 0; j < spec.inputs(); j++) {
                json.append(j == 0 ? "" : ",").append(String.format("%.4f", random.nextGaussian()));
            }
            records.add(new String[] {"r" + i, json.append("],\"label\":").append(random.nextInt(spec.outputs())).append('}').toString()});
        }
        return records;
    }
}
