package dev.streamtrain.ops;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.LocalObjectReference;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.openshift.api.model.monitoring.v1.PodMonitor;
import io.fabric8.openshift.api.model.monitoring.v1.PrometheusRule;
import io.fabric8.openshift.api.model.monitoring.v1.PrometheusRuleSpec;
import io.fabric8.openshift.api.model.monitoring.v1.ServiceMonitor;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** helm lint and helm template of helm/streamtrain with default and non-default values; what each switch does. */
class HelmChartTest {

    @Test
    void lintsCleanInStrictMode() {
        var lint = HelmRender.lintStrict();
        assertThat(lint.isFailed()).as("helm lint --strict: %s", lint.getMessages()).isFalse();
        assertThat(lint.getMessages()).as("helm lint --strict").noneMatch(m -> m.contains("[WARNING]") || m.contains("[ERROR]"));
    }

    @Test
    void defaultValuesRenderEveryObjectAndPassTheChecks() {
        var objects = HelmRender.render("streamtrain");
        K8sChecks.checkAll(objects, "streamtrain");
        assertThat(objects.kindsAndNames()).containsExactlyInAnyOrderElementsOf(Stream.concat(
                K8sChecks.DEFAULT_OBJECTS.stream(), Stream.of("ConfigMap/streamtrain-test-inference")).toList());
        var annotations = objects.deployment("trainer").getSpec().getTemplate().getMetadata().getAnnotations();
        assertThat(annotations).containsKeys("checksum/config", "checksum/model-spec");
    }

