package dev.streamtrain.training;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

import dev.streamtrain.model.MiniBatch;

/**
 * The bounded hand-off between ingest and the training thread. Ingest threads {@link #submit} whole records;
 * the trainer re-batches them into mini-batches of the configured size, or whatever arrived within the linger
 * time. When the buffer holds {@code capacity} examples, submit blocks: ingest stops asking the consumer for
 * more, so the consumer pauses instead of buffering without bound.
 * Linger cuts a short batch only at the live edge: while the {@link Backlog} says more records are already
 * waiting in the source, a short batch waits until it is full (rechecked every 10 ms), so that the batch
 * boundaries of a replay do not depend on delivery speed. A source that makes no progress at all for the stall
 * limit does not hold a batch back any longer.
 */
public final class ExampleBatcher {

    /** The stall limit when none is given: the default of {@code streamtrain.training.stall-limit}. */
    public static final Duration DEFAULT_STALL_LIMIT = Duration.ofSeconds(10);
    private static final long RECHECK_NANOS = Duration.ofMillis(10).toNanos();

    private final int capacity;
    private final int minBatch;
    private final Backlog backlog;
    private final long stallLimitNanos;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition notEmpty = lock.newCondition();
    private final Condition notFull = lock.newCondition();
    private final ArrayDeque<ExampleBlock> blocks = new ArrayDeque<>();
    private int queued;
    private int headRow;
    // the stall clock: when the source last made progress (a submit, or a change of its delivery count)
    private long lastProgress = System.nanoTime();
    private long lastDeliveries;
    private volatile boolean released;

    public ExampleBatcher(int capacity) {
        this(capacity, 1);
    }

    /**
     * {@code minBatch}: a mini-batch is not started with fewer examples queued than this, however long they
     * linger (batch normalisation needs several examples: with one, its variance is 0 and no gradient flows).
     * Linger always applies ({@link Backlog#NONE}).
     */
    public ExampleBatcher(int capacity, int minBatch) {
        this(capacity, minBatch, Backlog.NONE);
    }

    /** As above; a short batch lingers only when {@code backlog} is not behind (see the class comment). */
    public ExampleBatcher(int capacity, int minBatch, Backlog backlog) {
        this(capacity, minBatch, backlog, DEFAULT_STALL_LIMIT);
    }

    /** As above, with the time without any progress of the source after which linger applies again. */
    public ExampleBatcher(int capacity, int minBatch, Backlog backlog, Duration stallLimit) {
        if (stallLimit.isNegative()) {
            throw new IllegalArgumentException("the stall limit must be >= 0, not " + stallLimit);
        }
        this.capacity = capacity;
        this.minBatch = minBatch;
        this.backlog = backlog;
        this.stallLimitNanos = stallLimit.toNanos();
        this.lastDeliveries = backlog.deliveries();
    }

