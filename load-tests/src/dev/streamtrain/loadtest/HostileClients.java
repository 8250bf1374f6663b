package dev.streamtrain.loadtest;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Hostile HTTP clients against a running service, for a fixed time, counting the status lines they get back: the
 * attacker side of load-tests/hostile.sh, which measures the trainer and an ordinary client meanwhile.
 *
 * <pre>
 * java -cp ... dev.streamtrain.loadtest.HostileClients --url=http://127.0.0.1:8080 --attack=slow --duration=30s
 *      [--clients=200]
 * </pre>
 * Attacks: {@code slow} (each client sends a request's body one byte a second, and reconnects when cut off),
 * {@code idle} (each client holds a keep-alive connection open after one request, and reconnects when closed),
 * {@code oversized} (each client streams an endless chunked body), {@code nested} (bodies of 100,000 nested
 * brackets), {@code rows} (requests that claim a million rows), {@code headers} (each client sends a request's line
 * and headers one byte a second, the slowloris), {@code connections} (each client opens a connection and sends
 * nothing), {@code mixed} (a fifth of the clients each of the first five).
 */
public final class HostileClients {

    private static final String INFER = "/v2/models/digits/infer";

    private final URI url;
    private final long deadline;
    private final Map<String, AtomicLong> outcomes = new ConcurrentHashMap<>();

    private HostileClients(URI url, Duration duration) {
        this.url = url;
        this.deadline = System.nanoTime() + duration.toNanos();
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> o = new TreeMap<>();
        for (String arg : args) {
            o.put(arg.substring(2, arg.indexOf('=')), arg.substring(arg.indexOf('=') + 1));
        }
        String attack = o.getOrDefault("attack", "mixed");
        int clients = Integer.parseInt(o.getOrDefault("clients", "200"));
        Duration duration = Duration.parse("PT" + o.getOrDefault("duration", "30s").toUpperCase());
        HostileClients hostile = new HostileClients(URI.create(o.getOrDefault("url", "http://127.0.0.1:8080")), duration);
        List<Thread> threads = new ArrayList<>();
        List<String> kinds = attack.equals("mixed") ? List.of("slow", "idle", "oversized", "nested", "rows")
                : List.of(attack);
        for (int i = 0; i < clients; i++) {
            String kind = kinds.get(i % kinds.size());
            Thread thread = new Thread(() -> hostile.run(kind), "hostile-" + kind + "-" + i);
            thread.setDaemon(true);
            thread.start();
            threads.add(thread);
        }
        for (Thread thread : threads) {
            thread.join(duration.toMillis() + 30_000);
        }
        System.out.println("hostile " + attack + " x" + clients + ": " + new TreeMap<>(hostile.outcomes));
    }

    private boolean running() {
        return System.nanoTime() < deadline;
    }

    private void count(String outcome) {
        outcomes.computeIfAbsent(outcome, k -> new AtomicLong()).incrementAndGet();
    }

    private void run(String kind) {
        while (running()) {
            try (Socket socket = new Socket(url.getHost(), url.getPort())) {
                socket.setSoTimeout(120_000);
                switch (kind) {
                    case "slow" -> slow(socket);
                    case "idle" -> idle(socket);
                    case "oversized" -> oversized(socket);
                    case "nested" -> send(socket, body("[1,64]", "[".repeat(100_000) + "]".repeat(100_000)));
                    case "rows" -> send(socket, body("[1000000,64]", "[" + row() + "]"));
                    case "headers" -> slowHeaders(socket);
                    case "connections" -> silent(socket);
                    default -> throw new IllegalArgumentException("unknown attack " + kind);
                }
            } catch (IOException e) {
                count(kind + " " + e.getClass().getSimpleName());
                sleepQuietly(100);
            }
        }
    }

    private void slow(Socket socket) throws IOException {
        byte[] body = body("[1,64]", row()).getBytes(StandardCharsets.US_ASCII);
        OutputStream out = socket.getOutputStream();
        out.write(head("Content-Length: " + body.length));
        try {
            for (int i = 0; i < body.length && running(); i++) {
                out.write(body[i]);
                out.flush();
                sleepQuietly(1000);
            }
        } catch (IOException cutOff) {
            // the service closed the connection; its answer says why
        }
        count("slow " + statusLine(socket.getInputStream()));
    }

    private void slowHeaders(Socket socket) throws IOException {
        byte[] head = ("GET /v2/health/live HTTP/1.1\r\nHost: x\r\n" + "X-Padding: 1\r\n".repeat(2000))
                .getBytes(StandardCharsets.US_ASCII);
        long opened = System.nanoTime();
        try {
            OutputStream out = socket.getOutputStream();
            for (int i = 0; i < head.length && running(); i++) {
                out.write(head[i]);
                out.flush();
                sleepQuietly(1000);
            }
        } catch (IOException cutOff) {
            count("headers cut off after " + Duration.ofNanos(System.nanoTime() - opened).toSeconds() + " s");
            return;
        }
        count("headers still sending at the end");
    }

    private void silent(Socket socket) throws IOException {
        long opened = System.nanoTime();
        socket.setSoTimeout((int) Math.max(1, Duration.ofNanos(deadline - opened).toMillis()));
        InputStream in = socket.getInputStream();
        try {
            while (running() && in.read() >= 0) {
                // nothing is asked, so nothing should come
            }
        } catch (java.net.SocketTimeoutException end) {
            // the attack's end
        }
        count(running() ? "connections closed by the service after "
                + Duration.ofNanos(System.nanoTime() - opened).toSeconds() + " s" : "connections open at the end");
    }

    private void idle(Socket socket) throws IOException {
        socket.getOutputStream().write(("GET /v2/health/live HTTP/1.1\r\nHost: x\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        count("idle " + statusLine(socket.getInputStream()));
        long opened = System.nanoTime();
        // hold it until the service closes it
        InputStream in = socket.getInputStream();
        while (running() && in.read() >= 0) {
            // the rest of the first answer
        }
        if (running()) {
            count("idle closed by the service after " + Duration.ofNanos(System.nanoTime() - opened).toSeconds() + " s");
        }
    }

    private void oversized(Socket socket) throws IOException {
        OutputStream out = socket.getOutputStream();
        out.write(head("Transfer-Encoding: chunked"));
        byte[] chunk = (row() + ",").repeat(100).getBytes(StandardCharsets.US_ASCII);
        byte[] size = (Integer.toHexString(chunk.length) + "\r\n").getBytes(StandardCharsets.US_ASCII);
        byte[] start = "{\"inputs\":[{\"name\":\"input\",\"shape\":[1000000,64],\"datatype\":\"FP32\",\"data\":["
                .getBytes(StandardCharsets.US_ASCII);
        try {
            out.write((Integer.toHexString(start.length) + "\r\n").getBytes(StandardCharsets.US_ASCII));
            out.write(start);
            out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
            while (running()) {
                out.write(size);
                out.write(chunk);
                out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
            }
        } catch (IOException refused) {
            // the service stopped reading
        }
        count("oversized " + statusLine(socket.getInputStream()));
    }

    private void send(Socket socket, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.US_ASCII);
        OutputStream out = socket.getOutputStream();
        out.write(head("Content-Length: " + bytes.length));
        out.write(bytes);
        out.flush();
        String status = statusLine(socket.getInputStream());
        count(status.isEmpty() ? "no answer" : "answered " + status);
    }

    private static byte[] head(String length) {
        return ("POST " + INFER + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" + length + "\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII);
    }

    private static String body(String shape, String data) {
        return "{\"inputs\":[{\"name\":\"input\",\"shape\":" + shape + ",\"datatype\":\"FP32\",\"data\":" + data + "}]}";
    }

    private static String row() {
        return "[" + String.join(",", Collections.nCopies(64, "1.5")) + "]";
    }

    /** The status code of the answer ("408"), or "" when the connection closed without one. */
    private static String statusLine(InputStream in) throws IOException {
        StringBuilder line = new StringBuilder();
        for (int b = in.read(); b >= 0 && b != '\n'; b = in.read()) {
            line.append((char) b);
        }
        String[] parts = line.toString().split(" ");
        return parts.length > 1 ? parts[1] : "";
    }

    private static void sleepQuietly(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
