package dev.streamtrain.ops;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.openshift.api.model.monitoring.v1.ServiceMonitor;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The checks that the plain manifests and every rendering of the chart must pass: labels of the shared
 * contract, selectors that select what they should (Deployments, Services, ServiceMonitors, the PDB), and the
 * checks of each pod template ({@link K8sPodChecks}).
 */
final class K8sChecks {

    static final String NAME = "app.kubernetes.io/name";
    static final String INSTANCE = "app.kubernetes.io/instance";
    static final String COMPONENT = "app.kubernetes.io/component";
    static final String PART_OF = "app.kubernetes.io/part-of";
    /** The objects of release {@code streamtrain} with default values: k8s/ and the chart's default rendering. */
    static final List<String> DEFAULT_OBJECTS = List.of(
            "ServiceAccount/streamtrain", "ConfigMap/streamtrain-config", "ConfigMap/streamtrain-model-spec",
            "Deployment/streamtrain-trainer", "Service/streamtrain-trainer", "Deployment/streamtrain-serving",
            "Service/streamtrain-serving", "PodDisruptionBudget/streamtrain-serving", "ServiceMonitor/streamtrain",
            "PrometheusRule/streamtrain", "ConfigMap/streamtrain-grafana-dashboard");

    private K8sChecks() {
    }

    /** Everything below, for objects of the release {@code release}. */
    static void checkAll(K8sObjects objects, String release) {
        labels(objects, release);
        deploymentsSelectTheirPods(objects);
        servicesSelectTheirComponent(objects);
        serviceMonitorsSelectServicesAndPorts(objects);
        disruptionBudgetsSelectServingPods(objects);
        configurationKeysExist(objects);
        for (Deployment deployment : objects.ofKind(Deployment.class)) {
            K8sPodChecks.probes(deployment);
            K8sPodChecks.restrictedPodSecurity(deployment);
            K8sPodChecks.memoryHoldsTheJvm(deployment);
            K8sPodChecks.environment(deployment);
        }
        K8sPodChecks.trainer(objects.deployment("trainer"));
        objects.ofKind(Deployment.class).stream().filter(d -> "serving".equals(component(d))).forEach(K8sPodChecks::serving);
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
                K8sPodChecks.containerPort(selected.get(0), port.getTargetPort(), describe(service) + " port " + port.getName());
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

    /**
     * Every STREAMTRAIN_*, KAFKA_*, MP_MESSAGING_* variable a container gets, from its env and from the ConfigMaps
     * it reads with envFrom, configures a key of the service or a Kafka client key ({@link ComposeConfigKeys}).
     * ConfigMaps and Secrets the objects do not include (the user's) cannot be read and are not checked.
     */
    static void configurationKeysExist(K8sObjects objects) {
        List<String> variables = new ArrayList<>();
        for (Deployment deployment : objects.ofKind(Deployment.class)) {
            for (var container : deployment.getSpec().getTemplate().getSpec().getContainers()) {
                String where = describe(deployment) + " container " + container.getName() + ": ";
                if (container.getEnv() != null) {
                    container.getEnv().forEach(e -> variables.add(where + e.getName()));
                }
                if (container.getEnvFrom() != null) {
                    for (var from : container.getEnvFrom()) {
                        String prefix = from.getPrefix() == null ? "" : from.getPrefix();
                        if (from.getConfigMapRef() != null) {
                            objects.find(ConfigMap.class, from.getConfigMapRef().getName()).ifPresent(map ->
                                    map.getData().keySet().forEach(k -> variables.add(where + "(" + describe(map) + ") " + prefix + k)));
                        }
                    }
                }
            }
        }
        assertThat(ComposeConfigKeys.unknown(variables, serviceKeys()))
                .as("environment variables that configure no key of the service and no Kafka client key").isEmpty();
    }

    private static Set<String> serviceKeys;

    private static synchronized Set<String> serviceKeys() {
        if (serviceKeys == null) {
            try {
                serviceKeys = ComposeConfigKeys.of(Path.of("").toAbsolutePath());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return serviceKeys;
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

}
