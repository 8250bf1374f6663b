package dev.streamtrain.ops;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HTTPGetAction;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.apps.Deployment;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The checks of one Deployment's pod template: probes on existing ports, the "restricted" Pod Security
 * Standard, a memory limit that holds what the JVM flags allow, the environment the service needs, and the
 * trainer's and the replicas' rollout rules.
 */
final class K8sPodChecks {

    /** Memory the JVM needs besides heap and ND4J's off-heap cap: metaspace, code cache, thread stacks, natives. */
    static final long RESERVE_BYTES = 384L << 20;

    /** Volume types the restricted Pod Security Standard allows. */
    private static final Set<String> RESTRICTED_VOLUME_TYPES = Set.of("configMap", "csi", "downwardAPI", "emptyDir",
            "ephemeral", "persistentVolumeClaim", "projected", "secret");

    private K8sPodChecks() {
    }

    static void probes(Deployment deployment) {
        Container container = container(deployment);
        var expected = Map.of("startup", "/q/health/started", "liveness", "/q/health/live", "readiness", "/q/health/ready");
        var probes = Map.of("startup", Objects.requireNonNullElse(container.getStartupProbe(), new Probe()),
                "liveness", Objects.requireNonNullElse(container.getLivenessProbe(), new Probe()),
                "readiness", Objects.requireNonNullElse(container.getReadinessProbe(), new Probe()));
        expected.forEach((kind, path) -> {
            HTTPGetAction get = probes.get(kind).getHttpGet();
            assertThat(get).as("%s: %s probe over HTTP", K8sChecks.describe(deployment), kind).isNotNull();
            assertThat(get.getPath()).as("%s: %s probe path", K8sChecks.describe(deployment), kind).isEqualTo(path);
            containerPort(deployment, get.getPort(), K8sChecks.describe(deployment) + " " + kind + " probe");
        });
        Probe startup = probes.get("startup");
        assertThat(startup.getPeriodSeconds() * startup.getFailureThreshold())
                .as("%s: the startup probe waits longer than a restore may retry an unreadable store (2 min)",
                        K8sChecks.describe(deployment)).isGreaterThan(150);
    }

    /** The fields the "restricted" Pod Security Standard (and "baseline", which it includes) looks at. */
    static void restrictedPodSecurity(Deployment deployment) {
        String what = K8sChecks.describe(deployment);
        PodSpec pod = deployment.getSpec().getTemplate().getSpec();
        podSecurity(what, pod);
        var containers = new ArrayList<>(pod.getContainers());
        if (pod.getInitContainers() != null) {
            containers.addAll(pod.getInitContainers());
        }
        containers.forEach(c -> containerSecurity(what + " container " + c.getName(), c));
        onlyTmpIsWritable(what, pod);
    }

    private static void podSecurity(String what, PodSpec pod) {
        var context = pod.getSecurityContext();
        assertThat(context).as("%s: pod securityContext", what).isNotNull();
        assertThat(Objects.equals(pod.getHostNetwork(), Boolean.TRUE)).as("%s: hostNetwork", what).isFalse();
        assertThat(Objects.equals(pod.getHostPID(), Boolean.TRUE)).as("%s: hostPID", what).isFalse();
        assertThat(Objects.equals(pod.getHostIPC(), Boolean.TRUE)).as("%s: hostIPC", what).isFalse();
        assertThat(context.getRunAsNonRoot()).as("%s: pod runAsNonRoot", what).isTrue();
        assertThat(context.getRunAsUser()).as("%s: pod runAsUser (the image's user)", what).isEqualTo(185L);
        assertThat(context.getRunAsGroup()).as("%s: pod runAsGroup", what).isEqualTo(185L);
        assertThat(context.getFsGroup()).as("%s: pod fsGroup", what).isEqualTo(185L);
        assertThat(context.getSeccompProfile()).as("%s: pod seccompProfile", what).isNotNull();
        assertThat(context.getSeccompProfile().getType()).as("%s: pod seccompProfile", what).isEqualTo("RuntimeDefault");
        assertThat(context.getSysctls()).as("%s: no sysctls", what).isNullOrEmpty();
        assertThat(context.getSeLinuxOptions()).as("%s: no SELinux options", what).isNull();
        assertThat(context.getWindowsOptions()).as("%s: no Windows options (hostProcess)", what).isNull();
        for (var volume : pod.getVolumes()) {
            var json = K8sObjects.SERIALIZATION.convertValue(volume, Map.class);
            assertThat(json.keySet()).as("%s: volume %s of a type the restricted standard allows", what, volume.getName())
                    .filteredOn(k -> !k.equals("name")).hasSize(1).allMatch(RESTRICTED_VOLUME_TYPES::contains);
        }
    }

