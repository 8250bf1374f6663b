package dev.streamtrain.support;

import org.awaitility.core.ConditionTimeoutException;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.HttpURLConnection;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import javax.net.ssl.HttpsURLConnection;
import javax.net.ssl.TrustManager;

import static org.awaitility.Awaitility.await;

/**
 * A real S3 API server for tests: S3Proxy in its own JVM (its classpath clashes with Quarkus's), on a free
 * loopback port, in memory or on disk, over HTTP or (with {@link #startHttps}) HTTPS with a test CA's
 * certificate. Its classpath comes from {@code target/s3proxy.classpath}, which the build writes in generate-test-resources; its output goes to {@code target/s3proxy/<port>/server.log}.
 */
public final class S3ProxyServer implements AutoCloseable {

    private static final Path CLASSPATH_FILE = Path.of("target", "s3proxy.classpath");
    private static final String ACCESS_KEY = "streamtrain";
    private static final String SECRET_KEY = "streamtrain-secret";
    private static final Duration START_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(10);

    private final Path dataDir;
    private final int port;
    private final Path workDir;
    private final TestCertificates tls;
    private final Thread killOnExit = new Thread(this::kill, "s3proxy-kill-on-exit");
    private volatile Process process;
    private boolean paused;

    private S3ProxyServer(Path dataDir, int port, Path workDir, TestCertificates tls) {
        this.dataDir = dataDir;
        this.port = port;
        this.workDir = workDir;
        this.tls = tls;
    }

    /** Starts a server keeping its objects under {@code dataDir} across restarts, or in memory when null. */
    public static S3ProxyServer start(Path dataDir) {
        return startHttps(dataDir, null);
    }

    /**
     * As {@link #start}, but HTTPS only, with the server certificate of {@code tls} (plain HTTP when it is null); the
     * server's own {@link #client()} trusts that CA.
     */
    public static S3ProxyServer startHttps(Path dataDir, TestCertificates tls) {
        int port = freePort();
        Path workDir = Path.of("target", "s3proxy", String.valueOf(port)).toAbsolutePath();
        S3ProxyServer server = new S3ProxyServer(dataDir == null ? null : dataDir.toAbsolutePath(), port, workDir,
                tls);
        try {
            Files.createDirectories(workDir);
            if (dataDir != null) {
                Files.createDirectories(dataDir);
            }
            Files.writeString(workDir.resolve("server.properties"), server.properties());
            Files.writeString(workDir.resolve("logback.xml"), LOGBACK);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare S3Proxy's files in " + workDir, e);
        }
        Runtime.getRuntime().addShutdownHook(server.killOnExit);
        server.launch();
        return server;
    }

    public String endpoint() {
        return (tls == null ? "http" : "https") + "://127.0.0.1:" + port;
    }

    public String accessKey() {
        return ACCESS_KEY;
    }

    public String secretKey() {
        return SECRET_KEY;
    }

    public long pid() {
        return process.pid();
    }

