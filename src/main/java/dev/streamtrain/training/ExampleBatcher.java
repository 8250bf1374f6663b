package dev.streamtrain.training;

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
 */
public final class ExampleBatcher {

    private final int capacity;
    private final int minBatch;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition notEmpty = lock.newCondition();
    private final Condition notFull = lock.newCondition();
    private final ArrayDeque<ExampleBlock> blocks = new ArrayDeque<>();
    private int queued;
    private int headRow;

    public ExampleBatcher(int capacity) {
        this(capacity, 1);
    }

    /**
     * {@code minBatch}: a mini-batch is not started with fewer examples queued than this, however long they
     * linger (batch normalisation needs several examples: with one, its variance is 0 and no gradient flows).
     */
    public ExampleBatcher(int capacity, int minBatch) {
        this.capacity = capacity;
        this.minBatch = minBatch;
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
            notEmpty.signal();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Fills {@code batch} (cleared first) and adds to {@code completed} the records whose last example went
     * in. Returns when the batch is full, when {@code lingerNanos} have passed since its first example, or
     * when {@code maxWaitNanos} pass with nothing at all. Called on the training thread.
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
                    if (left <= 0) {
                        return;
                    }
                    notEmpty.awaitNanos(left);
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
