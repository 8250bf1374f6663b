package dev.streamtrain.ops;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A Prometheus rule file ({@code groups:}) read as data: the canonical alert rules of
 * {@code monitoring/prometheus/streamtrain-rules.yaml}, and rule files the tests write to have promtool check
 * expressions.
 */
final class PrometheusRuleFile {

    static final Path RULES = Path.of("monitoring", "prometheus", "streamtrain-rules.yaml");
    static final Path RULE_TESTS = Path.of("monitoring", "prometheus", "streamtrain-rules.test.yaml");

    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory()
            .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES).disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER));

    /** One rule: an alert (alert set) or a recording rule (record set). */
    record Rule(String group, String alert, String record, String expr, String forDuration,
                Map<String, String> labels, Map<String, String> annotations) {

        String name() {
            return alert != null ? alert : record;
        }
    }

    private PrometheusRuleFile() {
    }

    static List<Rule> read(Path file) throws IOException {
        List<Rule> rules = new ArrayList<>();
        for (JsonNode group : YAML.readTree(file.toFile()).path("groups")) {
            for (JsonNode rule : group.path("rules")) {
                rules.add(new Rule(group.path("name").asText(), text(rule, "alert"), text(rule, "record"),
                        rule.path("expr").asText().trim(), text(rule, "for"), strings(rule.path("labels")),
                        strings(rule.path("annotations"))));
            }
        }
        return rules;
    }

    static List<Rule> alerts(Path file) throws IOException {
        return read(file).stream().filter(rule -> rule.alert() != null).toList();
    }

    /** Writes the expressions as recording rules (record name → expression) in one group. */
    static void writeRecordingRules(Path file, String group, Map<String, String> expressions) throws IOException {
        List<Map<String, String>> rules = new ArrayList<>();
        expressions.forEach((record, expr) -> rules.add(Map.of("record", record, "expr", expr)));
        YAML.writeValue(file.toFile(), Map.of("groups", List.of(Map.of("name", group, "rules", rules))));
    }

    /** The test file's cases as (alert name, whether the case expects it to fire) pairs. */
    static List<Map.Entry<String, Boolean>> testCases(Path file) throws IOException {
        List<Map.Entry<String, Boolean>> cases = new ArrayList<>();
        for (JsonNode test : YAML.readTree(file.toFile()).path("tests")) {
            for (JsonNode alertTest : test.path("alert_rule_test")) {
                cases.add(Map.entry(alertTest.path("alertname").asText(), !alertTest.path("exp_alerts").isEmpty()));
            }
        }
        return cases;
    }

    private static String text(JsonNode node, String field) {
        return node.hasNonNull(field) ? node.get(field).asText() : null;
    }

    private static Map<String, String> strings(JsonNode node) {
        Map<String, String> map = new LinkedHashMap<>();
        node.fields().forEachRemaining(field -> map.put(field.getKey(), field.getValue().asText()));
        return map;
    }
}