    @Test
    void nonDefaultValuesChangeWhatTheySay() {
        var objects = HelmRender.render("digits-prod", "non-default.yaml");
        K8sChecks.checkAll(objects, "digits-prod");
        assertThat(objects.kindsAndNames()).as("switched off: ServiceAccount, model ConfigMap, monitoring objects, helm-test script")
                .containsExactlyInAnyOrder("ConfigMap/digits-prod-streamtrain-config",
                        "Deployment/digits-prod-streamtrain-trainer", "Service/digits-prod-streamtrain-trainer",
                        "Deployment/digits-prod-streamtrain-serving", "Service/digits-prod-streamtrain-serving",
                        "PodDisruptionBudget/digits-prod-streamtrain-serving");

        var config = objects.get(ConfigMap.class, "digits-prod-streamtrain-config").getData();
        assertThat(config).containsEntry("KAFKA_BOOTSTRAP_SERVERS", "kafka-0.kafka:9093,kafka-1.kafka:9093")
                .containsEntry("KAFKA_SECURITY_PROTOCOL", "SASL_SSL").containsEntry("KAFKA_SASL_MECHANISM", "SCRAM-SHA-512")
                .containsEntry("KAFKA_SSL_TRUSTSTORE_TYPE", "PEM")
                .containsEntry("KAFKA_SSL_ENDPOINT_IDENTIFICATION_ALGORITHM", "https")
                .containsEntry("KAFKA_SSL_TRUSTSTORE_LOCATION", "/etc/kafka-ca/ca.crt")
                .containsEntry("MP_MESSAGING_INCOMING_EXAMPLES_TOPIC", "digits.examples")
                .containsEntry("MP_MESSAGING_INCOMING_EXAMPLES_DEAD_LETTER_QUEUE_TOPIC", "digits.examples.dlq")
                .containsEntry("MP_MESSAGING_OUTGOING_EVENTS_TOPIC", "digits.events")
                .containsEntry("MP_MESSAGING_INCOMING_EXAMPLES_GROUP_ID", "digits-trainer")
                .containsEntry("STREAMTRAIN_CHECKPOINT_ROOT", "s3://ml-models/digits")
                .containsEntry("STREAMTRAIN_CHECKPOINT_S3_ENDPOINT", "http://minio.storage:9000")
                .containsEntry("STREAMTRAIN_CHECKPOINT_S3_REGION", "eu-west-1")
                .containsEntry("STREAMTRAIN_CHECKPOINT_S3_PATH_STYLE", "true");

        Deployment trainer = objects.deployment("trainer");
        Deployment serving = objects.deployment("serving");
        assertThat(serving.getSpec().getReplicas()).isEqualTo(3);
        assertThat(objects.get(PodDisruptionBudget.class, "digits-prod-streamtrain-serving").getSpec().getMaxUnavailable().getIntVal())
                .isEqualTo(2);
        for (Deployment deployment : objects.ofKind(Deployment.class)) {
            var pod = deployment.getSpec().getTemplate().getSpec();
            Container container = K8sPodChecks.container(deployment);
            assertThat(container.getImage()).isEqualTo("registry.example.com/ml/streamtrain:0.1.0-rc1");
            assertThat(container.getImagePullPolicy()).isEqualTo("Always");
            assertThat(pod.getImagePullSecrets()).extracting(LocalObjectReference::getName).containsExactly("registry-credentials");
            assertThat(pod.getServiceAccountName()).isEqualTo("ml-runner");
            assertThat(secretRefs(container)).containsExactlyInAnyOrder("minio-credentials/AWS_ACCESS_KEY_ID",
                    "minio-credentials/AWS_SECRET_ACCESS_KEY", "kafka-jaas/jaas");
            assertThat(container.getEnv()).extracting(EnvVar::getName).contains("KAFKA_SASL_JAAS_CONFIG")
                    .doesNotContain("STREAMTRAIN_ADMIN_TOKEN");
            assertThat(K8sPodChecks.env(container, "STREAMTRAIN_ADMIN_TOKEN_FILE")).as("the generated token, on /tmp")
                    .isEqualTo("/tmp/admin-token");
            assertThat(K8sPodChecks.env(container, "STREAMTRAIN_CHECKPOINT_INTERVAL")).isEqualTo("5m");
            assertThat(K8sPodChecks.env(container, "STREAMTRAIN_MODEL_SPEC")).isEqualTo("/etc/streamtrain/model/model.yaml");
            assertThat(pod.getVolumes()).filteredOn(v -> v.getConfigMap() != null)
                    .extracting(v -> v.getConfigMap().getName()).containsExactly("digits-spec");
            var annotations = deployment.getSpec().getTemplate().getMetadata().getAnnotations();
            assertThat(annotations).containsKey("checksum/config").doesNotContainKey("checksum/model-spec")
                    .containsEntry("prometheus.io/scrape", "false");
            assertThat(container.getEnvFrom()).extracting(e -> e.getConfigMapRef() != null ? "configMap/" + e.getConfigMapRef().getName()
                    : "secret/" + e.getSecretRef().getName())
                    .containsExactly("configMap/digits-prod-streamtrain-config", "secret/kafka-client-tls");
            assertThat(pod.getVolumes()).filteredOn(v -> v.getSecret() != null)
                    .extracting(v -> v.getName() + "/" + v.getSecret().getSecretName()).containsExactly("kafka-ca/kafka-ca");
            assertThat(container.getVolumeMounts()).filteredOn(m -> m.getName().equals("kafka-ca"))
                    .extracting(m -> m.getMountPath() + " " + m.getReadOnly()).containsExactly("/etc/kafka-ca true");
            assertThat(container.getStartupProbe().getPeriodSeconds()).isEqualTo(10);
            assertThat(container.getStartupProbe().getFailureThreshold()).isEqualTo(30);
        }
        assertThat(K8sPodChecks.env(K8sPodChecks.container(trainer), "JAVA_OPTS_APPEND")).isEqualTo("-XX:MaxRAMPercentage=60"
                + " -XX:+ExitOnOutOfMemoryError -Dorg.bytedeco.javacpp.maxbytes=1g -Dorg.bytedeco.javacpp.cachedir=/tmp/javacpp"
                + " -Djava.io.tmpdir=/tmp -XX:+UseG1GC");
        assertThat(K8sPodChecks.env(K8sPodChecks.container(serving), "JAVA_OPTS_APPEND"))
                .startsWith("-XX:MaxRAMPercentage=40 ").contains("-Dorg.bytedeco.javacpp.maxbytes=384m");
        assertThat(K8sPodChecks.container(trainer).getResources().getLimits().get("memory").toString()).isEqualTo("4Gi");
        assertThat(K8sPodChecks.env(K8sPodChecks.container(trainer), "STREAMTRAIN_CHECKPOINT_SHUTDOWN_TIMEOUT")).isEqualTo("90s");
        assertThat(trainer.getSpec().getTemplate().getSpec().getTerminationGracePeriodSeconds()).isEqualTo(135L);
        assertThat(trainer.getSpec().getTemplate().getSpec().getNodeSelector()).containsEntry("node-pool", "training");
        assertThat(trainer.getSpec().getTemplate().getSpec().getTolerations()).hasSize(1);
        assertThat(trainer.getSpec().getTemplate().getMetadata().getAnnotations()).containsEntry("team", "ml");
        assertThat(serving.getSpec().getTemplate().getMetadata().getAnnotations()).doesNotContainKey("team");
        assertThat(serving.getSpec().getTemplate().getSpec().getAffinity().getPodAntiAffinity()).isNotNull();
        assertThat(trainer.getSpec().getTemplate().getSpec().getAffinity()).isNull();
    }

