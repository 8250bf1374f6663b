package dev.streamtrain.loadtest;

import com.google.common.util.concurrent.ListenableFuture;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

import inference.GrpcPredictV2.InferTensorContents;
import inference.GrpcPredictV2.ModelInferRequest;
import inference.GrpcPredictV2.ServerLiveRequest;
import inference.GRPCInferenceServiceGrpc;

/**
 * An open-model load generator for the V2 inference routes, REST or gRPC (wrk2/ghz style): requests leave on a
 * fixed schedule whatever the server does, and each latency is measured from the moment its request was due,
 * not from when it could be sent, so a stalled server shows up in the percentiles (no coordinated omission).
 *
 * <pre>
 * java -cp ... dev.streamtrain.loadtest.LoadTest --url=http://127.0.0.1:8080 --protocol=rest|grpc
 *      --rate=2000 --duration=30s --warmup=5s --rows=1 --model=digits --features=64 --label=idle
 *      [--operation=infer|live] [--results=target/load-test-results.md]
 * </pre>
 * {@code --operation=live} asks the V2 liveness route instead ({@code GET /v2/health/live}, gRPC {@code ServerLive}):
 * a request that does no work, over the same HTTP stack and connections, whose figures are the ceiling inference
 * can at best reach on the same machine in the same run.
 */
public final class LoadTest {

    /** One kind of request: sends it, completes when the answer is in (exceptionally on any error). */
    interface Client extends AutoCloseable {
        CompletableFuture<Void> send();

        @Override
        void close();
    }

    record Options(String url, String protocol, String operation, double rate, Duration duration, Duration warmup,
                   int rows, String model, int features, String label, Path results, int maxOutstanding,
                   String client, int connections, long servicePid) {

        static Options parse(String... args) {
            Map<String, String> o = new HashMap<>();
            for (String arg : args) {
                if (!arg.startsWith("--") || !arg.contains("=")) {
                    throw new IllegalArgumentException("arguments are --key=value; got " + arg);
                }
                o.put(arg.substring(2, arg.indexOf('=')), arg.substring(arg.indexOf('=') + 1));
            }
            return new Options(o.getOrDefault("url", "http://127.0.0.1:8080"), o.getOrDefault("protocol", "rest"),
                    o.getOrDefault("operation", "infer"), Double.parseDouble(o.getOrDefault("rate", "2000")), duration(o.getOrDefault("duration", "30s")),
                    duration(o.getOrDefault("warmup", "5s")), Integer.parseInt(o.getOrDefault("rows", "1")),
                    o.getOrDefault("model", "digits"), Integer.parseInt(o.getOrDefault("features", "64")),
                    o.getOrDefault("label", ""), Path.of(o.getOrDefault("results", "target/load-test-results.md")),
                    Integer.parseInt(o.getOrDefault("max-outstanding", "20000")), o.getOrDefault("client", "vertx"),
                    Integer.parseInt(o.getOrDefault("connections", "8")),
                    Long.parseLong(o.getOrDefault("service-pid", "0")));
        }

        private static Duration duration(String text) {
            return text.endsWith("ms") ? Duration.ofMillis(Long.parseLong(text.substring(0, text.length() - 2)))
                    : Duration.ofSeconds(Long.parseLong(text.replace("s", "")));
        }
    }

    /**
     * {@code latencies}: from when each request was due to its answer; {@code lateness}: from when it was due to when
     * the generator handed it to the client (the generator's own delay: its thread not scheduled, or still in the
     * previous send); {@code inFlight}: from that hand-off to the answer (client, network and server).
     */
    record Result(long sent, long ok, long errors, long skipped, double seconds, Histogram latencies,
                  Histogram lateness, Histogram inFlight, double cpuSeconds, String firstError) {
    }

    public static void main(String... args) throws Exception {
        Options options = Options.parse(args);
        float[] rows = rows(options.rows(), options.features(), 42);
        if (!options.operation().equals("infer") && !options.operation().equals("live")) {
            throw new IllegalArgumentException("--operation is infer or live");
        }
        try (Client client = switch (options.protocol()) {
            case "rest" -> restClient(options, rows);
            case "grpc" -> new GrpcClient(options, rows);
            default -> throw new IllegalArgumentException("--protocol is rest or grpc");
        }) {
            client.send().get();
            Result warmup = run(client, options.rate(), options.warmup(), options.maxOutstanding());
            ServiceProbe probe = options.servicePid() > 0 ? ServiceProbe.attach(options.servicePid()) : null;
            ServiceProbe.Reading quiet = null;
            ServiceProbe.Reading before = null;
            if (probe != null) {
                // what the service spends without requests (broker, consumer, timers), to take off the run's figures
                quiet = probe.read();
                Thread.sleep(3000);
                before = probe.read();
            }
            Result result = run(client, options.rate(), options.duration(), options.maxOutstanding());
            report(options, result);
            if (probe != null) {
                ServiceProbe.Reading after = probe.read();
                System.out.println(ServiceProbe.perRequest(before, after, result.ok()));
                System.out.println(ServiceProbe.net(quiet, before, after, result.ok()));
                probe.close();
            }
            // for the service's CPU per request: every request this process sent, warm-up included
            System.out.println("answered in all: " + (1 + warmup.ok() + result.ok()));
        }
        System.exit(0);
    }

