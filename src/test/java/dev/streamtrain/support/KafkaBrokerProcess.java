package dev.streamtrain.support;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.errors.TopicExistsException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.awaitility.Awaitility.await;

/**
 * A real single-node KRaft broker (combined broker and controller) in its own JVM, with its log on disk and a
 * port that stays the same across restarts: for tests that stop the broker under a running service and start
 * it again, with every record kept. {@link dev.streamtrain.embedded.EmbeddedKafka} lives in the test's JVM and
 * loses its log on close, so it cannot be restarted. The broker runs {@code kafka.Kafka} from the test
 * classpath (kafka_2.13 comes with the test kit); its output goes to {@code <dir>/broker.log}.
 */
public final class KafkaBrokerProcess implements AutoCloseable {

    private static final Duration START_TIMEOUT = Duration.ofSeconds(90);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(60);

    private final Path dir;
    private final int port;
    private final Thread killOnExit = new Thread(this::kill, "kafka-broker-kill-on-exit");
    private volatile Process process;

    private KafkaBrokerProcess(Path dir, int port) {
        this.dir = dir;
        this.port = port;
    }

    /** Formats a fresh log under {@code dir} (which must not hold one yet) and starts the broker. */
    public static KafkaBrokerProcess start(Path dir) {
        Path absolute = dir.toAbsolutePath();
        KafkaBrokerProcess broker = new KafkaBrokerProcess(absolute, freePort());
        try {
            Files.createDirectories(absolute);
            Files.writeString(absolute.resolve("server.properties"), broker.properties(freePort()));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare the broker's files in " + absolute, e);
        }
        broker.run("format", List.of("kafka.tools.StorageTool", "format", "-t", Uuid.randomUuid().toString(),
                "-c", absolute.resolve("server.properties").toString()));
        Runtime.getRuntime().addShutdownHook(broker.killOnExit);
        broker.launch();
        return broker;
    }

    public String bootstrapServers() {
        return "127.0.0.1:" + port;
    }

    public long pid() {
        return process.pid();
    }

    /** Creates the topics (one replica each) unless they exist already. */
    public void createTopics(Map<String, Integer> partitionsByTopic) {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers()))) {
            for (var result : admin.createTopics(partitionsByTopic.entrySet().stream()
                    .map(e -> new NewTopic(e.getKey(), e.getValue(), (short) 1)).toList()).values().values()) {
                try {
                    result.get(30, TimeUnit.SECONDS);
                } catch (ExecutionException e) {
                    if (!(e.getCause() instanceof TopicExistsException)) {
                        throw new IllegalStateException("cannot create topic: " + e.getCause().getMessage(), e);
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while creating topics", e);
        } catch (java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("the broker did not create the topics within 30 s", e);
        }
    }

    /** A controlled shutdown (SIGTERM; SIGKILL after 60 s): the log is flushed and kept for {@link #restart}. */
    public void stop() {
        if (process == null || !process.isAlive()) {
            return;
        }
        Processes.terminate(process, STOP_TIMEOUT);
    }

    /** Starts the stopped broker again on the same port with the same log. */
    public void restart() {
        stop();
        launch();
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
        process = spawn("broker", List.of("kafka.Kafka", dir.resolve("server.properties").toString()));
        try {
            await().atMost(START_TIMEOUT).pollInterval(Duration.ofMillis(200)).until(() -> {
                if (!process.isAlive()) {
                    throw new IllegalStateException("the broker exited with " + process.exitValue()
                            + " while starting; the end of its log:\n" + tail(dir.resolve("broker.log")));
                }
                return answers();
            });
            // the port is open before the broker has registered with its controller: one metadata round trip
            createTopics(Map.of());
        } catch (RuntimeException e) {
            kill();
            throw e;
        }
    }

    private void run(String name, List<String> arguments) {
        Process tool = spawn(name, arguments);
        try {
            if (!tool.waitFor(60, TimeUnit.SECONDS) || tool.exitValue() != 0) {
                tool.destroyForcibly();
                throw new IllegalStateException(String.join(" ", arguments) + " failed; the end of its log:\n"
                        + tail(dir.resolve(name + ".log")));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running " + arguments.get(0), e);
        }
    }

    private Process spawn(String name, List<String> arguments) {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                .toString(), "-Xmx512m", "-XX:+UseSerialGC", "-Djava.util.logging.manager=org.jboss.logmanager.LogManager",
                "-cp", System.getProperty("java.class.path")));
        command.addAll(arguments);
        try {
            return new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve(name + ".log").toFile())).start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + arguments.get(0), e);
        }
    }

    private boolean answers() {
        try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), port)) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private String properties(int controllerPort) {
        // one node: every internal topic must live with a replication factor of 1
        return "process.roles=broker,controller\n"
                + "node.id=1\n"
                + "controller.quorum.voters=1@127.0.0.1:" + controllerPort + "\n"
                + "listeners=PLAINTEXT://127.0.0.1:" + port + ",CONTROLLER://127.0.0.1:" + controllerPort + "\n"
                + "advertised.listeners=PLAINTEXT://127.0.0.1:" + port + "\n"
                + "controller.listener.names=CONTROLLER\n"
                + "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT\n"
                + "inter.broker.listener.name=PLAINTEXT\n"
                + "log.dirs=" + dir.resolve("log") + "\n"
                + "offsets.topic.replication.factor=1\n"
                + "offsets.topic.num.partitions=1\n"
                + "transaction.state.log.replication.factor=1\n"
                + "transaction.state.log.min.isr=1\n"
                + "share.coordinator.state.topic.replication.factor=1\n"
                + "share.coordinator.state.topic.min.isr=1\n"
                + "group.initial.rebalance.delay.ms=0\n"
                + "auto.create.topics.enable=true\n";
    }

    private void kill() {
        if (process != null) {
            process.destroyForcibly();
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
}