    @Test
    void securedTransportsMountTheirSecretsAndSetTheStandardProperties() {
        var objects = HelmRender.render("streamtrain", "secured.yaml");
        K8sChecks.checkAll(objects, "streamtrain");
        for (Deployment deployment : objects.ofKind(Deployment.class)) {
            var pod = deployment.getSpec().getTemplate().getSpec();
            Container container = K8sPodChecks.container(deployment);
            assertThat(K8sPodChecks.env(container, "KAFKA_SSL_TRUSTSTORE_TYPE")).isEqualTo("PEM");
            assertThat(K8sPodChecks.env(container, "KAFKA_SSL_TRUSTSTORE_LOCATION"))
                    .isEqualTo("/etc/streamtrain/kafka-ca/ca.crt");
            assertThat(K8sPodChecks.env(container, "KAFKA_SSL_KEYSTORE_TYPE")).isEqualTo("PKCS12");
            assertThat(K8sPodChecks.env(container, "KAFKA_SSL_KEYSTORE_LOCATION"))
                    .isEqualTo("/etc/streamtrain/kafka-keystore/user.p12");
            assertThat(K8sPodChecks.env(container, "STREAMTRAIN_CHECKPOINT_S3_CA_FILE"))
                    .isEqualTo("/etc/streamtrain/s3-ca/ca.crt");
            assertThat(K8sPodChecks.env(container, "quarkus.tls.key-store.pem.0.cert"))
                    .isEqualTo("/etc/streamtrain/tls/tls.crt");
            assertThat(K8sPodChecks.env(container, "quarkus.tls.key-store.pem.0.key"))
                    .isEqualTo("/etc/streamtrain/tls/tls.key");
            assertThat(K8sPodChecks.env(container, "QUARKUS_HTTP_SSL_PORT")).as("HTTPS on the http container port")
                    .isEqualTo("8080");
            assertThat(K8sPodChecks.env(container, "QUARKUS_HTTP_INSECURE_REQUESTS")).isEqualTo("disabled");
            assertThat(K8sPodChecks.env(container, "STREAMTRAIN_SERVING_TOKEN_FILE"))
                    .isEqualTo("/etc/streamtrain/serving-token/token");
            assertThat(secretRefs(container)).contains("kafka-scram/sasl.jaas.config", "kafka-user/user.password");
            assertThat(pod.getVolumes()).filteredOn(v -> v.getSecret() != null)
                    .extracting(v -> v.getName() + "/" + v.getSecret().getSecretName() + " "
                            + v.getSecret().getDefaultMode())
                    .contains("kafka-ca/kafka-cluster-ca 256", "kafka-keystore/kafka-user 256", "s3-ca/minio-ca 256",
                            "tls/streamtrain-tls 256", "serving-token/streamtrain-serving-token 256");
            assertThat(container.getVolumeMounts()).filteredOn(m -> m.getMountPath().startsWith("/etc/streamtrain/")
                            && !m.getName().equals("model-spec") && !m.getName().equals("admin-token"))
                    .extracting(m -> m.getName() + " " + m.getMountPath() + " " + m.getReadOnly())
                    .containsExactlyInAnyOrder("kafka-ca /etc/streamtrain/kafka-ca true",
                            "kafka-keystore /etc/streamtrain/kafka-keystore true", "s3-ca /etc/streamtrain/s3-ca true",
                            "tls /etc/streamtrain/tls true", "serving-token /etc/streamtrain/serving-token true");
            for (var probe : List.of(container.getStartupProbe(), container.getLivenessProbe(),
                    container.getReadinessProbe())) {
                assertThat(probe.getHttpGet().getScheme()).isEqualTo("HTTPS");
            }
        }
        var endpoint = objects.ofKind(ServiceMonitor.class).get(0).getSpec().getEndpoints().get(0);
        assertThat(endpoint.getScheme()).isEqualTo("https");
        assertThat(endpoint.getTlsConfig().getServerName()).isEqualTo("streamtrain");
        assertThat(endpoint.getTlsConfig().getCa().getSecret().getName()).isEqualTo("streamtrain-tls");

        // the defaults: plaintext, no token, no extra Secret
        for (Deployment deployment : HelmRender.render("streamtrain").ofKind(Deployment.class)) {
            Container container = K8sPodChecks.container(deployment);
            assertThat(container.getEnv()).extracting(EnvVar::getName).doesNotContain("KAFKA_SSL_TRUSTSTORE_LOCATION",
                    "STREAMTRAIN_CHECKPOINT_S3_CA_FILE", "QUARKUS_HTTP_SSL_PORT", "STREAMTRAIN_SERVING_TOKEN_FILE");
            assertThat(container.getReadinessProbe().getHttpGet().getScheme()).isNull();
        }
    }

