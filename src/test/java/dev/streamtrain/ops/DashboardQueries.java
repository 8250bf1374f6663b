package dev.streamtrain.ops;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The Grafana dashboard {@code monitoring/grafana/streamtrain-dashboard.json} read as data: its panels (those in
 * collapsed rows too), and every PromQL query it sends (panel targets and template-variable queries), with the
 * Grafana variables replaced by values so that Prometheus and promtool can run them.
 */
final class DashboardQueries {

    static final Path DASHBOARD = Path.of("monitoring", "grafana", "streamtrain-dashboard.json");
    /** The row of a group of trainers' panels: no data from a trainer that trains alone (GroupDashboardIT). */
    static final String GROUP_ROW = "Training group";

    /** A query: where it comes from (a valid recording-rule name), the panel or variable, and its PromQL. */
    record Query(String id, String source, String expr) {
    }

    /** Grafana's built-in interval variables, as Grafana would fill them in for a 1-hour view. */
    private static final Map<String, String> BUILT_INS = Map.of(
            "__rate_interval", "1m", "__interval", "15s", "__interval_ms", "15000", "__range", "1h",
            "__range_s", "3600", "__range_ms", "3600000");
    private static final Pattern VARIABLE = Pattern.compile("\\$\\{(\\w+)(?::\\w+)?}|\\$(\\w+)|\\[\\[(\\w+)]]");
    private static final Pattern LABEL_VALUES = Pattern.compile("^\\s*label_values\\((.*),\\s*(\\w+)\\s*\\)\\s*$",
            Pattern.DOTALL);

    private DashboardQueries() {
    }

    static JsonNode read() throws IOException {
        return new ObjectMapper().readTree(DASHBOARD.toFile());
    }

    /** Every panel that is not a row, those nested in collapsed rows included. */
    static List<JsonNode> panels(JsonNode dashboard) {
        List<JsonNode> panels = new ArrayList<>();
        for (JsonNode panel : dashboard.path("panels")) {
            if (panel.path("type").asText().equals("row")) {
                panel.path("panels").forEach(panels::add);
            } else {
                panels.add(panel);
            }
        }
        return panels;
    }

    /** Every query the dashboard sends, with its Grafana variables still in. */
    static List<Query> queries(JsonNode dashboard) {
        List<Query> queries = new ArrayList<>();
        for (JsonNode panel : panels(dashboard)) {
            for (JsonNode target : panel.path("targets")) {
                queries.add(new Query("dashboard:panel_" + panel.path("id").asText() + "_" + target.path("refId").asText(),
                        "panel " + panel.path("id").asText() + " \"" + panel.path("title").asText() + "\" target "
                                + target.path("refId").asText(), target.path("expr").asText()));
            }
        }
        for (JsonNode variable : dashboard.path("templating").path("list")) {
            if (variable.path("type").asText().equals("query")) {
                JsonNode query = variable.path("query");
                String text = query.isObject() ? query.path("query").asText() : query.asText();
                queries.add(new Query("dashboard:variable_" + variable.path("name").asText(),
                        "variable $" + variable.path("name").asText(), promql(text)));
            }
        }
        return queries;
    }

    /** The queries of the panels in the row titled {@code row}, with their Grafana variables still in. */
    static List<Query> rowQueries(JsonNode dashboard, String row) {
        ObjectNode only = new ObjectMapper().createObjectNode();
        ArrayNode panels = only.putArray("panels");
        for (JsonNode panel : dashboard.path("panels")) {
            if (panel.path("type").asText().equals("row") && panel.path("title").asText().equals(row)) {
                panels.add(panel);
            }
        }
        return queries(only);
    }

    /** The PromQL behind a variable query: label_values(selector, label) as Prometheus would be asked it. */
    static String promql(String variableQuery) {
        Matcher labelValues = LABEL_VALUES.matcher(variableQuery);
        if (labelValues.matches()) {
            return "count by (" + labelValues.group(2) + ") (" + labelValues.group(1).trim() + ")";
        }
        return variableQuery;
    }

    /** The expression with each Grafana variable replaced: built-in intervals, and the given values. */
    static String substitute(String expr, Map<String, String> values) {
        Map<String, String> all = new LinkedHashMap<>(BUILT_INS);
        all.putAll(values);
        Matcher matcher = VARIABLE.matcher(expr);
        StringBuilder out = new StringBuilder();
        while (matcher.find()) {
            String name = matcher.group(1) != null ? matcher.group(1)
                    : matcher.group(2) != null ? matcher.group(2) : matcher.group(3);
            String value = all.get(name);
            if (value == null) {
                throw new IllegalArgumentException("no value for the Grafana variable $" + name + " in " + expr);
            }
            matcher.appendReplacement(out, Matcher.quoteReplacement(value));
        }
        matcher.appendTail(out);
        return out.toString();
    }
}
