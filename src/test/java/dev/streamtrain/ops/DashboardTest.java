package dev.streamtrain.ops;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The Grafana dashboard {@code monitoring/grafana/streamtrain-dashboard.json}: its shape (uid, variables, rows,
 * every panel with a title, a description, a unit, the {@code ${datasource}} data source and a query), its queries
 * (each selects the chosen models, rates use {@code $__rate_interval}, only documented metrics), and every query,
 * variables filled in, parsed by the real promtool as a recording rule. PrometheusIT runs the same queries against
 * a Prometheus scraping the running service.
 */
class DashboardTest {

    private static final String DATASOURCE = "${datasource}";
    private static final Map<String, String> ANY = Map.of("model", ".*", "instance", ".*", "datasource", "prometheus");

    private static JsonNode dashboard;

    @TempDir
    Path work;

    @BeforeAll
    static void read() throws IOException {
        dashboard = DashboardQueries.read();
    }

    @Test
    void isTheStreamtrainDashboardWithDatasourceAndModelVariables() {
        assertThat(dashboard.path("uid").asText()).isEqualTo("streamtrain");
        assertThat(dashboard.path("title").asText()).isEqualTo("streamtrain");
        assertThat(dashboard.path("schemaVersion").asInt()).as("Grafana 10/11 schema").isGreaterThanOrEqualTo(36);
        Map<String, JsonNode> variables = new LinkedHashMap<>();
        dashboard.path("templating").path("list").forEach(v -> variables.put(v.path("name").asText(), v));
        JsonNode datasource = variables.get("datasource");
        assertThat(datasource).isNotNull();
        assertThat(datasource.path("type").asText()).isEqualTo("datasource");
        assertThat(datasource.path("query").asText()).isEqualTo("prometheus");
        JsonNode model = variables.get("model");
        assertThat(model).isNotNull();
        assertThat(model.path("query").path("query").asText()).isEqualTo("label_values(streamtrain_steps_total, model)");
        assertThat(model.path("multi").asBoolean()).isTrue();
        assertThat(model.path("includeAll").asBoolean()).isTrue();
        assertThat(model.path("datasource").path("uid").asText()).isEqualTo(DATASOURCE);
    }

    @Test
    void hasTheRowsOfTheIssue() {
        List<String> rows = new ArrayList<>();
        dashboard.path("panels").forEach(p -> {
            if (p.path("type").asText().equals("row")) {
                rows.add(p.path("title").asText());
            }
        });
        assertThat(rows).containsExactly("Training", "Gradient health", "Checkpoints", "Serving", "Resources");
    }

    @Test
    void everyPanelHasATitleADescriptionAUnitTheDatasourceVariableAndAQuery() {
        List<String> problems = new ArrayList<>();
        Set<Integer> ids = new HashSet<>();
        for (JsonNode panel : DashboardQueries.panels(dashboard)) {
            String name = "panel " + panel.path("id").asText() + " \"" + panel.path("title").asText() + "\"";
            check(problems, name, "has a unique id", ids.add(panel.path("id").asInt()));
            check(problems, name, "has a title", !panel.path("title").asText().isBlank());
            check(problems, name, "has a description", !panel.path("description").asText().isBlank());
            check(problems, name, "has a unit", !panel.path("fieldConfig").path("defaults").path("unit").asText().isBlank());
            check(problems, name, "uses the datasource variable",
                    DATASOURCE.equals(panel.path("datasource").path("uid").asText()));
            check(problems, name, "has a query", !panel.path("targets").isEmpty());
            for (JsonNode target : panel.path("targets")) {
                check(problems, name, "target " + target.path("refId").asText() + " has an expr and the datasource variable",
                        !target.path("expr").asText().isBlank()
                                && DATASOURCE.equals(target.path("datasource").path("uid").asText()));
            }
        }
        assertThat(problems).isEmpty();
    }

    @Test
    void everyQuerySelectsTheChosenModelsUsesTheRateIntervalAndReadsDocumentedMetrics() throws IOException {
        Set<String> documented = PrometheusMetricNames.documented();
        List<String> problems = new ArrayList<>();
        for (var query : DashboardQueries.queries(dashboard)) {
            if (query.source().startsWith("variable $model")) {
                continue;
            }
            for (var selector : PromqlExpressions.selectors(query.expr())) {
                check(problems, query.source(), "selects model=~\"$model\" on " + selector.metric(),
                        !selector.metric().startsWith("streamtrain_") && !selector.metric().equals("ALERTS")
                                || selector.matchers().contains("model=~\"$model\""));
                check(problems, query.source(), "reads " + selector.metric() + ", which the README's Metrics"
                        + " section lists", PrometheusMetricNames.isKnown(selector.metric(), documented));
            }
            check(problems, query.source(), "uses [$__rate_interval] in rate() and increase()",
                    !query.expr().matches("(?s).*(rate|increase)\\([^\\[]*\\[[0-9]+[smhd]].*"));
        }
        assertThat(problems).isEmpty();
    }

    @Test
    void promtoolParsesEveryQueryWithItsVariablesFilledIn() throws Exception {
        Map<String, String> expressions = new LinkedHashMap<>();
        for (var query : DashboardQueries.queries(dashboard)) {
            expressions.put(query.id(), DashboardQueries.substitute(query.expr(), ANY));
        }
        assertThat(expressions).hasSizeGreaterThan(30);
        Path file = work.resolve("dashboard-queries.yaml");
        PrometheusRuleFile.writeRecordingRules(file, "dashboard", expressions);

        var result = PrometheusBinaries.promtool(work, "check", "rules", file.toString());

        assertThat(result.exitCode()).as("promtool check rules on the dashboard's queries:\n%s\n%s", result.output(),
                Files.readString(file)).isZero();
        assertThat(result.output()).contains("SUCCESS: " + expressions.size() + " rules found");
    }

    @Test
    void grafanaVariablesAreFilledInLikeGrafanaDoes() {
        assertThat(DashboardQueries.substitute(
                "rate(x{model=~\"$model\",i=~\"${instance}\"}[$__rate_interval]) [[model]] $__range", ANY))
                .isEqualTo("rate(x{model=~\".*\",i=~\".*\"}[1m]) .* 1h");
        assertThat(DashboardQueries.promql("label_values(streamtrain_steps_total{model=~\"$model\"}, instance)"))
                .isEqualTo("count by (instance) (streamtrain_steps_total{model=~\"$model\"})");
    }

    private static void check(List<String> problems, String source, String what, boolean ok) {
        if (!ok) {
            problems.add(source + " " + what);
        }
    }
}