    @Test
    void servingCanBeSwitchedOff() {
        var objects = K8sObjects.parse(Map.of("serving.enabled=false",
                HelmRender.template("streamtrain", Map.of("serving.enabled", false))));
        K8sChecks.checkAll(objects, "streamtrain");
        assertThat(objects.ofKind(Deployment.class)).extracting(K8sChecks::component).containsExactly("trainer");
        assertThat(objects.ofKind(Service.class)).extracting(K8sChecks::component).containsExactly("trainer");
        assertThat(objects.ofKind(PodDisruptionBudget.class)).isEmpty();
        assertThat(objects.ofKind(ServiceMonitor.class)).hasSize(1);
    }

    @Test
    void servingReplicasCanAutoscaleOnCpu() {
        assertThat(K8sObjects.parse(Map.of("default", HelmRender.template("streamtrain", Map.of())))
                .ofKind(HorizontalPodAutoscaler.class)).isEmpty();
        var objects = K8sObjects.parse(Map.of("autoscaling", HelmRender.template("streamtrain",
                Map.of("serving.autoscaling.enabled", true, "serving.autoscaling.maxReplicas", 8))));
        K8sChecks.checkAll(objects, "streamtrain");
        HorizontalPodAutoscaler hpa = objects.ofKind(HorizontalPodAutoscaler.class).get(0);
        assertThat(hpa.getSpec().getScaleTargetRef().getName()).isEqualTo("streamtrain-serving");
        assertThat(hpa.getSpec().getMinReplicas()).isEqualTo(2);
        assertThat(hpa.getSpec().getMaxReplicas()).isEqualTo(8);
        assertThat(hpa.getSpec().getMetrics().get(0).getResource().getTarget().getAverageUtilization()).isEqualTo(70);
        // the autoscaler owns the replica count: the Deployment must not fight it on every upgrade
        assertThat(objects.ofKind(Deployment.class)).filteredOn(d -> K8sChecks.component(d).equals("serving"))
                .singleElement().satisfies(d -> assertThat(d.getSpec().getReplicas()).isNull());
        assertThatThrownBy(() -> HelmRender.template("streamtrain", Map.of("serving.autoscaling.enabled", true,
                "serving.autoscaling.minReplicas", 5, "serving.autoscaling.maxReplicas", 3)))
                .hasMessageContaining("serving.autoscaling.minReplicas (5) exceeds serving.autoscaling.maxReplicas (3)");
    }

