package dev.streamtrain.ops;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HTTPGetAction;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.openshift.api.model.monitoring.v1.ServiceMonitor;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The checks that the plain manifests and every rendering of the chart must pass: labels of the shared
 * contract, selectors that select what they should, probes on existing ports, the "restricted" Pod Security
 * Standard, resources that hold what the JVM flags allow, graceful shutdown of the trainer.
 */
final class K8sChecks {

    static final String NAME = "app.kubernetes.io/name";
    static final String INSTANCE = "app.kubernetes.io/instance";
    static final String COMPONENT = "app.kubernetes.io/component";
    static final String PART_OF = "app.kubernetes.io/part-of";
    /** Memory the JVM needs besides heap and ND4J's off-heap cap: metaspace, code cache, thread stacks, natives. */
    static final long RESERVE_BYTES = 384L << 20;

    /** Volume types the restricted Pod Security Standard allows. */
    private static final Set<String> RESTRICTED_VOLUME_TYPES = Set.of("configMap", "csi", "downwardAPI", "emptyDir",
            "ephemeral", "persistentVolumeClaim", "projected", "secret");

    private K8sChecks() {
    }

    /** Everything below, for objects of the release {@code release}. */
    static void checkAll(K8sObjects objects, String release) {
        labels(objects, release);
        deploymentsSelectTheirPods(objects);
        servicesSelectTheirComponent(objects);
        serviceMonitorsSelectServicesAndPorts(objects);
        disruptionBudgetsSelectServingPods(objects);
        for (Deployment deployment : objects.ofKind(Deployment.class)) {
            probes(deployment);
            restrictedPodSecurity(deployment);
            memoryHoldsTheJvm(deployment);
            environment(deployment);
        }
        trainer(objects.deployment("trainer"));
        objects.ofKind(Deployment.class).stream().filter(d -> "serving".equals(component(d))).forEach(K8sChecks::serving);
    }

    static void labels(K8sObjects objects, String release) {
        for (HasMetadata object : objects.all()) {
            String what = describe(object);
            assertThat(object.getMetadata().getNamespace()).as("%s: no namespace (kubectl apply -n decides)", what).isNull();
            assertThat(object.getMetadata().getLabels()).as("%s: labels of the shared contract", what)
                    .containsEntry(NAME, "streamtrain").containsEntry(INSTANCE, release).containsEntry(PART_OF, "streamtrain");
            if (object instanceof Deployment || object instanceof Service || object instanceof PodDisruptionBudget) {
                assertThat(component(object)).as("%s: component label", what).isIn("trainer", "serving");
                assertThat(object.getMetadata().getName()).as("%s: named after its component", what).endsWith("-" + component(object));
            }
        }
        for (Deployment deployment : objects.ofKind(Deployment.class)) {
            assertThat(deployment.getSpec().getTemplate().getMetadata().getLabels()).as("%s: pod labels", describe(deployment))
                    .containsEntry(NAME, "streamtrain").containsEntry(INSTANCE, release).containsEntry(PART_OF, "streamtrain")
                    .containsEntry(COMPONENT, component(deployment));
        }
    }

    static void deploymentsSelectTheirPods(K8sObjects objects) {
        for (Deployment deployment : objects.ofKind(Deployment.class)) {
            LabelSelector selector = deployment.getSpec().getSelector();
            assertThat(selector.getMatchExpressions()).as("%s: selector by labels only", describe(deployment)).isNullOrEmpty();
            assertThat(selector.getMatchLabels()).as("%s: selector", describe(deployment))
                    .containsEntry(COMPONENT, component(deployment));
            for (Deployment other : objects.ofKind(Deployment.class)) {
                assertThat(selects(selector.getMatchLabels(), other)).as("%s selects the pods of %s",
                        describe(deployment), describe(other)).isEqualTo(other == deployment);
            }
        }
    }

