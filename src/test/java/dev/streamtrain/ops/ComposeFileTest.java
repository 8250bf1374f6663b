package dev.streamtrain.ops;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * docker/compose.yaml, the local full stack, checked without a Docker engine: host paths it mounts exist, services
 * it depends on exist, ports are published on 127.0.0.1 once each, the streamtrain containers' configuration
 * variables are keys the service has, trainer and replica share broker, topics and store, the topics exist, the
 * memory limits fit the image's JVM flags, and Prometheus's configuration passes the real promtool.
 */
class ComposeFileTest {

    private static final Path ROOT = Path.of("").toAbsolutePath();
    private static final Path DOCKER = ROOT.resolve("docker");
    private static final String RULES_IN_CONTAINER = "/etc/prometheus/rules/streamtrain-rules.yaml";
    private static final long MIN_MEMORY = 1L << 30;
    /** Variables of the streamtrain containers that must be the same on the trainer and on the replicas. */
    private static final List<String> SHARED = List.of("KAFKA_BOOTSTRAP_SERVERS", "STREAMTRAIN_CHECKPOINT_ROOT",
            "STREAMTRAIN_CHECKPOINT_S3_ENDPOINT", "STREAMTRAIN_CHECKPOINT_S3_REGION", "STREAMTRAIN_CHECKPOINT_S3_PATH_STYLE",
            "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "STREAMTRAIN_MODEL_SPEC");

    private static ComposeFile compose;
    private static List<String> streamtrain;
    private static Properties application;

    @BeforeAll
    static void read() throws IOException {
        compose = ComposeFile.read(DOCKER.resolve("compose.yaml"));
        String image = compose.services().stream()
                .filter(s -> compose.service(s).path("build").path("dockerfile").asText().equals("docker/Dockerfile"))
                .map(compose::image).findFirst().orElseThrow(() -> new AssertionError("no service builds docker/Dockerfile"));
        streamtrain = compose.services().stream().filter(s -> compose.image(s).equals(image)).toList();
        application = new Properties();
        try (Reader reader = Files.newBufferedReader(ROOT.resolve("src/main/resources/application.properties"))) {
            application.load(reader);
        }
    }

    @Test
    void everyBindMountedHostPathExists() {
        List<String> missing = compose.mounts().stream().filter(ComposeFile.Mount::bind)
                .filter(m -> !Files.exists(DOCKER.resolve(m.source()).normalize()))
                .map(m -> m.service() + ": " + DOCKER.relativize(DOCKER.resolve(m.source()).normalize()) + " (repository: "
                        + ROOT.relativize(DOCKER.resolve(m.source()).normalize()) + ")")
                .toList();
        assertThat(missing).as("host paths mounted by docker/compose.yaml that do not exist").isEmpty();
    }

    @Test
    void everyNamedVolumeIsDeclared() {
        assertThat(compose.mounts().stream().filter(m -> !m.bind()).map(ComposeFile.Mount::source))
                .allMatch(compose.namedVolumes()::contains);
    }

    @Test
    void everyDependencyIsAService() {
        for (String service : compose.services()) {
            assertThat(compose.dependsOn(service)).as("depends_on of " + service).allMatch(compose.services()::contains);
        }
    }

    @Test
    void portsArePublishedOnLocalhostOnlyAndOnceEach() {
        List<ComposeFile.Port> ports = compose.ports();
        assertThat(ports).isNotEmpty();
        assertThat(ports).as("published ports not bound to 127.0.0.1").allMatch(p -> p.hostIp().equals("127.0.0.1"));
        List<String> published = ports.stream().map(ComposeFile.Port::published).toList();
        assertThat(published).as("host ports").doesNotHaveDuplicates().allMatch(p -> p.matches("[0-9]+"));
    }

    @Test
    void theStreamtrainContainersSetOnlyConfigurationKeysTheServiceHas() throws IOException {
        Set<String> keys = ComposeConfigKeys.of(ROOT);
        assertThat(keys).as("keys found in the code").contains("streamtrain.checkpoint.s3.path-style",
                "streamtrain.admin.token", "streamtrain.mode", "kafka.bootstrap.servers");
        List<String> variables = new ArrayList<>();
        for (String service : streamtrain) {
            compose.environment(service).keySet().forEach(v -> variables.add(service + ": " + v));
        }
        assertThat(ComposeConfigKeys.unknown(variables, keys)).as("variables that configure no key of the service").isEmpty();
    }

    @Test
    void theKeyCheckKnowsKafkaClientKeysAndRefusesTypos() throws IOException {
        Set<String> keys = ComposeConfigKeys.of(ROOT);
        assertThat(ComposeConfigKeys.unknown(List.of("KAFKA_SECURITY_PROTOCOL", "KAFKA_SASL_MECHANISM",
                "KAFKA_SASL_JAAS_CONFIG", "KAFKA_SSL_TRUSTSTORE_TYPE", "KAFKA_SSL_TRUSTSTORE_LOCATION",
                "KAFKA_SSL_KEYSTORE_CERTIFICATE_CHAIN", "KAFKA_SSL_ENDPOINT_IDENTIFICATION_ALGORITHM",
                "KAFKA_BOOTSTRAP_SERVERS", "STREAMTRAIN_CHECKPOINT_INTERVAL", "AWS_REGION"), keys)).isEmpty();
        assertThat(ComposeConfigKeys.unknown(List.of("a: KAFKA_SASL_MECHANISMS", "b: KAFKA_SSL_TRUSTSTORE_TYP",
                "c: STREAMTRAIN_CHECKPOINT_INTERVALL", "d: MP_MESSAGING_INCOMING_EXAMPLES_TOPICS"), keys))
                .containsExactly("a: KAFKA_SASL_MECHANISMS", "b: KAFKA_SSL_TRUSTSTORE_TYP",
                        "c: STREAMTRAIN_CHECKPOINT_INTERVALL", "d: MP_MESSAGING_INCOMING_EXAMPLES_TOPICS");
    }

    @Test
    void trainerAndReplicasShareBrokerTopicsAndStore() {
        List<String> trainers = streamtrain.stream().filter(s -> !"serve".equals(compose.environment(s).get("STREAMTRAIN_MODE"))).toList();
        List<String> replicas = streamtrain.stream().filter(s -> "serve".equals(compose.environment(s).get("STREAMTRAIN_MODE"))).toList();
        assertThat(trainers).as("trainers").hasSize(1);
        assertThat(replicas).as("serving-only replicas").isNotEmpty();
        Map<String, String> trainer = compose.environment(trainers.get(0));
        assertThat(trainer.get("STREAMTRAIN_CHECKPOINT_ROOT")).as("the trainer's checkpoint store").startsWith("s3://");
        assertThat(trainer).containsKey("KAFKA_BOOTSTRAP_SERVERS");
        for (String replica : replicas) {
            Map<String, String> env = compose.environment(replica);
            for (String variable : SHARED) {
                assertThat(env.get(variable)).as(replica + " " + variable + " (the trainer's)").isEqualTo(trainer.get(variable));
            }
            Set<String> topics = new HashSet<>(env.keySet());
            topics.addAll(trainer.keySet());
            topics.stream().filter(v -> v.startsWith("MP_MESSAGING_") && v.endsWith("_TOPIC"))
                    .forEach(v -> assertThat(env.get(v)).as(replica + " " + v).isEqualTo(trainer.get(v)));
        }
    }

    @Test
    void theTopicsTheServiceUsesAreCreated() {
        Set<String> needed = new TreeSet<>();
        for (String key : List.of("mp.messaging.incoming.examples.topic", "mp.messaging.incoming.examples.dead-letter-queue.topic",
                "mp.messaging.outgoing.events.topic")) {
            for (String service : streamtrain) {
                needed.add(compose.environment(service).getOrDefault(ComposeConfigKeys.environmentName(key), application.getProperty(key)));
            }
        }
        Set<String> created = new TreeSet<>();
        for (String service : compose.services()) {
            String topics = compose.environment(service).get("TOPICS");
            if (topics != null && compose.service(service).toString().contains("kafka-topics.sh")) {
                created.addAll(List.of(topics.trim().split("\\s+")));
            }
        }
        assertThat(created).as("topics created by the stack").containsAll(needed);
        String producerTopic = compose.environment("producer").get("TOPIC");
        assertThat(producerTopic).as("the producer's topic").isEqualTo(application.getProperty("mp.messaging.incoming.examples.topic"));
    }

    @Test
    void memoryLimitsFitTheImagesJvmFlagsAndShutdownWaitsForTheFinalCheckpoint() {
        for (String service : streamtrain) {
            JsonNode limit = compose.service(service).path("mem_limit");
            assertThat(limit.isMissingNode()).as(service + " mem_limit").isFalse();
            assertThat(bytes(limit.asText())).as(service + " mem_limit (the image's flags are sized for at least 1 GiB)")
                    .isGreaterThanOrEqualTo(MIN_MEMORY);
            Duration grace = Duration.parse("PT" + compose.service(service).path("stop_grace_period").asText("10s").toUpperCase());
            if (!"serve".equals(compose.environment(service).get("STREAMTRAIN_MODE"))) {
                assertThat(grace).as(service + " stop_grace_period above streamtrain.checkpoint.shutdown-timeout (60 s)")
                        .isGreaterThan(Duration.ofSeconds(60));
            }
        }
    }

    private static long bytes(String size) {
        String s = size.trim().toLowerCase();
        long unit = s.endsWith("g") ? 1L << 30 : s.endsWith("m") ? 1L << 20 : s.endsWith("k") ? 1L << 10 : 1;
        return Long.parseLong(unit == 1 ? s.replace("b", "") : s.substring(0, s.length() - 1)) * unit;
    }

    @Test
    void prometheusScrapesEveryStreamtrainContainer() throws IOException {
        JsonNode config = new ObjectMapper(new YAMLFactory()).readTree(DOCKER.resolve("prometheus/prometheus.yml").toFile());
        Set<String> targets = new TreeSet<>();
        for (JsonNode job : config.path("scrape_configs")) {
            if (job.path("metrics_path").asText().equals("/q/metrics")) {
                job.path("static_configs").forEach(c -> c.path("targets").forEach(t -> targets.add(t.asText())));
            }
        }
        assertThat(targets).containsAll(streamtrain.stream().map(s -> s + ":8080").toList());
        assertThat(config.path("rule_files").get(0).asText()).isEqualTo(RULES_IN_CONTAINER);
        assertThat(compose.mounts()).as("the rule file is mounted where prometheus.yml names it")
                .anyMatch(m -> m.target().equals(RULES_IN_CONTAINER) && m.source().endsWith("monitoring/prometheus/streamtrain-rules.yaml"));
    }

    @Test
    void grafanaLoadsTheDashboardFromWhereItIsMountedAndUsesPrometheus() throws IOException {
        ObjectMapper yaml = new ObjectMapper(new YAMLFactory());
        JsonNode provider = yaml.readTree(DOCKER.resolve("grafana/provisioning/dashboards/streamtrain.yaml").toFile())
                .path("providers").get(0);
        String dashboards = provider.path("options").path("path").asText();
        assertThat(compose.mounts()).anyMatch(m -> m.service().equals("grafana")
                && m.source().endsWith("monitoring/grafana/streamtrain-dashboard.json") && m.target().startsWith(dashboards + "/"));
        JsonNode datasource = yaml.readTree(DOCKER.resolve("grafana/provisioning/datasources/prometheus.yaml").toFile())
                .path("datasources").get(0);
        assertThat(datasource.path("type").asText()).isEqualTo("prometheus");
        assertThat(datasource.path("isDefault").asBoolean()).isTrue();
        assertThat(datasource.path("url").asText()).isEqualTo("http://prometheus:9090");
        assertThat(compose.environment("grafana")).containsEntry("GF_AUTH_ANONYMOUS_ENABLED", "true")
                .containsEntry("GF_AUTH_ANONYMOUS_ORG_ROLE", "Viewer");
    }

    @Test
    void promtoolAcceptsThePrometheusConfiguration(@TempDir Path work) throws Exception {
        // the rule file is checked with its own test below; here the configuration without it
        Path config = rewrittenConfig(work, null);
        assertThat(promtool(work, "check", "config", config.toString())).isEqualTo(0);
    }

    @Test
    void promtoolAcceptsThePrometheusConfigurationWithTheAlertRules(@TempDir Path work) throws Exception {
        Path rules = ROOT.resolve("monitoring/prometheus/streamtrain-rules.yaml");
        assertThat(rules).as("the rule file prometheus.yml loads").exists();
        Path config = rewrittenConfig(work, rules);
        assertThat(promtool(work, "check", "config", config.toString())).isEqualTo(0);
    }

    /** prometheus.yml with rule_files pointing at the host's copy of the rule file, or at none. */
    private static Path rewrittenConfig(Path work, Path rules) throws IOException {
        ObjectMapper yaml = new ObjectMapper(new YAMLFactory());
        ObjectNode config = (ObjectNode) yaml.readTree(DOCKER.resolve("prometheus/prometheus.yml").toFile());
        if (rules == null) {
            config.remove("rule_files");
        } else {
            config.putArray("rule_files").add(rules.toString());
        }
        Path copy = work.resolve("prometheus.yml");
        yaml.writeValue(copy.toFile(), config);
        return copy;
    }

    /** Runs promtool through {@link PrometheusBinaries} (PATH or PROMTOOL_BIN, time-limited); its exit code. */
    private static int promtool(Path work, String... args) throws Exception {
        PrometheusBinaries.Result result = PrometheusBinaries.promtool(work, args);
        assertThat(result.exitCode()).as("promtool said:\n" + result.output()).isEqualTo(0);
        return result.exitCode();
    }
}