    @Test
    void podMonitorScrapesEveryPodInsteadOfTheServiceMonitor() {
        var objects = K8sObjects.parse(Map.of("podMonitor", HelmRender.template("streamtrain",
                Map.of("metrics.podMonitor.enabled", true, "metrics.serviceMonitor.enabled", false))));
        assertThat(objects.ofKind(ServiceMonitor.class)).isEmpty();
        PodMonitor monitor = objects.ofKind(PodMonitor.class).get(0);
        assertThat(monitor.getSpec().getPodMetricsEndpoints().get(0).getPath()).isEqualTo("/q/metrics");
        assertThat(monitor.getSpec().getPodMetricsEndpoints().get(0).getPort()).isEqualTo("http");
        assertThat(monitor.getSpec().getSelector().getMatchLabels())
                .containsEntry("app.kubernetes.io/name", "streamtrain");
        assertThatThrownBy(() -> HelmRender.template("streamtrain", Map.of("metrics.podMonitor.enabled", true)))
                .hasMessageContaining("both enabled");
    }

    @Test
    void helmTestScriptInfersFromTheInferenceServiceWithARowOfTheSpecsWidth() {
        // (helm template leaves hooks out: the test pod itself is not in these renders, its script's ConfigMap is)
        assertThat(testScript(Map.of())).contains("base=http://streamtrain-serving:8080", "model=digits",
                "\"shape\":[1,64]", "inference answered");
        // the trainer answers when there are no replicas
        assertThat(testScript(Map.of("serving.enabled", false))).contains("base=http://streamtrain-trainer:8080");
        // a spec the chart cannot read: readiness only, unless the width and name are given
        assertThat(testScript(Map.of("model.existingConfigMap", "my-spec"))).contains("/v2/health/ready")
                .doesNotContain("/infer").contains("inference not checked: set tests.inputs and tests.modelName");
        assertThat(testScript(Map.of("model.existingConfigMap", "my-spec", "tests.inputs", 3, "tests.modelName", "mine")))
                .contains("model=mine", "\"shape\":[1,3]", "[0,0,0]");
        assertThat(K8sObjects.parse(Map.of("off", HelmRender.template("streamtrain", Map.of("tests.enabled", false))))
                .ofKind(ConfigMap.class)).noneMatch(c -> c.getMetadata().getName().endsWith("-test-inference"));
    }

    private static String testScript(Map<String, Object> set) {
        var objects = K8sObjects.parse(Map.of(set.toString(), HelmRender.template("streamtrain", set)));
        return objects.get(ConfigMap.class, "streamtrain-test-inference").getData().get("test-inference.sh");
    }

    @Test
    void checksumsRollThePodsWhenTheirConfigurationChanges() {
        var before = annotations(HelmRender.template("streamtrain", Map.of()));
        var otherBroker = annotations(HelmRender.template("streamtrain", Map.of("kafka.bootstrapServers", "other:9092")));
        var otherSpec = annotations(HelmRender.template("streamtrain", Map.of("model.spec", "name: other\n")));
        assertThat(otherBroker.get("checksum/config")).isNotEqualTo(before.get("checksum/config"));
        assertThat(otherBroker.get("checksum/model-spec")).isEqualTo(before.get("checksum/model-spec"));
        assertThat(otherSpec.get("checksum/model-spec")).isNotEqualTo(before.get("checksum/model-spec"));
        assertThat(otherSpec.get("checksum/config")).isEqualTo(before.get("checksum/config"));
    }

