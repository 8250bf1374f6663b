package dev.streamtrain.ops;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.openshift.api.model.monitoring.v1.PrometheusRule;
import io.fabric8.openshift.api.model.monitoring.v1.PrometheusRuleSpec;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.UnaryOperator;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The plain manifests in k8s/: valid objects, consistent with each other, restricted, in step with monitoring/. */
class KubernetesManifestsTest {

    private static final Pattern FILE_NAME = Pattern.compile("(\\d{3})-([A-Za-z]+)-([a-z0-9][a-z0-9.-]*)\\.yaml");

    @Test
    void everyFileHoldsOneObjectNamedLikeTheFile() {
        var files = K8sManifestFiles.manifests();
        assertThat(files).as("k8s/*.yaml").isNotEmpty();
        files.forEach((file, yaml) -> {
            var name = FILE_NAME.matcher(file);
            assertThat(name.matches()).as("%s: named NNN-Kind-name.yaml", file).isTrue();
            var objects = K8sObjects.parse(Map.of(file, yaml)).all();
            assertThat(objects).as("%s: one object", file).hasSize(1);
            assertThat(objects.get(0).getKind()).as("%s: kind", file).isEqualTo(name.group(2));
            assertThat(objects.get(0).getMetadata().getName()).as("%s: name", file).isEqualTo(name.group(3));
        });
        assertThat(files.keySet()).as("file numbers are unique")
                .extracting(f -> f.substring(0, 3)).doesNotHaveDuplicates();
    }

    @Test
    void manifestsPassTheChecks() {
        var objects = K8sManifestFiles.objects();
        K8sChecks.checkAll(objects, "streamtrain");
        assertThat(objects.kindsAndNames()).containsExactlyInAnyOrderElementsOf(K8sChecks.DEFAULT_OBJECTS);
    }

    @Test
    void deploymentsReferToObjectsThatExistOrThatTheUserCreates() {
        var objects = K8sManifestFiles.objects();
        for (Deployment deployment : objects.ofKind(Deployment.class)) {
            var pod = deployment.getSpec().getTemplate().getSpec();
            objects.get(ServiceAccount.class, pod.getServiceAccountName());
            pod.getContainers().get(0).getEnvFrom().forEach(from -> objects.get(ConfigMap.class, from.getConfigMapRef().getName()));
            pod.getVolumes().stream().filter(v -> v.getConfigMap() != null).forEach(v -> {
                var configMap = objects.get(ConfigMap.class, v.getConfigMap().getName());
                String spec = K8sPodChecks.env(pod.getContainers().get(0), "STREAMTRAIN_MODEL_SPEC");
                assertThat(configMap.getData()).as("%s holds the spec file %s", K8sChecks.describe(configMap), spec)
                        .containsKey(spec.substring(spec.lastIndexOf('/') + 1));
            });
            // Secrets are the user's to create (k8s/README.md): the names are the documented ones
            assertThat(pod.getContainers().get(0).getEnv()).filteredOn(e -> e.getValueFrom() != null)
                    .extracting(e -> e.getValueFrom().getSecretKeyRef().getName() + "/" + e.getValueFrom().getSecretKeyRef().getKey())
                    .containsExactlyInAnyOrder("streamtrain-s3/AWS_ACCESS_KEY_ID", "streamtrain-s3/AWS_SECRET_ACCESS_KEY");
            // the admin token is the Secret's file (watched, so a changed Secret rotates it without a restart)
            var adminVolume = pod.getVolumes().stream().filter(v -> v.getSecret() != null).toList();
            assertThat(adminVolume).extracting(v -> v.getSecret().getSecretName()).containsExactly("streamtrain-admin");
            var mount = pod.getContainers().get(0).getVolumeMounts().stream()
                    .filter(m -> m.getName().equals(adminVolume.get(0).getName())).findFirst().orElseThrow();
            assertThat(mount.getReadOnly()).isTrue();
            assertThat(K8sPodChecks.env(pod.getContainers().get(0), "STREAMTRAIN_ADMIN_TOKEN_FILE"))
                    .isEqualTo(mount.getMountPath() + "/token");
        }
    }

