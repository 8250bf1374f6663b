package dev.streamtrain.support;

import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.config.SaslConfigs;
import org.apache.kafka.common.config.SslConfigs;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.metadata.storage.Formatter;
import org.apache.kafka.server.common.MetadataVersion;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A real single-node Apache Kafka broker (KRaft, combined broker and controller, in this JVM) that clients reach only
 * through secured listeners, as a production cluster would be reached:
 * <ul>
 * <li>{@code SASL_SSL}: TLS with the server certificate of {@link TestCertificates}, then SCRAM-SHA-512 for the user
 * {@link #USER}, created by the storage format's bootstrap records (as {@code kafka-storage format --add-scram}
 * does);</li>
 * <li>{@code MTLS}: TLS with client authentication required (a certificate signed by the test CA), which is also the
 * inter-broker listener.</li>
 * </ul>
 * The controller listener is plaintext on loopback, used only by the node itself.
 */
public final class SecuredKafkaBroker implements AutoCloseable {

    public static final String USER = "streamtrain";
    public static final String PASSWORD = "scram-secret-for-tests";

    private final KafkaRaftServer server;
    private final Path logDir;
    private final TestCertificates certificates;
    private final int saslPort;
    private final int mtlsPort;

    private SecuredKafkaBroker(KafkaRaftServer server, Path logDir, TestCertificates certificates, int saslPort,
                               int mtlsPort) {
        this.server = server;
        this.logDir = logDir;
        this.certificates = certificates;
        this.saslPort = saslPort;
        this.mtlsPort = mtlsPort;
    }

    /** Formats a fresh log directory, starts the broker and waits until it answers on the mTLS listener. */
    public static SecuredKafkaBroker start(TestCertificates certificates) {
        int saslPort = freePort();
        int mtlsPort = freePort();
        int controllerPort = freePort();
        try {
            Path logDir = Files.createTempDirectory("secured-kafka-");
            Properties props = brokerProperties(certificates, logDir, saslPort, mtlsPort, controllerPort);
            KafkaConfig config = KafkaConfig.fromProps(props, false);
            new Formatter().setPrintStream(new PrintStream(OutputStream.nullOutputStream()))
                    .setNodeId(config.nodeId())
                    .setClusterId(Uuid.randomUuid().toString())
                    .setReleaseVersion(MetadataVersion.LATEST_PRODUCTION)
                    .setControllerListenerName("CONTROLLER")
                    .setMetadataLogDirectory(logDir.toString())
                    .setDirectories(List.of(logDir.toString()))
                    .setScramArguments(List.of("SCRAM-SHA-512=[name=" + USER + ",password=" + PASSWORD + "]"))
                    .run();
            KafkaRaftServer server = new KafkaRaftServer(config, Time.SYSTEM);
            server.startup();
            SecuredKafkaBroker broker = new SecuredKafkaBroker(server, logDir, certificates, saslPort, mtlsPort);
            broker.awaitReady();
            return broker;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare the secured broker's log directory", e);
        } catch (Exception e) {
            throw new IllegalStateException("the secured Kafka broker did not start: " + e.getMessage(), e);
        }
    }

    private static Properties brokerProperties(TestCertificates tls, Path logDir, int saslPort, int mtlsPort,
                                               int controllerPort) {
        Properties p = new Properties();
        p.put("process.roles", "broker,controller");
        p.put("node.id", "1");
        p.put("controller.quorum.voters", "1@127.0.0.1:" + controllerPort);
        p.put("listeners", "SASL_SSL://127.0.0.1:" + saslPort + ",MTLS://127.0.0.1:" + mtlsPort
                + ",CONTROLLER://127.0.0.1:" + controllerPort);
        p.put("advertised.listeners", "SASL_SSL://127.0.0.1:" + saslPort + ",MTLS://127.0.0.1:" + mtlsPort);
        p.put("listener.security.protocol.map", "SASL_SSL:SASL_SSL,MTLS:SSL,CONTROLLER:PLAINTEXT");
        p.put("inter.broker.listener.name", "MTLS");
        p.put("controller.listener.names", "CONTROLLER");
        p.put("log.dirs", logDir.toString());
        // the server side of TLS, for both secured listeners
        p.put("ssl.keystore.type", "PKCS12");
        p.put("ssl.keystore.location", tls.serverKeystore().toString());
        p.put("ssl.keystore.password", tls.password());
        p.put("ssl.key.password", tls.password());
        p.put("ssl.truststore.type", "PKCS12");
        p.put("ssl.truststore.location", tls.truststore().toString());
        p.put("ssl.truststore.password", tls.password());
        p.put("listener.name.mtls.ssl.client.auth", "required");
        p.put("listener.name.sasl_ssl.ssl.client.auth", "none");
        p.put("sasl.enabled.mechanisms", "SCRAM-SHA-512");
        p.put("listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config",
                "org.apache.kafka.common.security.scram.ScramLoginModule required;");
        // one node: every internal topic must live with a replication factor of 1
        p.put("offsets.topic.replication.factor", "1");
        p.put("offsets.topic.num.partitions", "1");
        p.put("transaction.state.log.replication.factor", "1");
        p.put("transaction.state.log.min.isr", "1");
        p.put("share.coordinator.state.topic.replication.factor", "1");
        p.put("share.coordinator.state.topic.min.isr", "1");
        p.put("group.initial.rebalance.delay.ms", "0");
        p.put("log.cleaner.dedupe.buffer.size", "2097152");
        return p;
    }