    @Test
    void moreThanOneTrainerIsAGroupOfTrainers() {
        Map<String, Object> three = Map.of("trainer.replicas", 3);
        var objects = K8sObjects.parse(Map.of("trainer.replicas=3", HelmRender.template("streamtrain", three)));
        Deployment trainer = objects.deployment("trainer");
        assertThat(trainer.getSpec().getReplicas()).isEqualTo(3);
        assertThat(trainer.getSpec().getStrategy().getType()).as("no two versions average together").isEqualTo("Recreate");
        assertThat(K8sPodChecks.env(K8sPodChecks.container(trainer), "STREAMTRAIN_CLUSTER_ENABLED")).isEqualTo("true");
        assertThat(K8sPodChecks.container(objects.deployment("serving")).getEnv()).extracting(EnvVar::getName)
                .as("serving replicas are no members").doesNotContain("STREAMTRAIN_CLUSTER_ENABLED");
        assertThat(HelmRender.notes("streamtrain", three)).contains("a group of 3 members",
                "Give streamtrain.examples at least 3 partitions", "not compacted");

        for (int replicas : new int[] {0, 1}) {
            var alone = K8sObjects.parse(Map.of("trainer.replicas=" + replicas,
                    HelmRender.template("streamtrain", Map.of("trainer.replicas", replicas))));
            assertThat(alone.deployment("trainer").getSpec().getReplicas()).isEqualTo(replicas);
            assertThat(K8sPodChecks.container(alone.deployment("trainer")).getEnv()).extracting(EnvVar::getName)
                    .as("one trainer trains alone exactly as before").doesNotContain("STREAMTRAIN_CLUSTER_ENABLED");
        }
        assertThat(HelmRender.notes("streamtrain", Map.of())).contains("The trainer (one replica)");
    }

    @Test
    void refusesAGroupOfTrainersThatCouldNotWork() {
        assertThatThrownBy(() -> HelmRender.template("streamtrain", Map.of("trainer.replicas", -1)))
                .hasMessageContaining("at '/trainer/replicas'");
        assertThatThrownBy(() -> HelmRender.template("streamtrain", Map.of("trainer.replicas", 2,
                "extraEnv[0].name", "STREAMTRAIN_CLUSTER_ENABLED", "extraEnv[0].value", "false")))
                .hasMessageContaining("extraEnv must not set STREAMTRAIN_CLUSTER_ENABLED");
        String autoSpec = "name: digits\ninputs: 64\noptimizer:\n  type: adam\n  learning-rate: auto\n";
        assertThatThrownBy(() -> HelmRender.template("streamtrain", Map.of("trainer.replicas", 2, "model.spec", autoSpec)))
                .hasMessageContaining("cannot train a spec with learning-rate: auto");
        assertThat(HelmRender.template("streamtrain", Map.of("trainer.replicas", 1, "model.spec", autoSpec)))
                .as("one trainer tunes its own rate").contains("learning-rate: auto");
        assertThat(HelmRender.template("streamtrain", Map.of("trainer.replicas", 2, "model.existingConfigMap", "spec")))
                .as("a spec the chart cannot see is the service's to check").contains("STREAMTRAIN_CLUSTER_ENABLED");
    }

    @Test
    void valuesSchemaRefusesAWrongValueAtInstallNamingIt() {
        // a typo in a key is an error, not a silently ignored value
        assertThatThrownBy(() -> HelmRender.template("streamtrain", Map.of("servng.replicas", 3)))
                .hasMessageContaining("values don't meet the specifications of the schema")
                .hasMessageContaining("servng");
        assertThatThrownBy(() -> HelmRender.template("streamtrain", Map.of("serving.replica", 3)))
                .hasMessageContaining("at '/serving'").hasMessageContaining("replica");
        assertThatThrownBy(() -> HelmRender.template("streamtrain", Map.of("kafka.security.protocol", "SASL_TLS")))
                .hasMessageContaining("at '/kafka/security/protocol'")
                .hasMessageContaining("SASL_SSL");
        assertThatThrownBy(() -> HelmRender.template("streamtrain", Map.of("image.pullPolicy", "Sometimes")))
                .hasMessageContaining("at '/image/pullPolicy'");
        assertThatThrownBy(() -> HelmRender.template("streamtrain", Map.of("serving.replicas", -1)))
                .hasMessageContaining("at '/serving/replicas'");
        assertThatThrownBy(() -> HelmRender.template("streamtrain", Map.of("trainer.service.httpPort", 70000)))
                .hasMessageContaining("at '/trainer/service/httpPort'");
        assertThatThrownBy(() -> HelmRender.template("streamtrain", Map.of("metrics.serviceMonitor.interval", "30 seconds")))
                .hasMessageContaining("at '/metrics/serviceMonitor/interval'");
        assertThatThrownBy(() -> HelmRender.template("streamtrain", Map.of("checkpoint.s3.endpoint", "minio:9000")))
                .hasMessageContaining("at '/checkpoint/s3/endpoint'");
        // and the values shipped with the tests pass it
        assertThat(HelmRender.template("streamtrain", Map.of(), "non-default.yaml")).contains("kind: Deployment");
    }