    static void servicesSelectTheirComponent(K8sObjects objects) {
        for (Service service : objects.ofKind(Service.class)) {
            var selected = selected(objects, service.getSpec().getSelector());
            assertThat(selected).as("%s: selects the pods of its component, and only those", describe(service))
                    .extracting(K8sChecks::component).containsExactly(component(service));
            for (ServicePort port : service.getSpec().getPorts()) {
                assertThat(port.getName()).as("%s: ports are named", describe(service)).isNotBlank();
                containerPort(selected.get(0), port.getTargetPort(), describe(service) + " port " + port.getName());
            }
        }
    }

    static void serviceMonitorsSelectServicesAndPorts(K8sObjects objects) {
        for (ServiceMonitor monitor : objects.ofKind(ServiceMonitor.class)) {
            var labels = monitor.getSpec().getSelector().getMatchLabels();
            var scraped = objects.ofKind(Service.class).stream()
                    .filter(s -> s.getMetadata().getLabels().entrySet().containsAll(labels.entrySet())).toList();
            assertThat(scraped).as("%s: selects every Service of the release", describe(monitor))
                    .containsExactlyInAnyOrderElementsOf(objects.ofKind(Service.class));
            assertThat(monitor.getSpec().getEndpoints()).as("%s: endpoints", describe(monitor)).isNotEmpty();
            for (var endpoint : monitor.getSpec().getEndpoints()) {
                assertThat(endpoint.getPath()).as("%s: metrics path", describe(monitor)).isEqualTo("/q/metrics");
                for (Service service : scraped) {
                    assertThat(service.getSpec().getPorts()).as("%s: port %s exists on %s", describe(monitor),
                            endpoint.getPort(), describe(service)).extracting(ServicePort::getName).contains(endpoint.getPort());
                }
            }
        }
    }

    static void disruptionBudgetsSelectServingPods(K8sObjects objects) {
        for (PodDisruptionBudget budget : objects.ofKind(PodDisruptionBudget.class)) {
            assertThat(selected(objects, budget.getSpec().getSelector().getMatchLabels()))
                    .as("%s: selects the serving pods, and only those", describe(budget))
                    .extracting(K8sChecks::component).containsExactly("serving");
        }
    }

    static void probes(Deployment deployment) {
        Container container = container(deployment);
        var expected = Map.of("startup", "/q/health/started", "liveness", "/q/health/live", "readiness", "/q/health/ready");
        var probes = Map.of("startup", Objects.requireNonNullElse(container.getStartupProbe(), new Probe()),
                "liveness", Objects.requireNonNullElse(container.getLivenessProbe(), new Probe()),
                "readiness", Objects.requireNonNullElse(container.getReadinessProbe(), new Probe()));
        expected.forEach((kind, path) -> {
            HTTPGetAction get = probes.get(kind).getHttpGet();
            assertThat(get).as("%s: %s probe over HTTP", describe(deployment), kind).isNotNull();
            assertThat(get.getPath()).as("%s: %s probe path", describe(deployment), kind).isEqualTo(path);
            containerPort(deployment, get.getPort(), describe(deployment) + " " + kind + " probe");
        });
        Probe startup = probes.get("startup");
        assertThat(startup.getPeriodSeconds() * startup.getFailureThreshold())
                .as("%s: the startup probe waits longer than a restore may retry an unreadable store (2 min)",
                        describe(deployment)).isGreaterThan(150);
    }

