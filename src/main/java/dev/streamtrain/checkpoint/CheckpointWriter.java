package dev.streamtrain.checkpoint;

import org.jboss.logging.Logger;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import dev.streamtrain.training.TrainingSnapshot;

/**
 * Writes checkpoints on its own thread, "streamtrain-checkpoint", so that the training thread never waits on
 * storage. It holds at most one snapshot waiting (a newer one replaces it) besides the one being written; a
 * failed write is retried with exponential backoff, switching to the newest snapshot when one has arrived.
 */
final class CheckpointWriter implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(CheckpointWriter.class);

    /** What happened to a write; called on the writer thread. */
    interface Outcome {
        void saved(Manifest manifest, long bytes, long nanos);

        void failed(long step, Exception error, int attempt, Duration retryIn);
    }

    private final Checkpoints checkpoints;
    private final String specText;
    private final Duration minBackoff;
    private final Duration maxBackoff;
    private final Outcome outcome;
    private final Object lock = new Object();
    private final Thread thread;
    private TrainingSnapshot pending;
    private List<CompletableFuture<Long>> waiting = new ArrayList<>();
    private boolean closed;
    private Duration backoff;

    CheckpointWriter(Checkpoints checkpoints, String specText, Duration minBackoff, Duration maxBackoff,
                     Outcome outcome) {
        this.checkpoints = checkpoints;
        this.specText = specText;
        this.minBackoff = minBackoff;
        this.maxBackoff = maxBackoff;
        this.backoff = minBackoff;
        this.outcome = outcome;
        this.thread = new Thread(this::run, "streamtrain-checkpoint");
        thread.setDaemon(true);
        thread.start();
    }

    /** Queues the snapshot, replacing (and closing) one still waiting; returns at once. */
    CompletableFuture<Long> offer(TrainingSnapshot snapshot) {
        CompletableFuture<Long> durable = new CompletableFuture<>();
        synchronized (lock) {
            if (closed) {
                snapshot.close();
                durable.completeExceptionally(new IllegalStateException("the checkpoint writer is closed"));
                return durable;
            }
            if (pending != null) {
                pending.close();
            }
            pending = snapshot;
            waiting.add(durable);
            lock.notifyAll();
        }
        return durable;
    }

    private void run() {
        while (true) {
            TrainingSnapshot snapshot;
            List<CompletableFuture<Long>> waiters;
            synchronized (lock) {
                while (pending == null && !closed) {
                    awaitQuietly(0);
                }
                if (closed) {
                    return;
                }
                snapshot = pending;
                waiters = waiting;
                pending = null;
                waiting = new ArrayList<>();
            }
            write(snapshot, waiters);
        }
    }

    private void write(TrainingSnapshot snapshot, List<CompletableFuture<Long>> waiters) {
        long start = System.nanoTime();
        Map<String, byte[]> files;
        try (snapshot) {
            files = CheckpointCodec.encode(snapshot, specText);
        } catch (IOException | RuntimeException e) {
            LOG.errorf(e, "Cannot serialise the checkpoint of model %s at step %d", snapshot.model(), snapshot.step());
            waiters.forEach(w -> w.completeExceptionally(e));
            return;
        }
        long bytes = files.values().stream().mapToLong(f -> f.length).sum();
        for (int attempt = 1; ; attempt++) {
            try {
                Manifest manifest = checkpoints.write(snapshot.model(), snapshot.step(), files,
                        snapshot.trainer().position().next(),
                        CheckpointCodec.metrics(snapshot.summary(), snapshot.holdout()), snapshot.best());
                backoff = minBackoff;
                outcome.saved(manifest, bytes, System.nanoTime() - start);
                waiters.forEach(w -> w.complete(snapshot.step()));
                return;
            } catch (IOException | RuntimeException e) {
                outcome.failed(snapshot.step(), e, attempt, backoff);
                boolean newer = waitForRetry();
                backoff = backoff.multipliedBy(2).compareTo(maxBackoff) > 0 ? maxBackoff : backoff.multipliedBy(2);
                synchronized (lock) {
                    if (closed) {
                        waiters.forEach(w -> w.completeExceptionally(e));
                        return;
                    }
                    if (newer) {
                        // the newer snapshot holds this one's state and more: whoever waits for this one, waits for it
                        waiting.addAll(waiters);
                        return;
                    }
                }
            }
        }
    }

    /** Waits out the backoff; returns whether a newer snapshot is waiting by then. */
    private boolean waitForRetry() {
        long deadline = System.nanoTime() + backoff.toNanos();
        synchronized (lock) {
            long left;
            while (!closed && (left = deadline - System.nanoTime()) > 0) {
                awaitQuietly(Math.max(1, left / 1_000_000));
            }
            return pending != null;
        }
    }

    private void awaitQuietly(long millis) {
        try {
            lock.wait(millis);
        } catch (InterruptedException e) {
            closed = true;
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        synchronized (lock) {
            closed = true;
            if (pending != null) {
                pending.close();
                pending = null;
            }
            waiting.forEach(w -> w.completeExceptionally(new IllegalStateException("the service is stopping")));
            waiting.clear();
            lock.notifyAll();
        }
    }
}