    /** A path-style client with this server's credentials; the caller closes it. */
    public S3Client client() {
        UrlConnectionHttpClient.Builder http = UrlConnectionHttpClient.builder()
                .connectionTimeout(Duration.ofSeconds(5));
        if (tls != null) {
            TrustManager[] trust = tls.trustManagers();
            http.tlsTrustManagersProvider(() -> trust);
        }
        return S3Client.builder()
                .httpClientBuilder(http)
                .endpointOverride(URI.create(endpoint()))
                .forcePathStyle(true)
                .region(Region.US_EAST_1)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(ACCESS_KEY, SECRET_KEY)))
                .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
                .build();
    }

    public void createBucket(String bucket) {
        try (S3Client client = client()) {
            client.createBucket(b -> b.bucket(bucket));
        }
    }

    /** Ends the process (SIGTERM, then SIGKILL after 10 s) and waits for it; the port is free afterwards. */
    public void stop() {
        if (process == null || !process.isAlive()) {
            return;
        }
        if (paused) {
            resume();
        }
        Processes.terminate(process, STOP_TIMEOUT);
    }

    /** Stops the server and starts it again on the same port with the same data directory. */
    public void restart() {
        stop();
        launch();
    }

    /** Freezes the process (SIGSTOP): connections are accepted by the kernel but never answered. */
    public void pause() {
        signal("STOP");
        paused = true;
    }

    /** Lets a paused process run again (SIGCONT). */
    public void resume() {
        signal("CONT");
        paused = false;
    }

    @Override
    public void close() {
        stop();
        try {
            Runtime.getRuntime().removeShutdownHook(killOnExit);
        } catch (IllegalStateException e) {
            // the JVM is already shutting down and the hook runs anyway
        }
    }

    private void launch() {
        Path log = workDir.resolve("server.log");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> command = List.of(java, "-Xmx256m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
                "-Dlogback.configurationFile=" + workDir.resolve("logback.xml"),
                "-cp", classpath(), "org.gaul.s3proxy.Main", "--properties", workDir.resolve("server.properties").toString());
        try {
            process = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start S3Proxy with " + java, e);
        }
        paused = false;
        awaitAnswer(log);
    }

    // any HTTP answer (S3Proxy says 403 to an unsigned request) means Jetty and the blob store are up
    private void awaitAnswer(Path log) {
        try {
            await().atMost(START_TIMEOUT).pollInterval(Duration.ofMillis(50)).until(() -> {
                if (!process.isAlive()) {
                    throw new IllegalStateException("S3Proxy exited with " + process.exitValue() + " while starting;"
                            + " the end of " + log + ":\n" + tail(log));
                }
                return answers();
            });
        } catch (RuntimeException e) {
            kill();
            throw e instanceof ConditionTimeoutException ? new IllegalStateException("S3Proxy did not answer on "
                    + endpoint() + " within " + START_TIMEOUT + "; the end of " + log + ":\n" + tail(log), e) : e;
        }
    }

    private boolean answers() {
        try {
            HttpURLConnection connection = (HttpURLConnection) URI.create(endpoint() + "/").toURL().openConnection();
            if (connection instanceof HttpsURLConnection https) {
                https.setSSLSocketFactory(tls.sslContext(false).getSocketFactory());
            }
            connection.setConnectTimeout(500);
            connection.setReadTimeout(2000);
            try {
                return connection.getResponseCode() > 0;
            } finally {
                connection.disconnect();
            }
        } catch (IOException e) {
            return false;
        }
    }

    private String properties() {
        String storage = dataDir == null ? "jclouds.provider=transient\n"
                : "jclouds.provider=filesystem\njclouds.filesystem.basedir=" + dataDir + "\n";
        String listener = tls == null ? "s3proxy.endpoint=" + endpoint() + "\n"
                : "s3proxy.secure-endpoint=" + endpoint() + "\n"
                + "s3proxy.keystore-path=" + tls.serverKeystore() + "\n"
                + "s3proxy.keystore-password=" + tls.password() + "\n";
        return listener
                + "s3proxy.authorization=aws-v2-or-v4\n"
                + "s3proxy.identity=" + ACCESS_KEY + "\n"
                + "s3proxy.credential=" + SECRET_KEY + "\n"
                + "jclouds.identity=" + ACCESS_KEY + "\n"
                + "jclouds.credential=" + SECRET_KEY + "\n"
                + storage;
    }

    private void signal(String signal) {
        try {
            Process kill = new ProcessBuilder("kill", "-" + signal, String.valueOf(pid())).inheritIO().start();
            if (kill.waitFor() != 0) {
                throw new IllegalStateException("kill -" + signal + " " + pid() + " failed");
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while signalling S3Proxy", e);
        }
    }

    private void kill() {
        if (process != null) {
            process.destroyForcibly();
        }
    }

    private static String classpath() {
        try {
            return Files.readString(CLASSPATH_FILE, StandardCharsets.UTF_8).strip();
        } catch (IOException e) {
            throw new IllegalStateException("no S3Proxy classpath at " + CLASSPATH_FILE.toAbsolutePath()
                    + ": run ./mvnw generate-test-resources (or any build that runs tests) to write it", e);
        }
    }

    private static int freePort() {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("no free loopback port", e);
        }
    }

    private static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
        } catch (IOException e) {
            return "(unreadable: " + e.getMessage() + ")";
        }
    }

    // logback's default is DEBUG for everything, which slows the start and buries the errors
    private static final String LOGBACK = """
            <configuration>
              <appender name="out" class="ch.qos.logback.core.ConsoleAppender">
                <encoder><pattern>%d{HH:mm:ss.SSS} %-5level %logger{36} - %msg%n</pattern></encoder>
              </appender>
              <root level="WARN"><appender-ref ref="out"/></root>
              <logger name="org.gaul.s3proxy" level="INFO"/>
            </configuration>
            """;
}
