package dev.streamtrain.serving;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.IntConsumer;

import dev.streamtrain.model.ModelSnapshot;

/**
 * Micro-batching without a timer: requests that arrive while a forward pass runs are answered together by the
 * next one. A request queues itself and tries the lock; whoever gets it drains the queue in arrival order
 * into forward passes (each of requests that share a snapshot and fit {@code maxRows}) until its own request
 * is answered, wakes every request it answered, and hands the lock on to the oldest one still waiting. A
 * request answered by another's pass returns at once, without taking the lock. An idle server answers a lone request at once; a busy one pays ND4J's per-operation overhead
 * once per batch instead of once per request. Each request is still answered wholly by the snapshot it took.
 */
final class BatchingPredictor {

    private static final long WAIT_NANOS = 500_000;

    private final int maxRows;
    private final IntConsumer batchRows;
    // held while a forward pass runs (package-private for tests, which hold it to line requests up)
    final ReentrantLock lock = new ReentrantLock();
    private final ConcurrentLinkedQueue<Pending> queue = new ConcurrentLinkedQueue<>();

    /** {@code batchRows} is told the row count of every forward pass (for the meters). */
    BatchingPredictor(int maxRows, IntConsumer batchRows) {
        this.maxRows = maxRows;
        this.batchRows = batchRows;
    }

    float[] predict(ModelSnapshot snapshot, float[] features, int rows) {
        Pending mine = new Pending(snapshot, features, rows, Thread.currentThread());
        queue.add(mine);
        while (!mine.done()) {
            if (lock.tryLock()) {
                try {
                    while (!mine.done()) {
                        runOneBatch();
                    }
                } finally {
                    lock.unlock();
                }
                // hand the lock on: the oldest waiting request's thread leads the next pass
                Pending next = queue.peek();
                if (next != null) {
                    LockSupport.unpark(next.thread);
                }
            } else {
                // woken when answered by another pass, or when the lock is handed on; the timeout is a safety net
                LockSupport.parkNanos(this, WAIT_NANOS);
            }
        }
        if (mine.error != null) {
            throw mine.error instanceof RuntimeException e ? e : new IllegalStateException(mine.error);
        }
        return mine.result;
    }

    /** Requests waiting for a forward pass. */
    int queued() {
        return queue.size();
    }

    // under the lock; the queue holds the caller's request (not done) here, so the batch is never empty
    private void runOneBatch() {
        List<Pending> batch = new ArrayList<>();
        int total = 0;
        for (Pending next; (next = queue.peek()) != null; ) {
            if (!batch.isEmpty() && (next.snapshot != batch.get(0).snapshot || total + next.rows > maxRows)) {
                break;
            }
            queue.poll();
            batch.add(next);
            total += next.rows;
        }
        ModelSnapshot snapshot = batch.get(0).snapshot;
        try {
            if (batch.size() == 1) {
                Pending only = batch.get(0);
                only.result = snapshot.predict(only.features, only.rows);
            } else {
                int width = snapshot.spec().inputs();
                float[] features = new float[total * width];
                int at = 0;
                for (Pending p : batch) {
                    System.arraycopy(p.features, 0, features, at, p.features.length);
                    at += p.features.length;
                }
                float[] outputs = snapshot.predict(features, total);
                int outWidth = outputs.length / total;
                at = 0;
                for (Pending p : batch) {
                    float[] mine = new float[p.rows * outWidth];
                    System.arraycopy(outputs, at, mine, 0, mine.length);
                    at += mine.length;
                    p.result = mine;
                }
            }
            batchRows.accept(total);
        } catch (Throwable e) {
            for (Pending p : batch) {
                p.error = e;
            }
        }
        for (Pending p : batch) {
            LockSupport.unpark(p.thread);
        }
    }

    private static final class Pending {
        final ModelSnapshot snapshot;
        final float[] features;
        final int rows;
        final Thread thread;
        volatile float[] result;
        volatile Throwable error;

        Pending(ModelSnapshot snapshot, float[] features, int rows, Thread thread) {
            this.snapshot = snapshot;
            this.features = features;
            this.rows = rows;
            this.thread = thread;
        }

        boolean done() {
            return result != null || error != null;
        }
    }
}
