package dev.streamtrain.ops;

import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * k8s/ is the chart rendered by {@link K8sManifestsFromChart}, byte for byte: a change to the chart (or a hand edit
 * of k8s/) without regenerating fails here, naming the command that regenerates.
 */
class K8sManifestsGeneratedTest {

    @Test
    void theManifestsInK8sAreAFreshRenderingOfTheChart() {
        var rendered = K8sManifestsFromChart.render();
        var inK8s = K8sManifestFiles.manifests();
        assertThat(K8sManifestsFromChart.differingFiles(rendered, inK8s))
                .as("files of k8s/ that differ from the chart's rendering: regenerate them with `%s` (run from the"
                        + " repository root), and commit them with the chart", K8sManifestsFromChart.COMMAND)
                .isEmpty();
        // the same, as a diff in the failure message if the names above agree and a byte somewhere does not
        rendered.forEach((name, content) -> assertThat(inK8s.get(name)).as("k8s/%s", name).isEqualTo(content));
    }

    @Test
    void aHandEditOrAMissingFileIsSeen() {
        var rendered = K8sManifestsFromChart.render();
        var edited = new LinkedHashMap<>(rendered);
        edited.computeIfPresent("041-Service-streamtrain-serving.yaml", (name, content) -> content + "# edited\n");
        edited.remove("010-ServiceAccount-streamtrain.yaml");
        edited.put("099-ConfigMap-stale.yaml", "kind: ConfigMap\n");
        assertThat(K8sManifestsFromChart.differingFiles(rendered, edited)).containsExactly(
                "010-ServiceAccount-streamtrain.yaml (missing)", "041-Service-streamtrain-serving.yaml (differs)",
                "099-ConfigMap-stale.yaml (not rendered)");
    }

    @Test
    void everyFileSaysItIsGeneratedAndHowToRegenerateIt() {
        K8sManifestsFromChart.render().forEach((name, content) -> assertThat(content).as(name)
                .startsWith("# Generated from the Helm chart helm/streamtrain")
                .contains(K8sManifestsFromChart.COMMAND)
                .doesNotContain("app.kubernetes.io/managed-by", "helm.sh/"));
    }
}