    /** The fields the "restricted" Pod Security Standard (and "baseline", which it includes) looks at. */
    static void restrictedPodSecurity(Deployment deployment) {
        String what = describe(deployment);
        PodSpec pod = deployment.getSpec().getTemplate().getSpec();
        var podContext = pod.getSecurityContext();
        assertThat(podContext).as("%s: pod securityContext", what).isNotNull();
        assertThat(Objects.equals(pod.getHostNetwork(), Boolean.TRUE)).as("%s: hostNetwork", what).isFalse();
        assertThat(Objects.equals(pod.getHostPID(), Boolean.TRUE)).as("%s: hostPID", what).isFalse();
        assertThat(Objects.equals(pod.getHostIPC(), Boolean.TRUE)).as("%s: hostIPC", what).isFalse();
        assertThat(podContext.getRunAsNonRoot()).as("%s: pod runAsNonRoot", what).isTrue();
        assertThat(podContext.getRunAsUser()).as("%s: pod runAsUser (the image's user)", what).isEqualTo(185L);
        assertThat(podContext.getRunAsGroup()).as("%s: pod runAsGroup", what).isEqualTo(185L);
        assertThat(podContext.getFsGroup()).as("%s: pod fsGroup", what).isEqualTo(185L);
        assertThat(podContext.getSeccompProfile()).as("%s: pod seccompProfile", what).isNotNull();
        assertThat(podContext.getSeccompProfile().getType()).as("%s: pod seccompProfile", what).isEqualTo("RuntimeDefault");
        assertThat(podContext.getSysctls()).as("%s: no sysctls", what).isNullOrEmpty();
        assertThat(podContext.getSeLinuxOptions()).as("%s: no SELinux options", what).isNull();
        assertThat(podContext.getWindowsOptions()).as("%s: no Windows options (hostProcess)", what).isNull();
        for (var volume : pod.getVolumes()) {
            var json = K8sObjects.SERIALIZATION.convertValue(volume, Map.class);
            assertThat(json.keySet()).as("%s: volume %s of a type the restricted standard allows", what, volume.getName())
                    .filteredOn(k -> !k.equals("name")).hasSize(1).allMatch(RESTRICTED_VOLUME_TYPES::contains);
        }
        var containers = new java.util.ArrayList<>(pod.getContainers());
        if (pod.getInitContainers() != null) {
            containers.addAll(pod.getInitContainers());
        }
        for (Container container : containers) {
            String c = what + " container " + container.getName();
            var context = container.getSecurityContext();
            assertThat(context).as("%s: securityContext", c).isNotNull();
            assertThat(Objects.equals(context.getPrivileged(), Boolean.TRUE)).as("%s: privileged", c).isFalse();
            assertThat(context.getAllowPrivilegeEscalation()).as("%s: allowPrivilegeEscalation", c).isFalse();
            assertThat(context.getReadOnlyRootFilesystem()).as("%s: readOnlyRootFilesystem", c).isTrue();
            assertThat(Objects.equals(context.getRunAsNonRoot(), Boolean.FALSE)).as("%s: runAsNonRoot", c).isFalse();
            assertThat(Objects.equals(context.getRunAsUser(), 0L)).as("%s: runAsUser", c).isFalse();
            assertThat(context.getCapabilities()).as("%s: capabilities", c).isNotNull();
            assertThat(context.getCapabilities().getDrop()).as("%s: capabilities dropped", c).contains("ALL");
            assertThat(context.getCapabilities().getAdd()).as("%s: capabilities added", c).isNullOrEmpty();
            assertThat(context.getProcMount()).as("%s: procMount", c).isIn(null, "Default");
            assertThat(context.getSeccompProfile()).as("%s: seccompProfile (the pod's applies)", c).isNull();
            assertThat(context.getSeLinuxOptions()).as("%s: no SELinux options", c).isNull();
            assertThat(container.getPorts()).as("%s: no hostPort", c).allMatch(p -> p.getHostPort() == null);
        }
        var mounts = container(deployment).getVolumeMounts();
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
        String what = describe(deployment);
        Container container = container(deployment);
        var flags = K8sJvmFlags.parse(env(container, "JAVA_OPTS_APPEND"));
        var limits = container.getResources().getLimits();
        assertThat(limits).as("%s: limits", what).containsKeys("memory", "cpu");
        long limit = Quantity.getAmountInBytes(limits.get("memory")).longValueExact();
        assertThat(flags.heapBytes(limit) + flags.offHeapBytes() + RESERVE_BYTES).as(
                "%s: heap (%s %% of the limit) + off-heap (%s bytes) + reserve (384 MiB) <= memory limit (%s bytes)",
                what, flags.heapPercent(), flags.offHeapBytes(), limit).isLessThanOrEqualTo(limit);
        assertThat(flags.exitOnOutOfMemory()).as("%s: -XX:+ExitOnOutOfMemoryError", what).isTrue();
        assertThat(flags.javacppCacheDir()).as("%s: JavaCPP's cache on the writable /tmp", what).startsWith("/tmp/");
        var requests = container.getResources().getRequests();
        assertThat(requests).as("%s: requests", what).containsKeys("memory", "cpu");
        if ("trainer".equals(component(deployment))) {
            assertThat(Quantity.getAmountInBytes(requests.get("memory"))).as("%s: memory request = limit", what)
                    .isEqualByComparingTo(Quantity.getAmountInBytes(limits.get("memory")));
        }
    }

