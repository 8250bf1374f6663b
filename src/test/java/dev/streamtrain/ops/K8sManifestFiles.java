package dev.streamtrain.ops;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Stream;

/** The plain manifests in k8s/ and the canonical monitoring files, read from the working tree. */
final class K8sManifestFiles {

    static final Path K8S = Path.of("k8s");
    static final Path RULES = Path.of("monitoring/prometheus/streamtrain-rules.yaml");
    static final Path DASHBOARD = Path.of("monitoring/grafana/streamtrain-dashboard.json");

    private K8sManifestFiles() {
    }

    /** File name to content of every k8s/*.yaml, in name order. */
    static Map<String, String> manifests() {
        try (Stream<Path> files = Files.list(K8S)) {
            var byName = new LinkedHashMap<String, String>();
            files.filter(f -> f.getFileName().toString().endsWith(".yaml")).sorted()
                    .forEach(f -> byName.put(f.getFileName().toString(), read(f)));
            return byName;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static K8sObjects objects() {
        return K8sObjects.parse(manifests());
    }

    static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
