package dev.streamtrain.support;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;

import static org.awaitility.Awaitility.await;

/**
 * The packaged service ({@code target/quarkus-app/quarkus-run.jar}) in its own JVM, as a user runs it: for
 * tests that kill it hard ({@code kill -9}), stop it gracefully (SIGTERM) and start it again. Its output goes
 * to a log file under {@code target/it-logs}; a failure to start quotes the log's tail.
 */
public final class ServiceProcess implements AutoCloseable {

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    private final Process process;
    private final int port;
    private final Path log;
    private final HttpClient http;
    private final String scheme;

    private ServiceProcess(Process process, int port, Path log, SSLContext tls) {
        this.process = process;
        this.port = port;
        this.log = log;
        this.http = tls == null ? HTTP
                : HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).sslContext(tls).build();
        this.scheme = tls == null ? "http" : "https";
    }

    /** Starts the service with the given system properties and environment, and waits until it is ready. */
    public static ServiceProcess start(String name, Map<String, String> properties, Map<String, String> environment)
            throws IOException {
        return start(name, properties, environment, "/q/health/ready");
    }

    /** Starts the service and waits until {@code upPath} answers 200 (e.g. /q/health/live: started, maybe not ready). */
    public static ServiceProcess start(String name, Map<String, String> properties, Map<String, String> environment,
                                       String upPath) throws IOException {
        return start(name, properties, environment, upPath, null);
    }

    /**
     * Starts the service and waits until {@code upPath} answers 200; with {@code tls} not null over HTTPS on the one
     * port (quarkus.http.ssl-port is set to it too), the client trusting what {@code tls} trusts.
     */
    public static ServiceProcess start(String name, Map<String, String> properties, Map<String, String> environment,
                                       String upPath, SSLContext tls) throws IOException {
        Path jar = Path.of("target", "quarkus-app", "quarkus-run.jar");
        if (!Files.exists(jar)) {
            throw new IllegalStateException(jar + " is missing: integration tests run after `package`");
        }
        int port = freePort();
        List<String> command = new ArrayList<>(List.of(
                ProcessHandle.current().info().command().orElse("java"), "-Xmx1g", "-XX:+UseSerialGC"));
        command.add("-Dquarkus.http.port=" + port);
        if (tls != null) {
            command.add("-Dquarkus.http.ssl-port=" + port);
        }
        properties.forEach((key, value) -> command.add("-D" + key + "=" + value));
        command.add("-jar");
        command.add(jar.toString());
        Path logs = Files.createDirectories(Path.of("target", "it-logs"));
        Path log = logs.resolve(name + ".log");
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.to(log.toFile()));
        builder.environment().put("OMP_NUM_THREADS", "1");
        builder.environment().put("OMP_WAIT_POLICY", "PASSIVE");
        builder.environment().putAll(environment);
        ServiceProcess service = new ServiceProcess(builder.start(), port, log, tls);
        try {
            await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(100)).until(() -> {
                if (!service.process.isAlive()) {
                    throw new IllegalStateException("the service exited with " + service.process.exitValue()
                            + " while starting; its log ends:\n" + service.logTail());
                }
                return service.status(upPath) == 200;
            });
        } catch (RuntimeException e) {
            service.kill();
            throw e;
        }
        return service;
    }

    /** GET a path; the body, or throws when the status is not 200. */
    public String get(String path) throws IOException, InterruptedException {
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(10))
                .build(), HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != 200) {
            throw new IOException("GET " + path + " answered " + response.statusCode() + ": " + response.body());
        }
        return response.body();
    }

    /** The HTTP status of a GET; -1 when the service cannot be reached. */
    public int status(String path) {
        try {
            return http.send(HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(2)).build(),
                    HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    /** POST a JSON body (with a bearer token when not null); the body, or throws when the status is not 200. */
    public String post(String path, String json, String token) throws IOException, InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(json));
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        HttpResponse<String> response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != 200) {
            throw new IOException("POST " + path + " answered " + response.statusCode() + ": " + response.body());
        }
        return response.body();
    }

    public URI uri(String path) {
        return URI.create(scheme + "://127.0.0.1:" + port + path);
    }

    /** SIGKILL: no shutdown hook, no final checkpoint, no commit. */
    public void kill() {
        process.destroyForcibly();
        waitForExit();
    }

    /** SIGTERM, as Kubernetes stops a pod; waits for the process to finish its graceful shutdown. */
    public int terminate() {
        process.destroy();
        waitForExit();
        return process.exitValue();
    }

    /** The service's process id, e.g. to read its memory from {@code /proc/<pid>/status}. */
    public long pid() {
        return process.pid();
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    private void waitForExit() {
        try {
            if (!process.waitFor(120, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    public String logTail() {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            kill();
        }
    }
}
