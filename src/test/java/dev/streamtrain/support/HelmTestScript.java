package dev.streamtrain.support;

import com.marcnuri.helm.Helm;
import org.yaml.snakeyaml.Yaml;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The shell script of the chart's {@code helm test} pod (curl against the inference Service), rendered by helm from
 * the chart with some values set, and run here against a live service with its in-cluster names swapped for local
 * ones: the Service's base URL, and the directories where the pod mounts its Secrets.
 */
public final class HelmTestScript {

    private static final long TIMEOUT_SECONDS = 120;

    private HelmTestScript() {
    }

    /** The script as the chart renders it for release "streamtrain" with these values. */
    public static String render(Map<String, Object> values) {
        var template = new Helm(Path.of("helm/streamtrain")).template().withName("streamtrain")
                .withNamespace("streamtrain-test");
        for (var value : values.entrySet()) {
            template = template.set(value.getKey(), value.getValue());
        }
        String script = null;
        for (Object document : new Yaml().loadAll(template.call())) {
            if (document instanceof Map<?, ?> object && "ConfigMap".equals(object.get("kind"))
                    && "streamtrain-test-inference".equals(((Map<?, ?>) object.get("metadata")).get("name"))) {
                script = (String) ((Map<?, ?>) object.get("data")).get("test-inference.sh");
            }
        }
        assertThat(script).as("the chart renders the helm-test script with %s", values).isNotNull();
        return script;
    }

    /**
     * Runs the script with each key of {@code replacements} (which must occur in it) replaced by its value; its
     * output, or null when it exits with an error.
     */
    public static String run(String script, Map<String, String> replacements) throws IOException, InterruptedException {
        String local = script;
        for (var replacement : replacements.entrySet()) {
            assertThat(local).as("the script names %s", replacement.getKey()).contains(replacement.getKey());
            local = local.replace(replacement.getKey(), replacement.getValue());
        }
        Process process = new ProcessBuilder("/bin/sh", "-c", local).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!process.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new IllegalStateException("the helm-test script did not finish within " + TIMEOUT_SECONDS
                    + " s; its output:\n" + output);
        }
        return process.exitValue() == 0 ? output : null;
    }
}
