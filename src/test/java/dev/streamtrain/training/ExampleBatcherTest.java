package dev.streamtrain.training;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.streamtrain.model.FeatureRange;
import dev.streamtrain.model.MiniBatch;
import dev.streamtrain.model.OnlineNormalizer;
import dev.streamtrain.support.TestRecord;

/** Records of any size are re-batched in order into full mini-batches, with lingering, back-pressure and completion. */
class ExampleBatcherTest {

    private static final long LONG_WAIT = TimeUnit.SECONDS.toNanos(30);
    private static final long SHORT = TimeUnit.MILLISECONDS.toNanos(20);

    private final ExecutorService executor = Executors.newCachedThreadPool();

    @AfterEach
    void stopThreads() throws InterruptedException {
        executor.shutdownNow();
        assertThat(executor.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
    }

    /** One example per row: feature {@code record * 100 + row}, label the negated feature, weight row + 1. */
    private static ExampleBlock block(int record, int rows) {
        float[] x = new float[rows];
        float[] y = new float[rows];
        float[] w = new float[rows];
        for (int r = 0; r < rows; r++) {
            x[r] = record * 100 + r;
            y[r] = -x[r];
            w[r] = r + 1;
        }
        return new ExampleBlock(rows, x, y, w, new TestRecord(record));
    }

    private static float[] rows(MiniBatch batch) {
        float[] x = new float[batch.size()];
        System.arraycopy(batch.features(), 0, x, 0, batch.size());
        return x;
    }

    @Test
    void recordsOfVaryingSizesAreRebatchedInOrderAndCompletedWithTheirLastExample() throws InterruptedException {
        ExampleBatcher batcher = new ExampleBatcher(100);
        batcher.submit(block(1, 3));
        batcher.submit(block(2, 1));
        batcher.submit(block(3, 5));
        batcher.submit(block(4, 2));
        assertThat(batcher.queued()).isEqualTo(11);
        MiniBatch batch = new MiniBatch(4, 1, 1);
        List<RecordHandle> completed = new ArrayList<>();

        batcher.fill(batch, completed, LONG_WAIT, LONG_WAIT);
        assertThat(rows(batch)).containsExactly(100, 101, 102, 200);
        assertThat(batch.labels()).startsWith(-100, -101, -102, -200);
        assertThat(batch.weights()).startsWith(1, 2, 3, 1);
        assertThat(batch.weighted()).isTrue();
        assertThat(completed).containsExactly(new TestRecord(1), new TestRecord(2));

        completed.clear();
        batcher.fill(batch, completed, LONG_WAIT, LONG_WAIT);
        assertThat(rows(batch)).containsExactly(300, 301, 302, 303);
        assertThat(completed).as("record 3 still has an example waiting").isEmpty();
        assertThat(batcher.queued()).isEqualTo(3);

        completed.clear();
        batcher.fill(batch, completed, SHORT, LONG_WAIT);
        assertThat(rows(batch)).containsExactly(304, 400, 401);
        assertThat(batch.isFull()).isFalse();
        assertThat(completed).containsExactly(new TestRecord(3), new TestRecord(4));
        assertThat(batcher.queued()).isZero();
    }

    @Test
    void aRecordTheGuardRefusesIsTakenOutWholeAndNeverBatched() throws InterruptedException {
        // learned: 600 examples of mean 0, std 1; then record 2 holds a row 1e9 standard deviations out
        OnlineNormalizer learned = new OnlineNormalizer(1);
        float[] seen = new float[600];
        for (int i = 0; i < seen.length; i++) {
            seen[i] = i % 2 == 0 ? 1f : -1f;
        }
        learned.update(seen, seen.length);
        RecordGuard guard = new RecordGuard(1e4, 500).use(FeatureRange.of(learned));
        ExampleBatcher batcher = new ExampleBatcher(100);
        batcher.submit(block(1, 2));
        float[] absurd = {3f, 1e9f, 5f};
        batcher.submit(new ExampleBlock(3, absurd, new float[3], null, new TestRecord(2)));
        batcher.submit(block(3, 3));
        MiniBatch batch = new MiniBatch(4, 1, 1);
        List<RecordHandle> completed = new ArrayList<>();
        List<RecordGuard.Refusal> refused = new ArrayList<>();

        batcher.fill(batch, completed, null, guard, refused, LONG_WAIT, LONG_WAIT);

        assertThat(rows(batch)).containsExactly(100, 101, 300, 301);
        assertThat(completed).containsExactly(new TestRecord(1));
        assertThat(refused).singleElement().satisfies(r -> {
            assertThat(r.source()).isEqualTo(new TestRecord(2));
            assertThat(r.cause()).startsWith("feature 0 of example 1 is 1.0E9, 1.00e+09 standard deviations from its"
                    + " learned mean 0.00000 (std 1.00000, from 600 examples); the bound is 10000.0 standard"
                    + " deviations (streamtrain.ingest.range.max-deviations)");
        });
        assertThat(batcher.queued()).isEqualTo(1);

        // before the warm-up the same record would pass
        RecordGuard early = new RecordGuard(1e4, 601).use(FeatureRange.of(learned));
        assertThat(early.check(new ExampleBlock(3, absurd, new float[3], null, new TestRecord(4)))).isNull();
        assertThat(RecordGuard.OFF.check(new ExampleBlock(3, absurd, new float[3], null, new TestRecord(4)))).isNull();
    }

    @Test
    void lingerReturnsAPartialBatchLongBeforeTheMaximumWait() throws InterruptedException {
        ExampleBatcher batcher = new ExampleBatcher(100);
        batcher.submit(block(1, 3));
        MiniBatch batch = new MiniBatch(8, 1, 1);
        List<RecordHandle> completed = new ArrayList<>();

        assertTimeoutPreemptively(Duration.ofSeconds(10), () -> batcher.fill(batch, completed, SHORT, LONG_WAIT));

        assertThat(rows(batch)).containsExactly(100, 101, 102);
        assertThat(completed).containsExactly(new TestRecord(1));
    }

    @Test
    void examplesArrivingWhileLingeringJoinTheBatchWhichReturnsOnceFull() throws Exception {
        ExampleBatcher batcher = new ExampleBatcher(100);
        MiniBatch batch = new MiniBatch(4, 1, 1);
        List<RecordHandle> completed = new ArrayList<>();
        batcher.submit(block(1, 1));

        // linger and maximum wait far longer than the test: only a full batch ends this fill
        CompletableFuture<Void> fill = CompletableFuture.runAsync(() -> {
            try {
                batcher.fill(batch, completed, LONG_WAIT, LONG_WAIT);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, executor);
        await().atMost(Duration.ofSeconds(10)).until(() -> batcher.queued() == 0);
        assertThat(fill).isNotDone();
        batcher.submit(block(2, 2));
        batcher.submit(block(3, 2));

        fill.get(10, TimeUnit.SECONDS);
        assertThat(rows(batch)).containsExactly(100, 200, 201, 300);
        assertThat(completed).containsExactly(new TestRecord(1), new TestRecord(2));
        assertThat(batcher.queued()).isEqualTo(1);
    }

    @Test
    void withNothingQueuedFillReturnsEmptyAfterTheMaximumWait() throws InterruptedException {
        ExampleBatcher batcher = new ExampleBatcher(10);
        MiniBatch batch = new MiniBatch(4, 1, 1);
        batch.add(new float[] {1}, new float[] {1}, 1f, 0);
        List<RecordHandle> completed = new ArrayList<>();

        assertTimeoutPreemptively(Duration.ofSeconds(10), () -> batcher.fill(batch, completed, LONG_WAIT, SHORT));

        assertThat(batch.isEmpty()).as("the batch is cleared first").isTrue();
        assertThat(completed).isEmpty();
    }

    @Test
    void submitBlocksWhileTheBufferIsFullUntilTheTrainerTakesExamples() throws Exception {
        ExampleBatcher batcher = new ExampleBatcher(4);
        batcher.submit(block(1, 3));
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch submitted = new CountDownLatch(1);
        Thread ingest = new Thread(() -> {
            try {
                started.countDown();
                batcher.submit(block(2, 2));
                submitted.countDown();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "test-ingest");
        ingest.start();
        assertThat(started.await(10, TimeUnit.SECONDS)).isTrue();

        // 3 queued + 2 would exceed the capacity of 4: the ingest thread parks inside submit
        await().atMost(Duration.ofSeconds(10)).until(() -> ingest.getState() == Thread.State.WAITING);
        assertThat(submitted.getCount()).isEqualTo(1);
        assertThat(batcher.queued()).isEqualTo(3);

        MiniBatch batch = new MiniBatch(2, 1, 1);
        List<RecordHandle> completed = new ArrayList<>();
        batcher.fill(batch, completed, LONG_WAIT, LONG_WAIT);

        assertThat(submitted.await(10, TimeUnit.SECONDS)).as("submit returns once 2 examples are taken").isTrue();
        assertThat(batcher.queued()).isEqualTo(3);
        ingest.join(TimeUnit.SECONDS.toMillis(10));
        assertThat(ingest.isAlive()).isFalse();
        assertThat(rows(batch)).containsExactly(100, 101);
    }

    @Test
    void aRecordBiggerThanTheCapacityIsAcceptedWhenTheBufferIsEmpty() throws Exception {
        ExampleBatcher batcher = new ExampleBatcher(4);

        assertTimeoutPreemptively(Duration.ofSeconds(10), () -> batcher.submit(block(1, 10)));
        assertThat(batcher.queued()).isEqualTo(10);

        // while it drains, a further record waits until it fits
        CompletableFuture<Void> next = CompletableFuture.runAsync(() -> {
            try {
                batcher.submit(block(2, 1));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, executor);
        MiniBatch batch = new MiniBatch(4, 1, 1);
        List<RecordHandle> completed = new ArrayList<>();
        batcher.fill(batch, completed, LONG_WAIT, LONG_WAIT);
        assertThat(rows(batch)).containsExactly(100, 101, 102, 103);
        assertThat(completed).isEmpty();
        assertThat(next).isNotDone();
        batcher.fill(batch, completed, LONG_WAIT, LONG_WAIT);
        assertThat(rows(batch)).containsExactly(104, 105, 106, 107);
        assertThat(completed).isEmpty();

        next.get(10, TimeUnit.SECONDS);
        batcher.fill(batch, completed, SHORT, LONG_WAIT);
        assertThat(rows(batch)).containsExactly(108, 109, 200);
        assertThat(completed).containsExactly(new TestRecord(1), new TestRecord(2));
    }

    @Test
    void withAMinimumBatchFewerExamplesWaitPastTheLingerTime() throws Exception {
        ExampleBatcher batcher = new ExampleBatcher(64, 3);
        MiniBatch batch = new MiniBatch(8, 1, 1);
        List<RecordHandle> completed = new ArrayList<>();
        batcher.submit(block(1, 2));
        batcher.fill(batch, completed, 0, SHORT);
        assertThat(batch.isEmpty()).as("two examples lingered but stay below the minimum of three").isTrue();
        assertThat(batcher.queued()).isEqualTo(2);
        batcher.submit(block(2, 1));
        batcher.fill(batch, completed, 0, SHORT);
        assertThat(batch.size()).isEqualTo(3);
        assertThat(completed).containsExactly(new TestRecord(1), new TestRecord(2));
    }


    /** A source whose backlog the test sets: behind or at its edge, and how many records it has delivered. */
    private static final class FakeBacklog implements Backlog {
        volatile boolean behind = true;
        final java.util.concurrent.atomic.AtomicLong deliveries = new java.util.concurrent.atomic.AtomicLong();

        @Override
        public boolean behind() {
            return behind;
        }

        @Override
        public long deliveries() {
            return deliveries.get();
        }
    }

    private CompletableFuture<Void> fillAsync(ExampleBatcher batcher, MiniBatch batch, List<RecordHandle> completed,
                                              long linger) {
        return CompletableFuture.runAsync(() -> {
            try {
                batcher.fill(batch, completed, linger, LONG_WAIT);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, executor);
    }

    @Test
    void behindItsBacklogAShortBatchWaitsPastLingerUntilItIsFull() throws Exception {
        FakeBacklog backlog = new FakeBacklog();
        ExampleBatcher batcher = new ExampleBatcher(100, 1, backlog, Duration.ofMinutes(5));
        MiniBatch batch = new MiniBatch(4, 1, 1);
        List<RecordHandle> completed = new ArrayList<>();
        batcher.submit(block(1, 3));

        CompletableFuture<Void> fill = fillAsync(batcher, batch, completed, SHORT);
        // many linger times and rechecks: still waiting, the rows taken but the batch not returned
        await().atMost(Duration.ofSeconds(10)).until(() -> batcher.queued() == 0);
        // a short batch behind the backlog: not returned for twenty linger times
        await().during(Duration.ofNanos(20 * SHORT)).atMost(Duration.ofSeconds(10)).until(() -> !fill.isDone());

        batcher.submit(block(2, 2));
        fill.get(10, TimeUnit.SECONDS);
        assertThat(rows(batch)).containsExactly(100, 101, 102, 200);
        assertThat(batcher.queued()).isEqualTo(1);
    }

    @Test
    void atTheLiveEdgeLingerFlushesTheShortBatch() throws Exception {
        FakeBacklog backlog = new FakeBacklog();
        ExampleBatcher batcher = new ExampleBatcher(100, 1, backlog, Duration.ofMinutes(5));
        MiniBatch batch = new MiniBatch(4, 1, 1);
        List<RecordHandle> completed = new ArrayList<>();
        batcher.submit(block(1, 3));

        CompletableFuture<Void> fill = fillAsync(batcher, batch, completed, SHORT);
        await().atMost(Duration.ofSeconds(10)).until(() -> batcher.queued() == 0);
        assertThat(fill).isNotDone();
        // the rest of the partition arrived (nothing for this batch): at the edge the rows lingered long enough
        backlog.behind = false;

        fill.get(10, TimeUnit.SECONDS);
        assertThat(rows(batch)).containsExactly(100, 101, 102);
        assertThat(completed).containsExactly(new TestRecord(1));
    }

    @Test
    void aSourceWithoutProgressForTheStallLimitLetsLingerApplyAgain() throws Exception {
        FakeBacklog backlog = new FakeBacklog();
        Duration stall = Duration.ofSeconds(2);
        ExampleBatcher batcher = new ExampleBatcher(100, 1, backlog, stall);
        MiniBatch batch = new MiniBatch(4, 1, 1);
        List<RecordHandle> completed = new ArrayList<>();
        batcher.submit(block(1, 1));

        // deliveries that never reach the buffer (dropped or dead-lettered records) are progress too
        long start = System.nanoTime();
        CompletableFuture<Void> fill = fillAsync(batcher, batch, completed, SHORT);
        long keepAliveUntil = start + 3 * stall.toNanos();
        long lastDelivery = start;
        while (System.nanoTime() < keepAliveUntil) {
            lastDelivery = System.nanoTime();
            backlog.deliveries.incrementAndGet();
            Thread.sleep(stall.toMillis() / 20);
            assertThat(fill).as("the source delivers: the short batch waits").isNotDone();
        }
        fill.get(30, TimeUnit.SECONDS);
        assertThat(System.nanoTime() - lastDelivery).as("returned only after the stall limit without progress")
                .isGreaterThanOrEqualTo(stall.toNanos());
        assertThat(backlog.behind).isTrue();
        assertThat(rows(batch)).containsExactly(100);
    }

    @Test
    void releasingTheBatcherEndsTheWaitForAFullBatch() throws Exception {
        FakeBacklog backlog = new FakeBacklog();
        ExampleBatcher batcher = new ExampleBatcher(100, 1, backlog, Duration.ofMinutes(5));
        MiniBatch batch = new MiniBatch(4, 1, 1);
        List<RecordHandle> completed = new ArrayList<>();
        batcher.submit(block(1, 2));

        CompletableFuture<Void> fill = fillAsync(batcher, batch, completed, SHORT);
        await().atMost(Duration.ofSeconds(10)).until(() -> batcher.queued() == 0);
        assertThat(fill).isNotDone();
        batcher.release();

        fill.get(10, TimeUnit.SECONDS);
        assertThat(rows(batch)).containsExactly(100, 101);
    }

}
