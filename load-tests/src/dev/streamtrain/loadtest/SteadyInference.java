package dev.streamtrain.loadtest;

import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * Single-row V2 inference requests at a fixed rate (REST through {@link VertxRestClient}, or gRPC), open-model as
 * {@link LoadTest} sends them, for as long as a long-running test needs, read in windows: each {@link #window()}
 * returns the latencies (from when each request was due) and the counts since the previous one. A request that
 * fails, or finds {@code maxOutstanding} requests unanswered, is an error.
 */
public final class SteadyInference implements AutoCloseable {

    /** What happened since the previous window: latencies in microseconds. */
    public record Window(Histogram latencies, long ok, long errors, String firstError) {
    }

    private static final int MAX_OUTSTANDING = 1000;

    private final LoadTest.Client client;
    private final long period;
    private final Recorder latencies = new Recorder(3);
    private final AtomicLong ok = new AtomicLong();
    private final AtomicLong errors = new AtomicLong();
    private final AtomicLong outstanding = new AtomicLong();
    private final AtomicReference<String> firstError = new AtomicReference<>();
    private final Thread sender;
    private volatile boolean running = true;

    private SteadyInference(LoadTest.Client client, double rate, String name) {
        this.client = client;
        this.period = (long) (1e9 / rate);
        this.sender = new Thread(this::send, "steady-inference-" + name);
        sender.setDaemon(true);
        sender.start();
    }

    /** Starts sending {@code rate} requests/s of one digits-like row to the model at {@code url} over {@code protocol}. */
    public static SteadyInference start(String url, String protocol, String model, int features, double rate) {
        LoadTest.Options options = LoadTest.Options.parse("--url=" + url, "--protocol=" + protocol, "--model=" + model,
                "--features=" + features, "--rows=1");
        float[] rows = LoadTest.rows(1, features, 42);
        LoadTest.Client client = switch (protocol) {
            case "rest" -> LoadTest.restClient(options, rows);
            case "grpc" -> new LoadTest.GrpcClient(options, rows);
            default -> throw new IllegalArgumentException("protocol is rest or grpc, not " + protocol);
        };
        return new SteadyInference(client, rate, protocol);
    }

    /** The latencies and counts since the previous call (or the start). */
    public Window window() {
        return new Window(latencies.getIntervalHistogram(), ok.getAndSet(0), errors.getAndSet(0),
                firstError.getAndSet(null));
    }

    private void send() {
        for (long due = System.nanoTime(); running; due += period) {
            long wait = due - System.nanoTime();
            if (wait > 0) {
                LockSupport.parkNanos(wait);
            }
            if (outstanding.get() >= MAX_OUTSTANDING) {
                errors.incrementAndGet();
                firstError.compareAndSet(null, MAX_OUTSTANDING + " requests unanswered");
                continue;
            }
            final long dueAt = due;
            outstanding.incrementAndGet();
            client.send().whenComplete((r, e) -> {
                outstanding.decrementAndGet();
                if (e == null) {
                    ok.incrementAndGet();
                    latencies.recordValue(Math.max(1, (System.nanoTime() - dueAt) / 1000));
                } else {
                    errors.incrementAndGet();
                    firstError.compareAndSet(null, String.valueOf(e));
                }
            });
        }
    }

    @Override
    public void close() {
        running = false;
        try {
            sender.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        client.close();
    }
}
