package dev.streamtrain.serving;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.IntConsumer;

import dev.streamtrain.model.ModelSnapshot;

/**
 * Micro-batching without a timer: requests that arrive while a forward pass runs are answered together by the
 * next one. A request queues itself, then takes the lock; whoever holds it drains the queue in arrival order
 * into one forward pass (as long as the requests share a snapshot and fit {@code maxRows}) and hands every
 * waiter its rows. An idle server answers a lone request at once; a busy one pays ND4J's per-operation overhead
 * once per batch instead of once per request. Each request is still answered wholly by the snapshot it took.
 */
final class BatchingPredictor {

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
        Pending mine = new Pending(snapshot, features, rows);
        queue.add(mine);
        lock.lock();
        try {
            while (!mine.done()) {
                runOneBatch();
            }
        } finally {
            lock.unlock();
        }
        if (mine.error != null) {
            throw mine.error;
        }
        return mine.result;
    }

    /** Requests waiting for a forward pass. */
    int queued() {
        return queue.size();
    }

    // under the lock; the queue is never empty here while the caller's request is not done
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
        } catch (RuntimeException e) {
            for (Pending p : batch) {
                p.error = e;
            }
        }
    }

    private static final class Pending {
        final ModelSnapshot snapshot;
        final float[] features;
        final int rows;
        volatile float[] result;
        volatile RuntimeException error;

        Pending(ModelSnapshot snapshot, float[] features, int rows) {
            this.snapshot = snapshot;
            this.features = features;
            this.rows = rows;
        }

        boolean done() {
            return result != null || error != null;
        }
    }
}
