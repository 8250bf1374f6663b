package dev.streamtrain.ops;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The alert rules of {@code monitoring/prometheus/streamtrain-rules.yaml} with the real promtool: the file checks
 * ({@code promtool check rules}), its unit tests pass ({@code promtool test rules}, synthetic series that make each
 * alert fire and keep it quiet on healthy ones), every alert carries what an operator needs and has a runbook
 * (docs/runbooks/&lt;AlertName&gt;.md) that shows its expression and says what to do, every concern of the
 * operations issue has an alert, and every alert has a valid signal form (see {@link PromqlExpressions}) for
 * PrometheusIT to evaluate against the running service.
 */
class PrometheusRulesTest {

    /** The concerns the alerts must cover, and the alerts that cover each. */
    private static final Map<String, List<String>> TOPICS = new LinkedHashMap<>();

    static {
        TOPICS.put("no training progress", List.of("StreamtrainNoTrainingProgress"));
        TOPICS.put("consumer lag growing", List.of("StreamtrainConsumerLagGrowing"));
        TOPICS.put("non-finite loss / rollbacks", List.of("StreamtrainNonFiniteLoss", "StreamtrainNonFiniteLossRepeated"));
        TOPICS.put("exploding gradients", List.of("StreamtrainExplodingGradients", "StreamtrainLearningRateCollapsed"));
        TOPICS.put("vanishing gradients", List.of("StreamtrainVanishingGradients"));
        TOPICS.put("drift", List.of("StreamtrainDriftDetected"));
        TOPICS.put("overfitting", List.of("StreamtrainOverfitting"));
        TOPICS.put("checkpoint failures", List.of("StreamtrainCheckpointFailing"));
        TOPICS.put("checkpoint staleness", List.of("StreamtrainCheckpointStale"));
        TOPICS.put("rejected-record rate", List.of("StreamtrainRecordsRejected"));
        TOPICS.put("serving staleness", List.of("StreamtrainServingStale"));
        TOPICS.put("no model to serve", List.of("StreamtrainNoModelServed"));
        TOPICS.put("high inference latency", List.of("StreamtrainInferenceLatencyHigh"));
        TOPICS.put("target down", List.of("StreamtrainTargetDown"));
    }

    private static final Set<String> GROUPS = Set.of("streamtrain.training", "streamtrain.ingest", "streamtrain.health",
            "streamtrain.checkpoints", "streamtrain.serving");
    /** Where the runbooks are, and what runbook_url says: their path in the repository (the chart can prefix it). */
    static final Path RUNBOOKS = Path.of("docs/runbooks");
    private static final Path ALERTS_PAGE = Path.of("docs/monitoring.md");
    private static final Pattern RULE_COUNT = Pattern.compile("SUCCESS: (\\d+) rules found");

    @TempDir
    Path work;

    @Test
    void promtoolChecksTheRuleFile() throws Exception {
        var result = PrometheusBinaries.promtool(Path.of("."), "check", "rules", PrometheusRuleFile.RULES.toString());

        assertThat(result.exitCode()).as("promtool check rules:\n%s", result.output()).isZero();
        Matcher count = RULE_COUNT.matcher(result.output());
        assertThat(count.find()).as(result.output()).isTrue();
        assertThat(Integer.parseInt(count.group(1))).as("rules promtool found")
                .isEqualTo(PrometheusRuleFile.read(PrometheusRuleFile.RULES).size())
                .isGreaterThanOrEqualTo(TOPICS.values().stream().mapToInt(List::size).sum());
    }

    @Test
    void promtoolUnitTestsOfTheAlertsPass() throws Exception {
        // run where the test file is: its rule_files are relative to it
        var result = PrometheusBinaries.promtool(PrometheusRuleFile.RULE_TESTS.getParent(), "test", "rules",
                PrometheusRuleFile.RULE_TESTS.getFileName().toString());

        assertThat(result.exitCode()).as("promtool test rules:\n%s", result.output()).isZero();
        assertThat(result.output()).contains("SUCCESS");
    }

    @Test
    void everyAlertIsUnitTestedFiringAndQuiet() throws IOException {
        var cases = PrometheusRuleFile.testCases(PrometheusRuleFile.RULE_TESTS);
        for (var alert : PrometheusRuleFile.alerts(PrometheusRuleFile.RULES)) {
            assertThat(cases).as("promtool cases of %s (a firing one and a quiet one)", alert.alert())
                    .contains(Map.entry(alert.alert(), true), Map.entry(alert.alert(), false));
        }
    }

    @Test
    void everyAlertSaysWhatHappenedHowBadAndWhereTheRunbookIs() throws IOException {
        List<String> problems = new ArrayList<>();
        for (var alert : PrometheusRuleFile.alerts(PrometheusRuleFile.RULES)) {
            String name = alert.alert();
            check(problems, name, "is in a group by concern", GROUPS.contains(alert.group()));
            check(problems, name, "has a for:", alert.forDuration() != null);
            check(problems, name, "has severity warning or critical",
                    Set.of("warning", "critical").contains(alert.labels().get("severity")));
            check(problems, name, "has a summary", !alert.annotations().getOrDefault("summary", "").isBlank());
            String description = alert.annotations().getOrDefault("description", "");
            check(problems, name, "has a description naming the model or the target",
                    description.contains("{{ $labels.model }}") || description.contains("{{ $labels.instance }}"));
            check(problems, name, "has runbook_url " + runbookUrl(name),
                    runbookUrl(name).equals(alert.annotations().get("runbook_url")));
            check(problems, name, "keeps the model label (or is about a target)", alert.expr().contains("model")
                    || alert.expr().startsWith("up{"));
        }
        assertThat(problems).isEmpty();
    }

