package dev.streamtrain.ops;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The metric names docs/metrics.md documents: every streamtrain meter in its table, and the families of the meters
 * Quarkus binds (JVM, process, system, Kafka consumer) it names. Alert rules and dashboard
 * panels may read only these; PrometheusIT proves that each one they read exists on the running service.
 */
final class PrometheusMetricNames {

    private static final Path METRICS = Path.of("docs/metrics.md");
    private static final Pattern STREAMTRAIN = Pattern.compile("`(streamtrain_[a-z_]+)");
    private static final List<String> SUFFIXES = List.of("_bucket", "_count", "_sum", "_max", "_total");
    private static final List<String> BINDER_FAMILIES = List.of("jvm_", "process_", "system_", "kafka_consumer_");
    /** Series Prometheus itself makes: the scrape's up, and the alerts' state. */
    private static final Set<String> PROMETHEUS_OWN = Set.of("up", "ALERTS");

    private PrometheusMetricNames() {
    }

    /** The streamtrain metric names of the metrics table in docs/metrics.md. */
    static Set<String> documented() throws IOException {
        String section = Files.readString(METRICS);
        Set<String> names = new TreeSet<>();
        for (String line : section.split("\n")) {
            if (line.startsWith("| `streamtrain_")) {
                Matcher name = STREAMTRAIN.matcher(line);
                if (name.find()) {
                    names.add(name.group(1));
                }
            }
        }
        for (String family : BINDER_FAMILIES) {
            if (!section.contains(family)) {
                throw new IllegalStateException(METRICS + " no longer names the " + family
                        + "* meters");
            }
        }
        return names;
    }

    /** Whether the metric (a series name, with its _bucket/_count/_sum/_max/_total suffix) is documented. */
    static boolean isKnown(String metric, Set<String> documented) {
        if (PROMETHEUS_OWN.contains(metric) || BINDER_FAMILIES.stream().anyMatch(metric::startsWith)) {
            return true;
        }
        if (documented.contains(metric)) {
            return true;
        }
        for (String suffix : SUFFIXES) {
            if (metric.endsWith(suffix)) {
                String base = metric.substring(0, metric.length() - suffix.length());
                if (documented.contains(base) || documented.contains(base + "_total")) {
                    return true;
                }
            }
        }
        return false;
    }
}
