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
 * (each selects the chosen models, rates use {@code $__rate_interval}, only documented metrics; the trainer's
 * gauges that serving-only replicas export with a neutral value are read from the trainer only), every query,
 * variables filled in, parsed by the real promtool as a recording rule, and the panels that must tell the trainer
 * from replicas or count alerts without a model label evaluated by promtool on synthetic series. PrometheusIT runs
 * the same queries against a Prometheus scraping the running service.
 */
class DashboardTest {

    private static final String DATASOURCE = "${datasource}";
    private static final Map<String, String> ANY = Map.of("model", ".*", "instance", ".*", "datasource", "prometheus");
    /** How Grafana fills in a multi-value variable with several values chosen (or All, without an allValue). */
    private static final Map<String, String> TWO_MODELS = Map.of("model", "(digits|letters)", "instance", ".*",
            "datasource", "prometheus");
    /**
     * Gauges of the trainer that a serving-only replica exports too, with a neutral value that an aggregation over
     * the model's processes would mix in: the learning-rate scale (1: a collapsed trainer's rate hides behind
     * max), the learning rate, and the health alarms (0: a model whose trainer is gone looks healthy). Queries must
     * join them on the trainer, the process holding partitions of the examples topic.
     */
    private static final Set<String> TRAINER_GAUGES = Set.of("streamtrain_learning_rate_scale",
            "streamtrain_learning_rate", "streamtrain_health_alarm");
    private static final String TRAINER = "and on (instance) (max by (instance) (kafka_consumer_coordinator_assigned_"
            + "partitions{client_id=\"kafka-consumer-examples\"}) > 0)";

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
        assertThat(rows).containsExactly("Training", "Gradient health", "Checkpoints", "Serving", "Resources",
                "Training group");
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
                // ALERTS: also those without a model label (StreamtrainTargetDown), which "$model" alone never matches
                check(problems, query.source(), "selects model=~\"$model\" on " + selector.metric(),
                        !selector.metric().startsWith("streamtrain_") && !selector.metric().equals("ALERTS")
                                || selector.metric().equals("ALERTS") && selector.matchers().contains("model=~\"$model|\"")
                                || selector.metric().startsWith("streamtrain_")
                                        && selector.matchers().contains("model=~\"$model\""));
                check(problems, query.source(), "reads the trainer's gauge " + selector.metric() + " from the trainer"
                        + " only (" + TRAINER + ")", !TRAINER_GAUGES.contains(selector.metric())
                        || query.expr().contains(TRAINER));
                check(problems, query.source(), "reads " + selector.metric() + ", which docs/metrics.md"
                        + " lists", PrometheusMetricNames.isKnown(selector.metric(), documented));
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
    void theTrainerPanelsIgnoreReplicasAndTheAlertsPanelCountsAlertsWithoutAModel() throws Exception {
        String scale = panelQuery("streamtrain_learning_rate_scale");
        String alarms = panelQuery("streamtrain_health_alarm");
        String alerts = panelQuery("ALERTS");
        String target = "namespace=\"ml\",job=\"streamtrain\",";
        String trainer = target + "pod=\"trainer\",instance=\"10.0.0.1:8080\"";
        String replica = target + "pod=\"serving\",instance=\"10.0.0.2:8080\"";
        String tests = """
                rule_files:
                  - empty-rules.yaml
                evaluation_interval: 1m
                tests:
                  - interval: 1m
                    input_series:
                      # the trainer backed its learning rate off to 0.5 %%; a replica has no trainer: scale 1
                      - series: 'streamtrain_learning_rate_scale{%1$s,model="digits"}'
                        values: '0.005x10'
                      - series: 'kafka_consumer_coordinator_assigned_partitions{%1$s,client_id="kafka-consumer-examples"}'
                        values: '1x10'
                      - series: 'streamtrain_learning_rate_scale{%2$s,model="digits"}'
                        values: '1x10'
                      - series: 'kafka_consumer_coordinator_assigned_partitions{%2$s,client_id="kafka-consumer-training-events"}'
                        values: '1x10'
                      # letters has no trainer running, only a replica (whose alarms are all 0)
                      - series: 'streamtrain_health_alarm{%2$s,model="letters",alarm="overfitting"}'
                        values: '0x10'
                      - series: 'streamtrain_health_alarm{%1$s,model="digits",alarm="overfitting"}'
                        values: '0x10'
                      # firing: one of a chosen model, one without a model label; not counted: another model's,
                      # a pending one
                      - series: 'ALERTS{alertname="StreamtrainNoTrainingProgress",alertstate="firing",severity="warning",%1$s,model="digits"}'
                        values: '1x10'
                      - series: 'ALERTS{alertname="StreamtrainTargetDown",alertstate="firing",severity="critical",%2$s}'
                        values: '1x10'
                      - series: 'ALERTS{alertname="StreamtrainServingStale",alertstate="firing",severity="warning",%2$s,model="faces"}'
                        values: '1x10'
                      - series: 'ALERTS{alertname="StreamtrainCheckpointStale",alertstate="pending",severity="critical",%1$s,model="letters"}'
                        values: '1x10'
                    promql_expr_test:
                      - expr: '%3$s'
                        eval_time: 5m
                        exp_samples:
                          - labels: '{model="digits"}'
                            value: 0.005
                      - expr: '%4$s'
                        eval_time: 5m
                        exp_samples:
                          - labels: '{model="digits",alarm="overfitting"}'
                            value: 0
                      - expr: '%5$s'
                        eval_time: 5m
                        exp_samples:
                          - labels: '{}'
                            value: 2
                """.formatted(trainer, replica, yamlQuoted(scale), yamlQuoted(alarms), yamlQuoted(alerts));
        Files.writeString(work.resolve("empty-rules.yaml"), "groups: []\n");
        Files.writeString(work.resolve("panels.test.yaml"), tests);

        var result = PrometheusBinaries.promtool(work, "test", "rules", "panels.test.yaml");

        assertThat(result.exitCode()).as("promtool test rules on the panels' queries:\n%s\n%s", result.output(), tests)
                .isZero();
    }

    @Test
    void grafanaVariablesAreFilledInLikeGrafanaDoes() {
        assertThat(DashboardQueries.substitute(
                "rate(x{model=~\"$model\",i=~\"${instance}\"}[$__rate_interval]) [[model]] $__range", ANY))
                .isEqualTo("rate(x{model=~\".*\",i=~\".*\"}[1m]) .* 1h");
        assertThat(DashboardQueries.promql("label_values(streamtrain_steps_total{model=~\"$model\"}, instance)"))
                .isEqualTo("count by (instance) (streamtrain_steps_total{model=~\"$model\"})");
    }

    /** The one panel query that reads the metric, its variables filled in as for two chosen models. */
    private static String panelQuery(String metric) {
        List<String> found = new ArrayList<>();
        for (var query : DashboardQueries.queries(dashboard)) {
            if (PromqlExpressions.metricNames(query.expr()).contains(metric)) {
                found.add(DashboardQueries.substitute(query.expr(), TWO_MODELS));
            }
        }
        assertThat(found).as("panel queries reading %s", metric).hasSize(1);
        return found.get(0);
    }

    private static String yamlQuoted(String text) {
        return text.replace("'", "''");
    }

    private static void check(List<String> problems, String source, String what, boolean ok) {
        if (!ok) {
            problems.add(source + " " + what);
        }
    }
}