    @Test
    void everyAlertHasARunbookThatShowsTheExpressionAndSaysWhatToDo() throws IOException {
        String alertsPage = Files.readString(ALERTS_PAGE);
        Set<String> alerts = new TreeSet<>();
        List<String> problems = new ArrayList<>();
        for (var alert : PrometheusRuleFile.alerts(PrometheusRuleFile.RULES)) {
            String name = alert.alert();
            alerts.add(name);
            Path file = RUNBOOKS.resolve(name + ".md");
            if (!Files.isRegularFile(file)) {
                problems.add(name + ": no runbook " + file);
                continue;
            }
            String runbook = Files.readString(file);
            if (!runbook.startsWith("# " + name + "\n")) {
                problems.add(name + ": " + file + " does not start with the heading # " + name);
            }
            int block = runbook.indexOf("```promql\n");
            int end = block < 0 ? -1 : runbook.indexOf("\n```", block);
            if (end < 0 || !runbook.substring(block + "```promql\n".length(), end).strip().equals(alert.expr())) {
                problems.add(name + ": " + file + " does not show the rule's expression as it is");
            }
            int todo = runbook.indexOf("\n## What to do\n");
            if (todo < 0 || runbook.substring(todo + "\n## What to do\n".length()).isBlank()) {
                problems.add(name + ": " + file + " has no '## What to do' section with text under it");
            }
            if (!alertsPage.contains("| [" + name + "](runbooks/" + name + ".md) |")) {
                problems.add(name + ": the alerts table of " + ALERTS_PAGE + " has no row linking to its runbook");
            }
        }
        assertThat(problems).isEmpty();
        Set<String> runbooks = new TreeSet<>();
        try (var files = Files.list(RUNBOOKS)) {
            files.map(f -> f.getFileName().toString()).filter(f -> f.endsWith(".md"))
                    .forEach(f -> runbooks.add(f.substring(0, f.length() - ".md".length())));
        }
        assertThat(runbooks).as("runbooks in %s (one per alert, no more)", RUNBOOKS).isEqualTo(alerts);
    }

    /** The runbook_url of an alert in the rule file: the runbook's path in the repository. */
    static String runbookUrl(String alert) {
        return RUNBOOKS.resolve(alert + ".md").toString().replace('\\', '/');
    }

    @Test
    void everyConcernOfTheIssueHasAnAlertAndEveryAlertAConcern() throws IOException {
        Set<String> alerts = new TreeSet<>();
        PrometheusRuleFile.alerts(PrometheusRuleFile.RULES).forEach(alert -> alerts.add(alert.alert()));
        Set<String> mapped = new TreeSet<>();
        TOPICS.forEach((topic, names) -> {
            assertThat(alerts).as("alerts for '%s'", topic).containsAll(names);
            mapped.addAll(names);
        });
        assertThat(mapped).as("alerts mapped to a concern in this test").containsAll(alerts);
    }

    @Test
    void everyAlertHasAValidSignalFormAndReadsOnlyDocumentedMetrics() throws Exception {
        Map<String, String> signals = new LinkedHashMap<>();
        Set<String> documented = PrometheusMetricNames.documented();
        for (var alert : PrometheusRuleFile.alerts(PrometheusRuleFile.RULES)) {
            assertThat(alert.expr()).as("%s: the signal rewrite needs no unless/absent", alert.alert())
                    .doesNotContain("unless").doesNotContain("absent");
            String signal = PromqlExpressions.signal(alert.expr());
            assertThat(signal).as("%s has a comparison to rewrite", alert.alert()).contains(" bool ");
            signals.put("signal:" + alert.alert(), signal);
            for (String metric : PromqlExpressions.metricNames(alert.expr())) {
                assertThat(PrometheusMetricNames.isKnown(metric, documented))
                        .as("%s reads %s, which docs/metrics.md does not list", alert.alert(), metric)
                        .isTrue();
            }
        }
        Path file = work.resolve("signals.yaml");
        PrometheusRuleFile.writeRecordingRules(file, "signals", signals);

        var result = PrometheusBinaries.promtool(work, "check", "rules", file.toString());

        assertThat(result.exitCode()).as("promtool check rules on the signal forms:\n%s\n%s", result.output(),
                Files.readString(file)).isZero();
    }

    @Test
    void theSignalFormRewritesComparisonsOnly() {
        assertThat(PromqlExpressions.signal("sum by (model) (rate(x{a!=\"b\",c=~\"d>e\"}[5m])) > 0.01"))
                .isEqualTo("sum by (model) (rate(x{a!=\"b\",c=~\"d>e\"}[5m])) > bool 0.01");
        assertThat(PromqlExpressions.signal("a == 0 and on (i) b >= bool 1 or c != 2"))
                .isEqualTo("a == bool 0 and on (i) b >= bool 1 or c != bool 2");
        assertThat(PromqlExpressions.metricNames("time() - max by (a, b) (x_seconds{m=~\"$m\"}) > 900 and y_total"))
                .containsExactly("x_seconds", "y_total");
    }

    private static void check(List<String> problems, String alert, String what, boolean ok) {
        if (!ok) {
            problems.add(alert + " " + what);
        }
    }
}