    private static void containerSecurity(String what, Container container) {
        var context = container.getSecurityContext();
        assertThat(context).as("%s: securityContext", what).isNotNull();
        assertThat(Objects.equals(context.getPrivileged(), Boolean.TRUE)).as("%s: privileged", what).isFalse();
        assertThat(context.getAllowPrivilegeEscalation()).as("%s: allowPrivilegeEscalation", what).isFalse();
        assertThat(context.getReadOnlyRootFilesystem()).as("%s: readOnlyRootFilesystem", what).isTrue();
        assertThat(Objects.equals(context.getRunAsNonRoot(), Boolean.FALSE)).as("%s: runAsNonRoot", what).isFalse();
        assertThat(Objects.equals(context.getRunAsUser(), 0L)).as("%s: runAsUser", what).isFalse();
        assertThat(context.getCapabilities()).as("%s: capabilities", what).isNotNull();
        assertThat(context.getCapabilities().getDrop()).as("%s: capabilities dropped", what).contains("ALL");
        assertThat(context.getCapabilities().getAdd()).as("%s: capabilities added", what).isNullOrEmpty();
        assertThat(context.getProcMount()).as("%s: procMount", what).isIn(null, "Default");
        assertThat(context.getSeccompProfile()).as("%s: seccompProfile (the pod's applies)", what).isNull();
        assertThat(context.getSeLinuxOptions()).as("%s: no SELinux options", what).isNull();
        assertThat(container.getPorts()).as("%s: no hostPort", what).allMatch(p -> p.getHostPort() == null);
    }

    /** The root filesystem is read-only: /tmp is an emptyDir on disk (JavaCPP's natives), everything else read-only. */
    private static void onlyTmpIsWritable(String what, PodSpec pod) {
        var mounts = pod.getContainers().get(0).getVolumeMounts();
        var tmp = mounts.stream().filter(m -> m.getMountPath().equals("/tmp")).findFirst();
        assertThat(tmp).as("%s: a writable volume at /tmp", what).isPresent();
        assertThat(pod.getVolumes()).as("%s: /tmp is an emptyDir on disk", what)
                .anyMatch(v -> v.getName().equals(tmp.get().getName()) && v.getEmptyDir() != null
                        && v.getEmptyDir().getMedium() == null);
        assertThat(mounts).as("%s: only /tmp is writable", what)
                .allMatch(m -> m.getMountPath().equals("/tmp") || Boolean.TRUE.equals(m.getReadOnly()));
    }

    /** Heap + ND4J's off-heap cap + a reserve fit the memory limit; the flags are where the JVM reads them. */
    static void memoryHoldsTheJvm(Deployment deployment) {
        String what = K8sChecks.describe(deployment);
        Container container = container(deployment);
        var flags = K8sJvmFlags.parse(env(container, "JAVA_OPTS_APPEND"));
        var limits = container.getResources().getLimits();
        assertThat(limits).as("%s: limits", what).containsKeys("memory", "cpu");
        long limit = Quantity.getAmountInBytes(limits.get("memory")).longValueExact();
        assertThat(flags.heapBytes(limit) + flags.offHeapBytes(limit) + RESERVE_BYTES).as(
                "%s: heap (%s %% of the limit) + off-heap (maxbytes %s = %s bytes) + reserve (384 MiB) <= memory limit (%s bytes)",
                what, flags.heapPercent(), flags.offHeapMaxBytes(), flags.offHeapBytes(limit), limit).isLessThanOrEqualTo(limit);
        assertThat(flags.exitOnOutOfMemory()).as("%s: -XX:+ExitOnOutOfMemoryError", what).isTrue();
        assertThat(flags.javacppCacheDir()).as("%s: JavaCPP's cache on the writable /tmp", what).startsWith("/tmp/");
        var requests = container.getResources().getRequests();
        assertThat(requests).as("%s: requests", what).containsKeys("memory", "cpu");
        if ("trainer".equals(K8sChecks.component(deployment))) {
            assertThat(Quantity.getAmountInBytes(requests.get("memory"))).as("%s: memory request = limit", what)
                    .isEqualByComparingTo(Quantity.getAmountInBytes(limits.get("memory")));
        }
    }