    @Test
    void theModelSpecExampleIsTheBundledSpec() {
        var spec = K8sManifestFiles.objects().get(ConfigMap.class, "streamtrain-model-spec").getData().get("spec.yaml");
        assertThat(spec).isEqualTo(K8sManifestFiles.read(Path.of("src/main/resources/specs/digits.yaml")));
    }

    @Test
    void monitoringManifestsAreTheCanonicalFiles() throws Exception {
        var objects = K8sManifestFiles.objects();
        var canonicalRules = K8sObjects.SERIALIZATION.unmarshal(K8sManifestFiles.read(K8sManifestFiles.RULES),
                PrometheusRuleSpec.class);
        assertThat(objects.get(PrometheusRule.class, "streamtrain").getSpec())
                .as("k8s/051-PrometheusRule-streamtrain.yaml differs from %s: run monitoring/sync.sh", K8sManifestFiles.RULES)
                .isEqualTo(canonicalRules);
        var json = new ObjectMapper();
        JsonNode canonicalDashboard = json.readTree(K8sManifestFiles.read(K8sManifestFiles.DASHBOARD));
        var dashboard = objects.get(ConfigMap.class, "streamtrain-grafana-dashboard");
        assertThat(json.readTree(dashboard.getData().get("streamtrain-dashboard.json")))
                .as("k8s/052-ConfigMap-streamtrain-grafana-dashboard.yaml differs from %s: run monitoring/sync.sh",
                        K8sManifestFiles.DASHBOARD).isEqualTo(canonicalDashboard);
        assertThat(dashboard.getMetadata().getLabels()).as("picked up by the Grafana sidecar")
                .containsEntry("grafana_dashboard", "1");
        assertThat(canonicalDashboard.path("uid").asText()).isEqualTo("streamtrain");
    }

    // The checks must be able to fail: each of these breaks one manifest in memory and expects the message.

    @Test
    void aMisspelledFieldIsRefused() {
        assertThatThrownBy(() -> mutated("030-Deployment-streamtrain-trainer.yaml",
                y -> y.replace("readinessProbe:", "readinesProbe:")))
                .hasMessageContaining("fields unknown").hasMessageContaining("readinesProbe");
    }

    @Test
    void aHeapThatLeavesNoRoomIsRefused() {
        var objects = mutated("040-Deployment-streamtrain-serving.yaml",
                y -> y.replace("-XX:MaxRAMPercentage=35", "-XX:MaxRAMPercentage=75"));
        assertThatThrownBy(() -> K8sPodChecks.memoryHoldsTheJvm(objects.deployment("serving")))
                .hasMessageContaining("heap (75.0 % of the limit)");
    }

    @Test
    void aServiceSelectingBothComponentsIsRefused() {
        var objects = mutated("041-Service-streamtrain-serving.yaml",
                y -> y.replaceFirst("(?s)(selector:.*?)\\n    app.kubernetes.io/component: serving", "$1"));
        assertThatThrownBy(() -> K8sChecks.servicesSelectTheirComponent(objects))
                .hasMessageContaining("selects the pods of its component, and only those");
    }

    @Test
    void aContainerKeepingItsCapabilitiesIsRefused() {
        var objects = mutated("030-Deployment-streamtrain-trainer.yaml", y -> y.replace("- ALL", "- NET_RAW"));
        assertThatThrownBy(() -> K8sPodChecks.restrictedPodSecurity(objects.deployment("trainer")))
                .hasMessageContaining("capabilities dropped");
    }

    @Test
    void aProbeOnAMissingPortIsRefused() {
        var objects = mutated("040-Deployment-streamtrain-serving.yaml",
                y -> y.replace("path: /q/health/live\n              port: http", "path: /q/health/live\n              port: 9000"));
        assertThatThrownBy(() -> K8sPodChecks.probes(objects.deployment("serving")))
                .hasMessageContaining("liveness probe: container port 9000");
    }

    @Test
    void aShortGracePeriodIsRefused() {
        var objects = mutated("030-Deployment-streamtrain-trainer.yaml",
                y -> y.replace("terminationGracePeriodSeconds: 120", "terminationGracePeriodSeconds: 30"));
        assertThatThrownBy(() -> K8sPodChecks.trainer(objects.deployment("trainer")))
                .hasMessageContaining("terminationGracePeriodSeconds comfortably");
    }