    /** Sends at {@code rate} per second for {@code duration}; latencies in microseconds from when each was due. */
    static Result run(Client client, double rate, Duration duration, int maxOutstanding) throws InterruptedException {
        Recorder recorder = new Recorder(3);
        Recorder lateness = new Recorder(3);
        Recorder inFlight = new Recorder(3);
        AtomicLong ok = new AtomicLong();
        AtomicLong errors = new AtomicLong();
        AtomicLong outstanding = new AtomicLong();
        AtomicReference<Throwable> firstError = new AtomicReference<>();
        long skipped = 0;
        long period = (long) (1e9 / rate);
        long cpuStart = processCpuNanos();
        long start = System.nanoTime();
        long end = start + duration.toNanos();
        long sent = 0;
        for (long due = start; due < end; due += period) {
            long wait = due - System.nanoTime();
            if (wait > 0) {
                LockSupport.parkNanos(wait);
            }
            if (outstanding.get() >= maxOutstanding) {
                skipped++; // the server is too far behind: counted, and reported
                continue;
            }
            final long dueAt = due;
            final long sentAt = System.nanoTime();
            lateness.recordValue(Math.max(1, (sentAt - dueAt) / 1000));
            outstanding.incrementAndGet();
            sent++;
            client.send().whenComplete((r, e) -> {
                long now = System.nanoTime();
                outstanding.decrementAndGet();
                if (e == null) {
                    ok.incrementAndGet();
                    recorder.recordValue(Math.max(1, (now - dueAt) / 1000));
                    inFlight.recordValue(Math.max(1, (now - sentAt) / 1000));
                } else {
                    errors.incrementAndGet();
                    firstError.compareAndSet(null, e);
                }
            });
        }
        long drainUntil = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (outstanding.get() > 0 && System.nanoTime() < drainUntil) {
            Thread.sleep(5);
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        double cpuSeconds = (processCpuNanos() - cpuStart) / 1e9;
        return new Result(sent, ok.get(), errors.get() + outstanding.get(), skipped, seconds,
                recorder.getIntervalHistogram(), lateness.getIntervalHistogram(), inFlight.getIntervalHistogram(),
                cpuSeconds, firstError.get() == null ? null : String.valueOf(firstError.get()));
    }

    /** This process's CPU time (every thread, the JIT and GC included). */
    private static long processCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime();
    }

    static void report(Options options, Result r) throws IOException {
        Histogram h = r.latencies();
        double lateP99 = ms(r.lateness().getValueAtPercentile(99));
        String line = String.format(Locale.ROOT, "| %s | %s | %d | %.0f | %,d | %.2f | %.2f | %.2f | %.2f | %.2f | %d | %d | %.2f | %.2f | %.3f |",
                options.label(), options.protocol() + (options.protocol().equals("rest") ? " (" + options.client() + ")" : "")
                        + (options.operation().equals("infer") ? "" : " " + options.operation()),
                options.rows(), options.rate(), r.ok(),
                r.ok() / Math.max(1e-9, options.duration().toNanos() / 1e9),
                ms(h.getValueAtPercentile(50)), ms(h.getValueAtPercentile(90)), ms(h.getValueAtPercentile(99)),
                ms(h.getValueAtPercentile(99.9)), r.errors(), r.skipped(), lateP99,
                ms(r.inFlight().getValueAtPercentile(99)), 1000 * r.cpuSeconds() / Math.max(1, r.sent()));
        System.out.println("| scenario | protocol | rows | target rate /s | answered | achieved /s | p50 ms | p90 ms"
                + " | p99 ms | p99.9 ms | errors | skipped | sent late p99 ms | in flight p99 ms"
                + " | generator CPU ms/request |");
        System.out.println(line);
        System.out.printf(Locale.ROOT, "max %.2f ms, mean %.3f ms; sent late: max %.2f ms; in flight: p50 %.2f ms, max %.2f ms%n",
                ms(h.getMaxValue()), h.getMean() / 1000, ms(r.lateness().getMaxValue()),
                ms(r.inFlight().getValueAtPercentile(50)), ms(r.inFlight().getMaxValue()));
        if (r.firstError() != null) {
            System.out.println("first error: " + r.firstError());
        }
        if (lateP99 >= 1 && lateP99 >= ms(h.getValueAtPercentile(99)) / 2) {
            // the schedule slipped in this process: the tail is at least half the generator's, not the server's
            System.out.printf(Locale.ROOT, "WARNING: the generator did not keep its schedule: 1%% of requests left %.2f ms"
                    + " or more after they were due (p99 latency %.2f ms); the tail is not the server's alone%n",
                    lateP99, ms(h.getValueAtPercentile(99)));
        }
        Files.createDirectories(options.results().toAbsolutePath().getParent());
        Files.writeString(options.results(), line + System.lineSeparator(), StandardOpenOption.CREATE,
                StandardOpenOption.APPEND);
    }