    static void environment(Deployment deployment) {
        Container container = container(deployment);
        String what = K8sChecks.describe(deployment);
        assertThat(env(container, "OMP_WAIT_POLICY")).as("%s: OMP_WAIT_POLICY", what).isEqualTo("PASSIVE");
        assertThat(env(container, "STREAMTRAIN_MODE")).as("%s: mode", what)
                .isEqualTo("trainer".equals(K8sChecks.component(deployment)) ? "train" : "serve");
        String spec = env(container, "STREAMTRAIN_MODEL_SPEC");
        var specMount = container.getVolumeMounts().stream().filter(m -> spec.startsWith(m.getMountPath() + "/")).findFirst();
        assertThat(specMount).as("%s: STREAMTRAIN_MODEL_SPEC %s lies in a mounted volume", what, spec).isPresent();
        var volume = deployment.getSpec().getTemplate().getSpec().getVolumes().stream()
                .filter(v -> v.getName().equals(specMount.get().getName())).findFirst().orElseThrow();
        assertThat(volume.getConfigMap()).as("%s: the model spec comes from a ConfigMap", what).isNotNull();
        assertThat(deployment.getSpec().getTemplate().getSpec().getAutomountServiceAccountToken())
                .as("%s: no service account token", what).isFalse();
        assertThat(deployment.getSpec().getTemplate().getSpec().getEnableServiceLinks())
                .as("%s: no service links in the environment (Quarkus reads it as configuration)", what).isFalse();
    }

    static void trainer(Deployment trainer) {
        String what = K8sChecks.describe(trainer);
        assertThat(trainer.getSpec().getReplicas()).as("%s: one trainer per model", what).isBetween(0, 1);
        assertThat(trainer.getSpec().getStrategy().getType()).as("%s: never two trainers at once", what).isEqualTo("Recreate");
        Duration shutdown = Duration.parse("PT" + env(container(trainer), "STREAMTRAIN_CHECKPOINT_SHUTDOWN_TIMEOUT").toUpperCase());
        assertThat(trainer.getSpec().getTemplate().getSpec().getTerminationGracePeriodSeconds())
                .as("%s: terminationGracePeriodSeconds comfortably (30 s) above the checkpoint shutdown timeout %s", what, shutdown)
                .isGreaterThanOrEqualTo(shutdown.toSeconds() + 30);
    }

    static void serving(Deployment serving) {
        var strategy = serving.getSpec().getStrategy();
        assertThat(strategy.getType()).as("%s: rolling update", K8sChecks.describe(serving)).isEqualTo("RollingUpdate");
        assertThat(strategy.getRollingUpdate().getMaxUnavailable()).as("%s: maxUnavailable", K8sChecks.describe(serving))
                .isEqualTo(new IntOrString(0));
    }

    static Container container(Deployment deployment) {
        var containers = deployment.getSpec().getTemplate().getSpec().getContainers();
        assertThat(containers).as("%s: containers", K8sChecks.describe(deployment)).hasSize(1);
        return containers.get(0);
    }

    /** The literal value of an environment variable (null when it comes from elsewhere or is absent). */
    static String env(Container container, String name) {
        return container.getEnv().stream().filter(e -> e.getName().equals(name)).map(EnvVar::getValue).findFirst()
                .orElseThrow(() -> new AssertionError("no environment variable " + name + " in container " + container.getName()));
    }

    /** The port a probe or Service names exists on the container: by name, or by number. */
    static void containerPort(Deployment deployment, IntOrString port, String what) {
        var ports = container(deployment).getPorts();
        assertThat(port).as("%s: a port", what).isNotNull();
        if (port.getStrVal() != null) {
            assertThat(ports).as("%s: container port named %s on %s", what, port.getStrVal(), K8sChecks.describe(deployment))
                    .extracting(ContainerPort::getName).contains(port.getStrVal());
        } else {
            assertThat(ports).as("%s: container port %s on %s", what, port.getIntVal(), K8sChecks.describe(deployment))
                    .extracting(ContainerPort::getContainerPort).contains(port.getIntVal());
        }
    }
}
