package dev.streamtrain.ops;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The alert rules of {@code monitoring/prometheus/streamtrain-rules.yaml} with the real promtool: the file checks
 * ({@code promtool check rules}), its unit tests pass ({@code promtool test rules}, synthetic series that make each
 * alert fire and keep it quiet on healthy ones), every alert carries what an operator needs, every concern of the
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
    private static final String RUNBOOK = "README.md#alert-";
    private static final Pattern RULE_COUNT = Pattern.compile("SUCCESS: (\\d+) rules found");
    private static final Pattern ANCHOR = Pattern.compile("<a id=\"(alert-[a-z0-9-]+)\"></a>");

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
            check(problems, name, "has runbook_url " + RUNBOOK + name.toLowerCase(Locale.ROOT),
                    (RUNBOOK + name.toLowerCase(Locale.ROOT)).equals(alert.annotations().get("runbook_url")));
            check(problems, name, "keeps the model label (or is about a target)", alert.expr().contains("model")
                    || alert.expr().startsWith("up{"));
        }
        assertThat(problems).isEmpty();
    }

    @Test
    void everyRunbookUrlNamesAnAnchorOfTheReadmeWhoseEntryShowsTheExpression() throws IOException {
        String readme = Files.readString(Path.of("README.md"));
        Set<String> anchors = new TreeSet<>();
        Matcher anchor = ANCHOR.matcher(readme);
        while (anchor.find()) {
            anchors.add(anchor.group(1));
        }
        Set<String> linked = new TreeSet<>();
        List<String> problems = new ArrayList<>();
        for (var alert : PrometheusRuleFile.alerts(PrometheusRuleFile.RULES)) {
            String url = alert.annotations().getOrDefault("runbook_url", "");
            if (!url.startsWith("README.md#")) {
                problems.add(alert.alert() + ": runbook_url " + url + " does not point into README.md");
                continue;
            }
            String id = url.substring("README.md#".length());
            linked.add(id);
            if (!anchors.contains(id)) {
                problems.add(alert.alert() + ": README.md has no <a id=\"" + id + "\"></a>");
                continue;
            }
            // the anchor stands right before the alert's own heading, and the alerts table links to it
            int at = readme.indexOf("<a id=\"" + id + "\"></a>");
            if (!readme.startsWith("\n#### " + alert.alert() + "\n", readme.indexOf('\n', at))) {
                problems.add(alert.alert() + ": the anchor " + id + " is not followed by the heading #### "
                        + alert.alert());
            }
            int block = readme.indexOf("```promql\n", at);
            int end = block < 0 ? -1 : readme.indexOf("\n```", block);
            if (end < 0 || !readme.substring(block + "```promql\n".length(), end).strip().equals(alert.expr())) {
                problems.add(alert.alert() + ": the README's entry does not show the rule's expression as it is");
            }
            if (!readme.contains("| [" + alert.alert() + "](#" + id + ") |")) {
                problems.add(alert.alert() + ": the README's alerts table has no row linking to #" + id);
            }
        }
        assertThat(problems).isEmpty();
        assertThat(anchors).as("alert anchors in README.md without an alert").isEqualTo(linked);
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
                        .as("%s reads %s, which the README's Metrics section does not list", alert.alert(), metric)
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
