package dev.streamtrain.ops;

import io.fabric8.kubernetes.api.model.HasMetadata;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The chart rendered as release "streamtrain" with default values is the plain manifests: the same kinds and
 * names, and field for field the same objects (ports, probes, labels and selectors, security contexts,
 * resources, environment, volumes, ...), apart from Helm's own labels and the checksum annotations.
 */
class ChartMatchesManifestsTest {

    private static final Set<String> HELM_LABELS = Set.of("helm.sh/chart", "app.kubernetes.io/managed-by",
            "app.kubernetes.io/version");

    @Test
    void chartWithDefaultValuesRendersThePlainManifests() {
        var plain = byKindAndName(K8sManifestFiles.objects());
        var chart = byKindAndName(HelmRender.render("streamtrain"));
        // the script of `helm test` has no place in plain manifests (there is no helm test without helm)
        assertThat(chart.remove("ConfigMap/streamtrain-test-inference")).isNotNull();
        assertThat(chart.keySet()).as("kinds and names rendered by the chart vs k8s/").isEqualTo(plain.keySet());
        var differences = new ArrayList<String>();
        plain.forEach((key, object) -> diff(key, normalized(object), normalized(chart.get(key)), differences));
        assertThat(differences).as("fields where the chart (defaults, release streamtrain) and k8s/ differ").isEmpty();
    }

    @Test
    void theComparisonSeesADifference() {
        var plain = normalized(K8sManifestFiles.objects().deployment("serving"));
        var chart = normalized(K8sObjects.parse(Map.of("serving.replicas=3",
                HelmRender.template("streamtrain", Map.of("serving.replicas", 3)))).deployment("serving"));
        var differences = new ArrayList<String>();
        diff("Deployment/streamtrain-serving", plain, chart, differences);
        assertThat(differences).containsExactly("Deployment/streamtrain-serving.spec.replicas: k8s/ 2, chart 3");
    }

    private static Map<String, HasMetadata> byKindAndName(K8sObjects objects) {
        var map = new LinkedHashMap<String, HasMetadata>();
        objects.all().forEach(o -> map.put(o.getKind() + "/" + o.getMetadata().getName(), o));
        return map;
    }

    /** The object as a JSON tree, without Helm's labels and the pods' checksum annotations. */
    @SuppressWarnings("unchecked")
    private static Map<String, Object> normalized(HasMetadata object) {
        Map<String, Object> tree = K8sObjects.SERIALIZATION.convertValue(object, Map.class);
        withoutHelmMetadata((Map<String, Object>) tree.get("metadata"));
        if (tree.get("spec") instanceof Map<?, ?> spec && spec.get("template") instanceof Map<?, ?> template) {
            withoutHelmMetadata((Map<String, Object>) template.get("metadata"));
        }
        return tree;
    }

    @SuppressWarnings("unchecked")
    private static void withoutHelmMetadata(Map<String, Object> metadata) {
        if (metadata.get("labels") instanceof Map<?, ?> labels) {
            labels.keySet().removeAll(HELM_LABELS);
        }
        if (metadata.get("annotations") instanceof Map<?, ?> annotations) {
            ((Map<String, Object>) annotations).keySet().removeIf(k -> k.startsWith("checksum/"));
            if (annotations.isEmpty()) {
                metadata.remove("annotations");
            }
        }
    }

    private static void diff(String path, Object plain, Object chart, List<String> differences) {
        if (plain instanceof Map<?, ?> a && chart instanceof Map<?, ?> b) {
            var keys = new TreeSet<String>();
            a.keySet().forEach(k -> keys.add(k.toString()));
            b.keySet().forEach(k -> keys.add(k.toString()));
            keys.forEach(k -> diff(path + "." + k, a.get(k), b.get(k), differences));
        } else if (plain instanceof List<?> a && chart instanceof List<?> b && a.size() == b.size()) {
            for (int i = 0; i < a.size(); i++) {
                diff(path + "[" + i + "]", a.get(i), b.get(i), differences);
            }
        } else if (!Objects.equals(plain, chart)) {
            differences.add(path + ": k8s/ " + plain + ", chart " + chart);
        }
    }
}