    /** Queues a record's examples; blocks while the buffer is full. Called on ingest threads. */
    public void submit(ExampleBlock block) throws InterruptedException {
        lock.lockInterruptibly();
        try {
            // a record larger than the whole buffer still gets in, alone, or it could never be trained
            while (queued > 0 && queued + block.count() > capacity) {
                notFull.await();
            }
            blocks.addLast(block);
            queued += block.count();
            lastProgress = System.nanoTime();
            notEmpty.signal();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Fills {@code batch} (cleared first) and adds to {@code completed} the records whose last example went
     * in. Returns when the batch is full, when {@code lingerNanos} have passed since its first example and the
     * source is at its live edge (or stalled), or when {@code maxWaitNanos} pass with nothing at all. Called on
     * the training thread.
     */
    public void fill(MiniBatch batch, List<RecordHandle> completed, long lingerNanos, long maxWaitNanos)
            throws InterruptedException {
        fill(batch, completed, null, lingerNanos, maxWaitNanos);
    }

    /** As above; also adds to {@code sources} (when not null) the record of each row of the batch, in order. */
    public void fill(MiniBatch batch, List<RecordHandle> completed, List<RecordHandle> sources, long lingerNanos,
                     long maxWaitNanos) throws InterruptedException {
        fill(batch, completed, sources, null, null, lingerNanos, maxWaitNanos);
    }

    /**
     * As above, with each record judged by {@code guard} (when not null) as it comes to the head of the queue,
     * before any of its rows is taken: a refused record is taken out of the queue whole and added to
     * {@code refused}, never to the batch nor to {@code completed}.
     */
    public void fill(MiniBatch batch, List<RecordHandle> completed, List<RecordHandle> sources, RecordGuard guard,
                     List<RecordGuard.Refusal> refused, long lingerNanos, long maxWaitNanos)
            throws InterruptedException {
        batch.clear();
        long deadline = System.nanoTime() + maxWaitNanos;
        lock.lockInterruptibly();
        try {
            while (!batch.isFull()) {
                if (blocks.isEmpty() || (batch.isEmpty() && queued < Math.min(minBatch, batch.capacity()))) {
                    long left = deadline - System.nanoTime();
                    if (left > 0) {
                        notEmpty.awaitNanos(left);
                    } else if (batch.isEmpty() || !holdBack()) {
                        return;
                    } else {
                        notEmpty.awaitNanos(RECHECK_NANOS);
                    }
                    continue;
                }
                if (guard != null && headRow == 0 && refuseHead(guard, refused)) {
                    continue;
                }
                if (batch.isEmpty()) {
                    deadline = System.nanoTime() + lingerNanos;
                }
                take(batch, completed, sources);
            }
        } finally {
            lock.unlock();
        }
    }

    /** Whether a short batch whose linger is over waits on: the source is behind and not stalled. */
    private boolean holdBack() {
        long now = System.nanoTime();
        long deliveries = backlog.deliveries();
        if (deliveries != lastDeliveries) {
            lastDeliveries = deliveries;
            lastProgress = now;
        }
        return !released && now - lastProgress < stallLimitNanos && backlog.behind();
    }

    /**
     * From now on linger applies whatever the backlog: the trainer is stopping and must not wait for a full batch
     * (the short batch it trains then is the one batch boundary that depends on when the stop came).
     */
    public void release() {
        released = true;
        lock.lock();
        try {
            notEmpty.signalAll();
        } finally {
            lock.unlock();
        }
    }

    // a record is judged once, whole, before its first row is taken: a refusal never splits one
    private boolean refuseHead(RecordGuard guard, List<RecordGuard.Refusal> refused) {
        ExampleBlock head = blocks.peekFirst();
        RecordGuard.Refusal refusal = guard.check(head);
        if (refusal == null) {
            return false;
        }
        blocks.pollFirst();
        queued -= head.count();
        refused.add(refusal);
        notFull.signalAll();
        return true;
    }

    private void take(MiniBatch batch, List<RecordHandle> completed, List<RecordHandle> sources) {
        ExampleBlock head = blocks.peekFirst();
        int rows = Math.min(head.count() - headRow, batch.capacity() - batch.size());
        for (int r = headRow; r < headRow + rows; r++) {
            batch.add(head.features(), head.labels(), head.weight(r), r, head.holdout());
            if (sources != null) {
                sources.add(head.source());
            }
        }
        headRow += rows;
        queued -= rows;
        if (headRow == head.count()) {
            blocks.pollFirst();
            headRow = 0;
            completed.add(head.source());
        }
        notFull.signalAll();
    }

    /**
     * The record at the head of the queue if some of its examples have been taken into mini-batches and some
     * have not, with the rows of the whole record taken so far; null otherwise. Between two steps, taken
     * means trained: the training thread asks then.
     */
    public StreamPosition.Partial partialHead() {
        lock.lock();
        try {
            ExampleBlock head = blocks.peekFirst();
            return head == null || headRow == 0 ? null : new StreamPosition.Partial(head.source().partition(),
                    head.source().offset(), head.firstRow() + headRow);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Drops every queued example, a partly taken record with them: a member of a group of trainers reads them again
     * from where the group's next generation starts. Called on the training thread.
     */
    public void discard() {
        lock.lock();
        try {
            blocks.clear();
            queued = 0;
            headRow = 0;
            notFull.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Examples waiting to be trained. */
    public int queued() {
        lock.lock();
        try {
            return queued;
        } finally {
            lock.unlock();
        }
    }

    public int capacity() {
        return capacity;
    }

}
