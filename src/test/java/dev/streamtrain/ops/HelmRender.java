package dev.streamtrain.ops;

import com.marcnuri.helm.Helm;
import com.marcnuri.helm.LintResult;

import java.nio.file.Path;
import java.util.Map;

/** helm lint and helm template of the chart in helm/streamtrain, through helm-java (no helm binary needed). */
final class HelmRender {

    static final Path CHART = Path.of("helm/streamtrain");
    static final Path VALUES = Path.of("src/test/resources/helm");

    private HelmRender() {
    }

    static LintResult lintStrict() {
        return new Helm(CHART).lint().strict().call();
    }

    /** The chart rendered as release {@code release} with the given values files (in order) and --set values. */
    static String template(String release, Map<String, Object> set, String... valuesFiles) {
        var command = new Helm(CHART).template().withName(release).withNamespace("streamtrain-test");
        for (String file : valuesFiles) {
            command = command.withValuesFile(VALUES.resolve(file));
        }
        for (var entry : set.entrySet()) {
            command = command.set(entry.getKey(), entry.getValue());
        }
        return command.call();
    }

    /** NOTES.txt as helm install prints it (a client-only dry run: no cluster is contacted). */
    static String notes(String release, Map<String, Object> set) {
        var command = new Helm(CHART).install().withName(release).withNamespace("streamtrain-test").dryRun().clientOnly();
        for (var entry : set.entrySet()) {
            command = command.set(entry.getKey(), entry.getValue());
        }
        return command.call().getOutput();
    }

    static K8sObjects render(String release, String... valuesFiles) {
        return K8sObjects.parse(Map.of("helm template " + release + " " + String.join(" ", valuesFiles),
                template(release, Map.of(), valuesFiles)));
    }
}
