package dev.streamtrain.ops;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.KubernetesResource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Writes the plain manifests in k8s/ from the chart: one source of truth, so that k8s/ cannot drift from what
 * {@code helm install} deploys. The rendering is the chart's default values as release "streamtrain", without
 * Helm's own labels and without the {@code helm test} hook (neither means anything to {@code kubectl apply}), one
 * object per file named {@code NNN-Kind-name.yaml}, each under a header saying how to regenerate it.
 * {@link K8sManifestsGeneratedTest} fails when a file differs from a fresh rendering.
 */
public final class K8sManifestsFromChart {

    /** The command that runs {@link #main}, as the headers and the test's failure message name it. */
    static final String COMMAND = "./mvnw -B -Pk8s-manifests process-test-classes";
    static final Map<String, Object> VALUES = Map.of("helmLabels", false, "tests.enabled", false);

    /**
     * The file number of each object: applied in name order, so that the ServiceAccount and the ConfigMaps exist
     * before the pods that use them. A new object in the chart needs a number here.
     */
    private static final Map<String, String> NUMBERS = Map.ofEntries(
            Map.entry("ServiceAccount/streamtrain", "010"),
            Map.entry("ConfigMap/streamtrain-config", "020"),
            Map.entry("ConfigMap/streamtrain-model-spec", "021"),
            Map.entry("Deployment/streamtrain-trainer", "030"),
            Map.entry("Service/streamtrain-trainer", "031"),
            Map.entry("Deployment/streamtrain-serving", "040"),
            Map.entry("Service/streamtrain-serving", "041"),
            Map.entry("PodDisruptionBudget/streamtrain-serving", "042"),
            Map.entry("HorizontalPodAutoscaler/streamtrain-serving", "043"),
            Map.entry("ServiceMonitor/streamtrain", "050"),
            Map.entry("PrometheusRule/streamtrain", "051"),
            Map.entry("ConfigMap/streamtrain-grafana-dashboard", "052"),
            Map.entry("PodMonitor/streamtrain", "053"));

    private static final String HEADER = """
            # Generated from the Helm chart helm/streamtrain (default values, release streamtrain, helmLabels=false,
            # tests.enabled=false): edit the chart, then regenerate k8s/ with %s
            """.formatted(COMMAND);
    private static final Pattern DOCUMENT_SEPARATOR = Pattern.compile("(?m)^---[ \\t]*$\\n");
    private static final Pattern GENERATED_NAME = Pattern.compile("[0-9]{3}-[A-Za-z]+-[a-z0-9-]+\\.yaml");

    private K8sManifestsFromChart() {
    }

    /** Rewrites k8s/ (run from the repository root): the rendered files, and none of the old ones left over. */
    public static void main(String[] args) throws IOException {
        if (!Files.isDirectory(HelmRender.CHART) || !Files.isDirectory(K8sManifestFiles.K8S)) {
            throw new IllegalStateException("no " + HelmRender.CHART + " and " + K8sManifestFiles.K8S + " in "
                    + Path.of("").toAbsolutePath() + ": run " + COMMAND + " from the repository root");
        }
        var files = render();
        try (Stream<Path> old = Files.list(K8sManifestFiles.K8S)) {
            for (Path file : old.filter(f -> GENERATED_NAME.matcher(f.getFileName().toString()).matches()).toList()) {
                Files.delete(file);
            }
        }
        for (var file : files.entrySet()) {
            Files.writeString(K8sManifestFiles.K8S.resolve(file.getKey()), file.getValue());
        }
        System.out.printf("wrote %d files to %s from %s%n", files.size(), K8sManifestFiles.K8S, HelmRender.CHART);
    }

    /** File name to content of the plain manifests, as the chart renders them now, in name order. */
    static Map<String, String> render() {
        var files = new TreeMap<String, String>();
        for (String document : DOCUMENT_SEPARATOR.split(HelmRender.template("streamtrain", VALUES))) {
            if (document.lines().allMatch(l -> l.isBlank() || l.startsWith("#"))) {
                continue;
            }
            String name = fileName(document);
            if (files.put(name, HEADER + document.stripTrailing() + "\n") != null) {
                throw new IllegalStateException("the chart renders two objects into " + name);
            }
        }
        return files;
    }

    private static String fileName(String document) {
        var object = (HasMetadata) K8sObjects.SERIALIZATION.unmarshal(document, KubernetesResource.class);
        String key = object.getKind() + "/" + object.getMetadata().getName();
        String number = NUMBERS.get(key);
        if (number == null) {
            throw new IllegalStateException("the chart renders " + key + ", which has no file number: add it to "
                    + K8sManifestsFromChart.class.getSimpleName() + ".NUMBERS");
        }
        return number + "-" + object.getKind() + "-" + object.getMetadata().getName() + ".yaml";
    }

    /** For messages: which files differ between two sets of manifests. */
    static List<String> differingFiles(Map<String, String> expected, Map<String, String> actual) {
        var names = new LinkedHashMap<String, Boolean>();
        expected.keySet().forEach(n -> names.put(n, true));
        actual.keySet().forEach(n -> names.put(n, true));
        return names.keySet().stream().sorted()
                .filter(n -> !String.valueOf(expected.get(n)).equals(String.valueOf(actual.get(n))))
                .map(n -> n + (expected.containsKey(n) ? actual.containsKey(n) ? " (differs)" : " (missing)" : " (not rendered)"))
                .toList();
    }
}