    @Test
    void aMisspelledConfigurationVariableIsRefused() {
        var inConfigMap = mutated("020-ConfigMap-streamtrain-config.yaml",
                y -> y.replace("  KAFKA_SECURITY_PROTOCOL: \"PLAINTEXT\"",
                        "  KAFKA_SECURITY_PROTOCOL: \"SASL_SSL\"\n  KAFKA_SASL_MECHANISMS: \"PLAIN\""));
        assertThatThrownBy(() -> K8sChecks.configurationKeysExist(inConfigMap))
                .hasMessageContaining("(ConfigMap/streamtrain-config) KAFKA_SASL_MECHANISMS");
        var inDeployment = mutated("030-Deployment-streamtrain-trainer.yaml",
                y -> y.replace("- name: STREAMTRAIN_CHECKPOINT_SHUTDOWN_TIMEOUT", "- name: STREAMTRAIN_CHECKPOINT_SHUTDOWN_TIMEOUTS"));
        assertThatThrownBy(() -> K8sChecks.configurationKeysExist(inDeployment))
                .hasMessageContaining("Deployment/streamtrain-trainer container streamtrain: STREAMTRAIN_CHECKPOINT_SHUTDOWN_TIMEOUTS");
        var kafkaClientKeys = mutated("020-ConfigMap-streamtrain-config.yaml",
                y -> y.replace("  KAFKA_SECURITY_PROTOCOL: \"PLAINTEXT\"", "  KAFKA_SECURITY_PROTOCOL: \"SASL_SSL\"\n"
                        + "  KAFKA_SASL_MECHANISM: \"SCRAM-SHA-512\"\n  KAFKA_SSL_TRUSTSTORE_TYPE: \"PEM\"\n"
                        + "  KAFKA_SSL_TRUSTSTORE_LOCATION: \"/etc/kafka-ca/ca.crt\""));
        K8sChecks.configurationKeysExist(kafkaClientKeys);
    }

    @Test
    void anOffHeapCapAsAShareOfTheHeapIsReadAsJavaCppReadsIt() {
        assertThat(K8sJvmFlags.javacppBytes("50%", 1000)).isEqualTo(500);
        assertThat(K8sJvmFlags.javacppBytes("2G", 0)).isEqualTo(2L << 30);
        assertThatThrownBy(() -> K8sJvmFlags.javacppBytes("1.5g", 0)).hasMessageContaining("cannot parse maxbytes 1.5g");
        assertThatThrownBy(() -> K8sJvmFlags.javacppBytes("256Mi", 0)).hasMessageContaining("cannot parse maxbytes 256Mi");
        // 1 GiB: heap 35 % = 358 MiB, off-heap 50 % of it = 179 MiB, + 384 MiB fit
        var half = mutated("040-Deployment-streamtrain-serving.yaml",
                y -> y.replace("-Dorg.bytedeco.javacpp.maxbytes=256m", "-Dorg.bytedeco.javacpp.maxbytes=50%"));
        K8sPodChecks.memoryHoldsTheJvm(half.deployment("serving"));
        // off-heap 100 % of the heap = 358 MiB: 358 + 358 + 384 > 1024
        var whole = mutated("040-Deployment-streamtrain-serving.yaml",
                y -> y.replace("-Dorg.bytedeco.javacpp.maxbytes=256m", "-Dorg.bytedeco.javacpp.maxbytes=100%"));
        assertThatThrownBy(() -> K8sPodChecks.memoryHoldsTheJvm(whole.deployment("serving")))
                .hasMessageContaining("off-heap (maxbytes 100% = 375809638 bytes)");
    }

    private static K8sObjects mutated(String file, UnaryOperator<String> change) {
        var files = new LinkedHashMap<>(K8sManifestFiles.manifests());
        String changed = change.apply(files.get(file));
        assertThat(changed).as("the mutation of %s applies", file).isNotEqualTo(files.get(file));
        files.put(file, changed);
        return K8sObjects.parse(files);
    }
}