    @Test
    void refusesAMemoryLimitThatCannotHoldTheJvm() {
        assertThatThrownBy(() -> HelmRender.template("streamtrain", Map.of(), "memory-too-small.yaml"))
                .hasMessageContaining("trainer: heap (50% of 1Gi = 512 MiB) + off-heap (256m = 256 MiB) + a reserve of"
                        + " 384 MiB exceed resources.limits.memory (1024 MiB)");
        assertThatThrownBy(() -> HelmRender.template("streamtrain", Map.of("serving.jvm.heapPercent", 40)))
                .hasMessageContaining("serving: heap (40% of 1Gi");
        assertThatThrownBy(() -> HelmRender.template("streamtrain", Map.of("serving.jvm.offHeapMaxBytes", "256Mi")))
                .hasMessageContaining("JavaCPP reads digits followed by k, m, g or t");
    }

    @Test
    void chartFilesAreTheCanonicalMonitoringFiles() throws Exception {
        for (var canonical : new Path[] {K8sManifestFiles.RULES, K8sManifestFiles.DASHBOARD}) {
            Path copy = HelmRender.CHART.resolve("files").resolve(canonical.getFileName());
            assertThat(Arrays.equals(Files.readAllBytes(copy), Files.readAllBytes(canonical)))
                    .as("%s differs from %s: run monitoring/sync.sh", copy, canonical).isTrue();
        }
        var objects = HelmRender.render("streamtrain");
        String rules = K8sManifestFiles.read(K8sManifestFiles.RULES);
        assertThat(objects.get(PrometheusRule.class, "streamtrain").getSpec()).as("the rules, not templated by Helm")
                .isEqualTo(K8sObjects.SERIALIZATION.unmarshal(rules, PrometheusRuleSpec.class));
        assertThat(rules).contains("{{ $labels.");
        var dashboard = objects.get(ConfigMap.class, "streamtrain-grafana-dashboard").getData().get("streamtrain-dashboard.json");
        assertThat(dashboard).isEqualTo(K8sManifestFiles.read(K8sManifestFiles.DASHBOARD).stripTrailing());
    }

    @Test
    void runbookUrlsBecomeLinksUnderTheConfiguredBase() throws Exception {
        List<String> alerts = PrometheusRuleFile.alerts(PrometheusRuleFile.RULES).stream().map(a -> a.alert()).toList();
        String base = "https://git.example.com/streamtrain/blob/v0.1.0/docs/runbooks";

        Map<String, String> linked = runbookUrls(HelmRender.template("streamtrain",
                Map.of("metrics.prometheusRule.runbookBaseUrl", base + "/")));
        Map<String, String> unset = runbookUrls(HelmRender.template("streamtrain", Map.of()));

        assertThat(linked.keySet()).as("alerts of the rendered PrometheusRule").containsExactlyInAnyOrderElementsOf(alerts);
        alerts.forEach(alert -> {
            assertThat(linked.get(alert)).isEqualTo(base + "/" + alert + ".md");
            assertThat(unset.get(alert)).isEqualTo(PrometheusRulesTest.runbookUrl(alert));
        });
        assertThatThrownBy(() -> HelmRender.template("streamtrain",
                Map.of("metrics.prometheusRule.runbookBaseUrl", "docs/runbooks")))
                .hasMessageContaining("metrics.prometheusRule.runbookBaseUrl must be an absolute http(s) URL")
                .hasMessageContaining("\"docs/runbooks\"");
    }

    private static Map<String, String> runbookUrls(String rendered) {
        var rule = K8sObjects.parse(Map.of("rendered", rendered)).get(PrometheusRule.class, "streamtrain");
        Map<String, String> urls = new TreeMap<>();
        rule.getSpec().getGroups().forEach(group -> group.getRules().stream().filter(r -> r.getAlert() != null)
                .forEach(r -> urls.put(r.getAlert(), r.getAnnotations().get("runbook_url"))));
        return urls;
    }