    /** Client properties for the SASL_SSL listener with SCRAM-SHA-512 as {@code user}/{@code password}. */
    public Map<String, Object> saslSslClient(String user, String password) {
        Map<String, Object> client = trusting();
        client.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:" + saslPort);
        client.put(CommonClientConfigs.SECURITY_PROTOCOL_CONFIG, "SASL_SSL");
        client.put(SaslConfigs.SASL_MECHANISM, "SCRAM-SHA-512");
        client.put(SaslConfigs.SASL_JAAS_CONFIG, "org.apache.kafka.common.security.scram.ScramLoginModule required"
                + " username=\"" + user + "\" password=\"" + password + "\";");
        return client;
    }

    /** Client properties for the mTLS listener, presenting the test client certificate. */
    public Map<String, Object> mutualTlsClient() {
        Map<String, Object> client = trusting();
        client.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:" + mtlsPort);
        client.put(CommonClientConfigs.SECURITY_PROTOCOL_CONFIG, "SSL");
        client.put(SslConfigs.SSL_KEYSTORE_TYPE_CONFIG, "PKCS12");
        client.put(SslConfigs.SSL_KEYSTORE_LOCATION_CONFIG, certificates.clientKeystore().toString());
        client.put(SslConfigs.SSL_KEYSTORE_PASSWORD_CONFIG, certificates.password());
        client.put(SslConfigs.SSL_KEY_PASSWORD_CONFIG, certificates.password());
        return client;
    }

    /** Client properties for the mTLS listener without a client certificate (which the broker refuses). */
    public Map<String, Object> tlsClientWithoutCertificate() {
        Map<String, Object> client = trusting();
        client.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:" + mtlsPort);
        client.put(CommonClientConfigs.SECURITY_PROTOCOL_CONFIG, "SSL");
        return client;
    }

    private Map<String, Object> trusting() {
        Map<String, Object> client = new HashMap<>();
        client.put(SslConfigs.SSL_TRUSTSTORE_TYPE_CONFIG, "PKCS12");
        client.put(SslConfigs.SSL_TRUSTSTORE_LOCATION_CONFIG, certificates.truststore().toString());
        client.put(SslConfigs.SSL_TRUSTSTORE_PASSWORD_CONFIG, certificates.password());
        return client;
    }

    /** Creates the topics (one replica each) through the mTLS listener. */
    public void createTopics(Map<String, Integer> partitionsByTopic) {
        try (Admin admin = Admin.create(mutualTlsClient())) {
            admin.createTopics(partitionsByTopic.entrySet().stream()
                    .map(e -> new NewTopic(e.getKey(), e.getValue(), (short) 1)).toList())
                    .all().get(60, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("cannot create topics on the secured broker: " + e.getMessage(), e);
        }
    }

    private void awaitReady() throws Exception {
        try (Admin admin = Admin.create(mutualTlsClient())) {
            admin.describeCluster().nodes().get(60, TimeUnit.SECONDS);
        }
    }

    @Override
    public void close() {
        server.shutdown();
        server.awaitShutdown();
        try (Stream<Path> files = Files.walk(logDir)) {
            files.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
        } catch (IOException e) {
            // a temporary directory left behind is harmless
        }
    }

    private static int freePort() {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("no free loopback port", e);
        }
    }
}