    static void environment(Deployment deployment) {
        Container container = container(deployment);
        String what = describe(deployment);
        assertThat(env(container, "OMP_WAIT_POLICY")).as("%s: OMP_WAIT_POLICY", what).isEqualTo("PASSIVE");
        assertThat(env(container, "STREAMTRAIN_MODE")).as("%s: mode", what)
                .isEqualTo("trainer".equals(component(deployment)) ? "train" : "serve");
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
        String what = describe(trainer);
        assertThat(trainer.getSpec().getReplicas()).as("%s: one trainer per model", what).isBetween(0, 1);
        assertThat(trainer.getSpec().getStrategy().getType()).as("%s: never two trainers at once", what).isEqualTo("Recreate");
        Duration shutdown = Duration.parse("PT" + env(container(trainer), "STREAMTRAIN_CHECKPOINT_SHUTDOWN_TIMEOUT").toUpperCase());
        assertThat(trainer.getSpec().getTemplate().getSpec().getTerminationGracePeriodSeconds())
                .as("%s: terminationGracePeriodSeconds comfortably (30 s) above the checkpoint shutdown timeout %s", what, shutdown)
                .isGreaterThanOrEqualTo(shutdown.toSeconds() + 30);
    }

    static void serving(Deployment serving) {
        var strategy = serving.getSpec().getStrategy();
        assertThat(strategy.getType()).as("%s: rolling update", describe(serving)).isEqualTo("RollingUpdate");
        assertThat(strategy.getRollingUpdate().getMaxUnavailable()).as("%s: maxUnavailable", describe(serving))
                .isEqualTo(new IntOrString(0));
    }

    static Container container(Deployment deployment) {
        var containers = deployment.getSpec().getTemplate().getSpec().getContainers();
        assertThat(containers).as("%s: containers", describe(deployment)).hasSize(1);
        return containers.get(0);
    }

    /** The literal value of an environment variable (null when it comes from elsewhere or is absent). */
    static String env(Container container, String name) {
        return container.getEnv().stream().filter(e -> e.getName().equals(name)).map(EnvVar::getValue).findFirst()
                .orElseThrow(() -> new AssertionError("no environment variable " + name + " in container " + container.getName()));
    }

    static String component(HasMetadata object) {
        var labels = object.getMetadata().getLabels();
        return labels == null ? null : labels.get(COMPONENT);
    }

    static String describe(HasMetadata object) {
        return object.getKind() + "/" + object.getMetadata().getName();
    }

    private static boolean selects(Map<String, String> selector, Deployment deployment) {
        return selector != null && !selector.isEmpty()
                && deployment.getSpec().getTemplate().getMetadata().getLabels().entrySet().containsAll(selector.entrySet());
    }

    private static List<Deployment> selected(K8sObjects objects, Map<String, String> selector) {
        return objects.ofKind(Deployment.class).stream().filter(d -> selects(selector, d)).toList();
    }

    /** The port a probe or Service names exists on the container: by name, or by number. */
    private static void containerPort(Deployment deployment, IntOrString port, String what) {
        var ports = container(deployment).getPorts();
        assertThat(port).as("%s: a port", what).isNotNull();
        if (port.getStrVal() != null) {
            assertThat(ports).as("%s: container port named %s on %s", what, port.getStrVal(), describe(deployment))
                    .extracting(ContainerPort::getName).contains(port.getStrVal());
        } else {
            assertThat(ports).as("%s: container port %s on %s", what, port.getIntVal(), describe(deployment))
                    .extracting(ContainerPort::getContainerPort).contains(port.getIntVal());
        }
    }
}
