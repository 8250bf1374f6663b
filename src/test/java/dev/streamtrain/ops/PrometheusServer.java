package dev.streamtrain.ops;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import dev.streamtrain.support.Processes;

import static org.awaitility.Awaitility.await;

/**
 * A real Prometheus server in its own process, for tests: it scrapes one target's {@code /q/metrics} every
 * {@link #SCRAPE_INTERVAL} (job {@code streamtrain}; the same timeout: the target is a service training on a shared
 * 2-core machine, and a scrape that takes longer than a second there is no fault), evaluates the given rule files
 * every second, keeps its data in a temporary directory and answers its HTTP API on a free loopback port. Its log
 * goes to {@code target/it-logs/prometheus.log}.
 */
final class PrometheusServer implements AutoCloseable {

    /** How often the target is scraped, and how long a scrape may take. */
    static final Duration SCRAPE_INTERVAL = Duration.ofSeconds(2);

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Process process;
    private final int port;
    private final Path log;

    private PrometheusServer(Process process, int port, Path log) {
        this.process = process;
        this.port = port;
        this.log = log;
    }

    /** Starts Prometheus scraping {@code target} (host:port) and waits until it is ready. */
    static PrometheusServer start(Path work, String target, List<Path> ruleFiles) throws IOException {
        Path config = work.resolve("prometheus.yml");
        StringBuilder yaml = new StringBuilder("""
                global:
                  scrape_interval: %1$ds
                  scrape_timeout: %1$ds
                  evaluation_interval: 1s
                rule_files:
                """.formatted(SCRAPE_INTERVAL.toSeconds()));
        ruleFiles.forEach(file -> yaml.append("  - '").append(file.toAbsolutePath()).append("'\n"));
        yaml.append("""
                scrape_configs:
                  - job_name: streamtrain
                    metrics_path: /q/metrics
                    static_configs:
                      - targets: ['%s']
                """.formatted(target));
        Files.writeString(config, yaml);
        int port = freePort();
        Path log = Files.createDirectories(Path.of("target", "it-logs")).resolve("prometheus.log");
        Process process = new ProcessBuilder(PrometheusBinaries.prometheus().toString(),
                "--config.file=" + config, "--storage.tsdb.path=" + work.resolve("data"),
                "--web.listen-address=127.0.0.1:" + port, "--log.level=info")
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        PrometheusServer server = new PrometheusServer(process, port, log);
        try {
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200)).until(() -> {
                if (!process.isAlive()) {
                    throw new IllegalStateException("prometheus exited with " + process.exitValue() + "; its log:\n"
                            + Files.readString(log));
                }
                return server.status("/-/ready") == 200;
            });
        } catch (RuntimeException e) {
            server.close();
            throw e;
        }
        return server;
    }

    /** An instant query now: the result array ({@code data.result}); throws on a query error. */
    JsonNode query(String promql) throws IOException, InterruptedException {
        return api("/api/v1/query?query=" + URLEncoder.encode(promql, StandardCharsets.UTF_8)).path("result");
    }

    /** The rule groups as Prometheus evaluates them ({@code data.groups} of /api/v1/rules). */
    JsonNode ruleGroups() throws IOException, InterruptedException {
        return api("/api/v1/rules").path("groups");
    }

    private JsonNode api(String pathAndQuery) throws IOException, InterruptedException {
        HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
                + pathAndQuery)).timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        JsonNode body = JSON.readTree(response.body());
        if (response.statusCode() != 200 || !"success".equals(body.path("status").asText())) {
            throw new IOException("Prometheus answered " + response.statusCode() + " to " + pathAndQuery + ": "
                    + response.body());
        }
        return body.path("data");
    }

    private int status(String path) {
        try {
            return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                    .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    Path log() {
        return log;
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    @Override
    public void close() {
        Processes.terminate(process, java.time.Duration.ofSeconds(20));
    }
}