    private static double ms(double micros) {
        return micros / 1000.0;
    }

    /** Rows of digits-like features (0 to 16), the same for every run. */
    static float[] rows(int rows, int features, long seed) {
        Random random = new Random(seed);
        float[] data = new float[rows * features];
        for (int i = 0; i < data.length; i++) {
            data[i] = random.nextInt(17);
        }
        return data;
    }

    /**
     * The REST client named by {@code --client}: {@code vertx} (default; {@code --connections} fixed HTTP/1.1
     * connections) or {@code jdk} (the JDK's HttpClient, which opens a connection whenever none is free).
     */
    static Client restClient(Options options, float[] rows) {
        boolean live = options.operation().equals("live");
        String path = live ? "/v2/health/live" : "/v2/models/" + options.model() + "/infer";
        String body = live ? null : inferBody(options, rows);
        return switch (options.client()) {
            case "vertx" -> new VertxRestClient(options, path, body);
            case "jdk" -> new JdkRestClient(options.url() + path, body);
            default -> throw new IllegalArgumentException("--client is vertx or jdk");
        };
    }

    static String inferBody(Options options, float[] rows) {
        StringBuilder data = new StringBuilder();
        for (int i = 0; i < rows.length; i++) {
            data.append(i == 0 ? "" : ",").append((int) rows[i]);
        }
        return "{\"inputs\":[{\"name\":\"input\",\"shape\":[" + options.rows() + "," + options.features()
                + "],\"datatype\":\"FP32\",\"data\":[" + data + "]}]}";
    }

    /**
     * POST /v2/models/{model}/infer (or GET /v2/health/live, when {@code body} is null) over HTTP/1.1 keep-alive
     * connections with the JDK client: one selector thread does all I/O and hands each answer to a 2-thread executor;
     * a request that finds no idle connection opens a new one.
     */
    static final class JdkRestClient implements Client {

        private final HttpClient http;
        private final HttpRequest request;

        JdkRestClient(String url, String body) {
            http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                    .executor(Executors.newFixedThreadPool(2)).connectTimeout(Duration.ofSeconds(5)).build();
            request = body == null
                    ? HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).GET().build()
                    : HttpRequest.newBuilder(URI.create(url)).header("Content-Type", "application/json")
                            .timeout(Duration.ofSeconds(10)).POST(HttpRequest.BodyPublishers.ofString(body)).build();
        }

        @Override
        public CompletableFuture<Void> send() {
            return http.sendAsync(request, HttpResponse.BodyHandlers.discarding()).thenAccept(response -> {
                if (response.statusCode() != 200) {
                    throw new IllegalStateException("HTTP " + response.statusCode());
                }
            });
        }

        @Override
        public void close() {
        }
    }

    /**
     * inference.GRPCInferenceService/ModelInfer (or ServerLive) over one plaintext HTTP/2 channel (grpc-java),
     * typed FP32.
     */
    static final class GrpcClient implements Client {

        private final ManagedChannel channel;
        private final GRPCInferenceServiceGrpc.GRPCInferenceServiceFutureStub stub;
        private final ModelInferRequest request;
        private final boolean live;

        GrpcClient(Options options, float[] rows) {
            live = options.operation().equals("live");
            URI uri = URI.create(options.url());
            channel = ManagedChannelBuilder.forAddress(uri.getHost(), uri.getPort()).usePlaintext().build();
            stub = GRPCInferenceServiceGrpc.newFutureStub(channel);
            var contents = InferTensorContents.newBuilder();
            for (float v : rows) {
                contents.addFp32Contents(v);
            }
            request = ModelInferRequest.newBuilder().setModelName(options.model())
                    .addInputs(ModelInferRequest.InferInputTensor.newBuilder().setName("input").setDatatype("FP32")
                            .addShape(options.rows()).addShape(options.features()).setContents(contents))
                    .build();
        }

        @Override
        public CompletableFuture<Void> send() {
            CompletableFuture<Void> done = new CompletableFuture<>();
            ListenableFuture<?> call = live
                    ? stub.withDeadlineAfter(10, TimeUnit.SECONDS).serverLive(ServerLiveRequest.getDefaultInstance())
                    : stub.withDeadlineAfter(10, TimeUnit.SECONDS).modelInfer(request);
            call.addListener(() -> {
                try {
                    call.get();
                    done.complete(null);
                } catch (Exception e) {
                    done.completeExceptionally(e);
                }
            }, Runnable::run);
            return done;
        }

        @Override
        public void close() {
            channel.shutdownNow();
        }
    }
}