    @Test
    void serviceAccountIsCreatedWithoutToken() {
        var account = HelmRender.render("streamtrain").get(ServiceAccount.class, "streamtrain");
        assertThat(account.getAutomountServiceAccountToken()).isFalse();
    }

    @Test
    void notesTellHowToReachInferenceTrainingControlAndMetrics() {
        String notes = HelmRender.notes("streamtrain", Map.of());
        assertThat(notes).contains("create secret generic streamtrain-s3", "create secret generic streamtrain-admin",
                "http://streamtrain-serving.streamtrain-test.svc:8080/v2/models/<model>/infer",
                "gRPC: streamtrain-serving.streamtrain-test.svc:9000", "port-forward service/streamtrain-trainer",
                "get secret streamtrain-admin -o jsonpath='{.data.token}'", "/q/metrics", "ServiceMonitor streamtrain");
        String trainerOnly = HelmRender.notes("streamtrain", Map.of("serving.enabled", false));
        assertThat(trainerOnly).contains("gRPC: streamtrain-trainer.streamtrain-test.svc:9000", "from the trainer")
                .doesNotContain("streamtrain-serving");
        assertThat(HelmRender.notes("streamtrain", Map.of("admin.existingSecret", "")))
                .contains("exec deployment/streamtrain-trainer -- cat /tmp/admin-token");
    }

    @Test
    void offHeapMaxBytesMayBeAShareOfTheHeap() {
        var objects = HelmRender.render("streamtrain", "off-heap-percent.yaml");
        K8sChecks.checkAll(objects, "streamtrain");
        assertThat(K8sPodChecks.env(K8sPodChecks.container(objects.deployment("trainer")), "JAVA_OPTS_APPEND"))
                .contains("-Dorg.bytedeco.javacpp.maxbytes=50%");
        assertThat(K8sPodChecks.env(K8sPodChecks.container(objects.deployment("serving")), "JAVA_OPTS_APPEND"))
                .contains("-Dorg.bytedeco.javacpp.maxbytes=50%");
        // serving, 1 GiB: heap 35 % = 358 MiB, off-heap 100 % of it = 358 MiB, + 384 MiB > 1024 MiB
        assertThatThrownBy(() -> HelmRender.template("streamtrain", Map.of("serving.jvm.offHeapMaxBytes", "100%")))
                .hasMessageContaining("serving: heap (35% of 1Gi = 358 MiB) + off-heap (100% = 358 MiB) + a reserve of 384 MiB"
                        + " exceed resources.limits.memory (1024 MiB)");
        assertThatThrownBy(() -> HelmRender.template("streamtrain", Map.of("serving.jvm.offHeapMaxBytes", "12.5%")))
                .hasMessageContaining("or by % for a share of the heap");
    }

    @Test
    void aMisspelledKafkaClientKeyIsRefused() {
        var objects = HelmRender.render("streamtrain", "kafka-config-typo.yaml");
        assertThatThrownBy(() -> K8sChecks.configurationKeysExist(objects))
                .hasMessageContaining("(ConfigMap/streamtrain-config) KAFKA_SASL_MECHANISMS")
                .hasMessageNotContaining("KAFKA_SSL_TRUSTSTORE_TYPE");
    }

    @Test
    void notesNameEachServicesOwnMetricsPort() {
        String notes = HelmRender.notes("streamtrain", Map.of("serving.service.httpPort", 80));
        assertThat(notes).contains("/q/metrics on port 8080 (http) of streamtrain-trainer and on port 80 (http) of"
                + " streamtrain-serving.");
        assertThat(HelmRender.notes("streamtrain", Map.of("serving.enabled", false)))
                .contains("/q/metrics on port 8080 (http) of streamtrain-trainer.");
    }

    private static List<String> secretRefs(Container container) {
        return container.getEnv().stream().filter(e -> e.getValueFrom() != null)
                .map(e -> e.getValueFrom().getSecretKeyRef().getName() + "/" + e.getValueFrom().getSecretKeyRef().getKey()).toList();
    }

    private static Map<String, String> annotations(String rendered) {
        return K8sObjects.parse(Map.of("rendered", rendered)).deployment("trainer").getSpec().getTemplate().getMetadata()
                .getAnnotations();
    }
}
