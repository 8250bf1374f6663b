package dev.streamtrain.ops;

import com.fasterxml.jackson.databind.JsonNode;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.streamtrain.support.ServiceProcess;
import inference.GRPCInferenceServiceGrpc;
import inference.GrpcPredictV2.InferTensorContents;
import inference.GrpcPredictV2.ModelInferRequest;

/**
 * The alert rules and the dashboard against real data: the packaged service trains on the demo stream (embedded
 * broker, bad records included) and answers REST and gRPC inference requests all along, while a real Prometheus
 * scrapes it every 2 s and evaluates {@code monitoring/prometheus/streamtrain-rules.yaml} every second. After
 * some 30 s of training:
 * <ul>
 *   <li>every rule is evaluated by Prometheus without error (health "ok"), against the service's real series;</li>
 *   <li>every alert expression returns data in its signal form. A healthy alert expression returns nothing, which
 *       would prove nothing, so each comparison is turned into its {@code bool} form ({@code a > 5} into
 *       {@code a > bool 5}, see {@link PromqlExpressions#signal}): the result has a 0/1 sample for every series
 *       the alert judges, and is empty only when a metric name, a label or a join is wrong;</li>
 *   <li>every dashboard query (panels and variables, {@code $model} = digits, {@code $instance} = the service)
 *       returns data, but for the training group's row ({@link GroupDashboardIT}: this service trains alone);</li>
 *   <li>every streamtrain metric the service exports is in docs/metrics.md;</li>
 *   <li>the alerts the demo must not raise (target down, no progress, checkpoints failing or stale, serving
 *       stale, no model served, non-finite steps, collapsed learning rate) judge it healthy: their signals stayed
 *       0 over the last 30 s and none fires. Target down is judged on the share of successful scrapes instead
 *       ({@code up} averaged over 30 s at least 0.5): one scrape that times out while the service trains on a
 *       shared machine is no fault, and the alert itself wants 5 minutes of failures; a target that is down
 *       still fails the check.
 *       Rejected records (the demo's bad records, on purpose), overfitting (the demo repeats the digits) and the
 *       lag and latency alerts (a shared 2-core machine) are not asserted.</li>
 * </ul>
 */
class PrometheusIT {

    private static final String MODEL = "digits";
    private static final Set<String> HEALTHY = Set.of("StreamtrainTargetDown", "StreamtrainNoTrainingProgress",
            "StreamtrainCheckpointFailing", "StreamtrainCheckpointStale", "StreamtrainServingStale",
            "StreamtrainNonFiniteLoss", "StreamtrainNonFiniteLossRepeated", "StreamtrainLearningRateCollapsed",
            "StreamtrainNoModelServed");
    /** The target-down alert's expression, whose healthy check is the scrapes' success share (see the class comment). */
    private static final Pattern TARGET_DOWN = Pattern.compile("(up\\{[^}]*}) == 0");
    private static final Duration DATA_DEADLINE = Duration.ofSeconds(90);
    /** The name of a streamtrain sample in the Prometheus text format. */
    private static final Pattern EXPORTED_SAMPLE = Pattern.compile("(?m)^(streamtrain_[a-z0-9_]+)[{ ]");

    private static ServiceProcess service;
    private static PrometheusServer prometheus;
    private static ManagedChannel channel;
    private static ScheduledExecutorService traffic;
    private static String instance;
    private static Instant dataSince;

    @BeforeAll
    static void start() throws Exception {
        PrometheusBinaries.prometheus();
        Path work = fresh(Path.of("target", "prometheus-it"));
        Map<String, String> properties = new HashMap<>();
        properties.put("streamtrain.demo.enabled", "true");
        // 100 passes at 300 examples/s: training goes on for the whole test, and leaves CPU to Prometheus
        properties.put("streamtrain.demo.passes", "100");
        properties.put("streamtrain.demo.rate", "300");
        properties.put("streamtrain.checkpoint.interval", "2s");
        properties.put("streamtrain.checkpoint.root", "file:" + work.resolve("checkpoints").toAbsolutePath());
        properties.put("streamtrain.admin.token", "it-token");
        service = ServiceProcess.start("prometheus-it", properties, Map.of());
        int port = service.uri("/").getPort();
        instance = "127.0.0.1:" + port;
        prometheus = PrometheusServer.start(work, instance, List.of(PrometheusRuleFile.RULES));
        channel = ManagedChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
        traffic = Executors.newSingleThreadScheduledExecutor();
        traffic.scheduleWithFixedDelay(PrometheusIT::infer, 0, 250, TimeUnit.MILLISECONDS);
        // ~30 s of training in Prometheus
        long scrapes = Duration.ofSeconds(30).dividedBy(PrometheusServer.SCRAPE_INTERVAL);
        await().atMost(DATA_DEADLINE).pollInterval(Duration.ofSeconds(1)).until(() ->
                !prometheus.query("count_over_time(streamtrain_steps_total{model=\"" + MODEL + "\"}[1m]) >= " + scrapes
                        + " and increase(streamtrain_steps_total{model=\"" + MODEL + "\"}[30s]) > 0").isEmpty());
        dataSince = Instant.now();
    }

    @AfterAll
    static void stop() throws InterruptedException {
        if (traffic != null) {
            traffic.shutdownNow();
            traffic.awaitTermination(10, TimeUnit.SECONDS);
        }
        if (channel != null) {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
        if (prometheus != null) {
            prometheus.close();
        }
        if (service != null) {
            service.close();
        }
    }

    @Test
    void prometheusEvaluatesEveryRuleWithoutError() throws Exception {
        int expected = PrometheusRuleFile.read(PrometheusRuleFile.RULES).size();
        List<String> problems = new ArrayList<>();
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(500)).until(() -> {
            problems.clear();
            int rules = 0;
            for (JsonNode group : prometheus.ruleGroups()) {
                for (JsonNode rule : group.path("rules")) {
                    rules++;
                    Instant evaluated = Instant.parse(rule.path("lastEvaluation").asText("1970-01-01T00:00:00Z"));
                    if (!"ok".equals(rule.path("health").asText()) || evaluated.isBefore(dataSince)) {
                        problems.add(rule.path("name").asText() + ": health " + rule.path("health").asText()
                                + ", evaluated " + evaluated + " " + rule.path("lastError").asText(""));
                    }
                }
            }
            if (rules != expected) {
                problems.add("Prometheus has " + rules + " rules, the file " + expected);
            }
            return problems.isEmpty();
        });
        assertThat(problems).isEmpty();
    }

    @Test
    void everyAlertExpressionReturnsDataInItsSignalForm() throws Exception {
        Map<String, String> signals = new LinkedHashMap<>();
        for (var alert : PrometheusRuleFile.alerts(PrometheusRuleFile.RULES)) {
            signals.put(alert.alert(), PromqlExpressions.signal(alert.expr()));
        }
        assertEveryQueryReturnsData(signals);
    }

    @Test
    void everyDashboardQueryReturnsData() throws Exception {
        Map<String, String> values = Map.of("model", MODEL, "instance", instance, "datasource", "prometheus");
        Map<String, String> queries = new LinkedHashMap<>();
        JsonNode dashboard = DashboardQueries.read();
        // this service trains alone: the group row's meters exist only in a group (GroupDashboardIT queries them)
        Set<String> group = new HashSet<>();
        DashboardQueries.rowQueries(dashboard, DashboardQueries.GROUP_ROW).forEach(q -> group.add(q.id()));
        assertThat(group).as("the %s row's queries", DashboardQueries.GROUP_ROW).isNotEmpty();
        for (var query : DashboardQueries.queries(dashboard)) {
            if (!group.contains(query.id())) {
                queries.put(query.source(), DashboardQueries.substitute(query.expr(), values));
            }
        }
        assertEveryQueryReturnsData(queries);
    }

    @Test
    void theDemoIsHealthyForTheAlertsItMustNotRaise() throws Exception {
        List<String> problems = new ArrayList<>();
        for (var alert : PrometheusRuleFile.alerts(PrometheusRuleFile.RULES)) {
            if (!HEALTHY.contains(alert.alert())) {
                continue;
            }
            // the signal's highest value over the last 30 s: 0 means healthy at every evaluation
            String signal = "max_over_time((" + PromqlExpressions.signal(alert.expr()) + ")[30s:1s])";
            if (alert.alert().equals("StreamtrainTargetDown")) {
                Matcher up = TARGET_DOWN.matcher(alert.expr());
                assertThat(up.matches()).as("StreamtrainTargetDown is still up{...} == 0: %s", alert.expr()).isTrue();
                // 1 when fewer than half of the last 30 s of scrapes succeeded
                signal = "avg_over_time(" + up.group(1) + "[30s]) < bool 0.5";
            }
            JsonNode samples = prometheus.query(signal);
            if (samples.isEmpty()) {
                problems.add(alert.alert() + " judges nothing: " + signal);
            }
            for (JsonNode sample : samples) {
                if (sample.path("value").path(1).asDouble() != 0) {
                    problems.add(alert.alert() + " judged " + sample.path("metric") + " unhealthy in the last 30 s");
                }
            }
        }
        for (JsonNode firing : prometheus.query("ALERTS{alertstate=\"firing\"}")) {
            if (HEALTHY.contains(firing.path("metric").path("alertname").asText())) {
                problems.add("firing: " + firing.path("metric"));
            }
        }
        assertThat(problems).isEmpty();
    }

    @Test
    void everyStreamtrainMetricTheServiceExportsIsDocumented() throws Exception {
        Set<String> documented = PrometheusMetricNames.documented();
        Set<String> exported = new TreeSet<>();
        Matcher sample = EXPORTED_SAMPLE.matcher(service.get("/q/metrics"));
        while (sample.find()) {
            exported.add(sample.group(1));
        }
        assertThat(exported).as("streamtrain metrics on /q/metrics").contains("streamtrain_steps_total",
                "streamtrain_inference_seconds_count");
        assertThat(exported.stream().filter(name -> !PrometheusMetricNames.isKnown(name, documented)).toList())
                .as("metrics the service exports that docs/metrics.md does not list").isEmpty();
    }

    /**
     * Waits until every query returns at least one sample; fails naming those that still return none, or that
     * Prometheus refuses or cannot evaluate (with its error).
     */
    private static void assertEveryQueryReturnsData(Map<String, String> queries) {
        Map<String, String> failing = new LinkedHashMap<>();
        queries.forEach((source, query) -> failing.put(source, "no data: " + query));
        try {
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofSeconds(1)).until(() -> {
                for (String source : List.copyOf(failing.keySet())) {
                    String query = queries.get(source);
                    try {
                        if (!prometheus.query(query).isEmpty()) {
                            failing.remove(source);
                        }
                    } catch (IOException e) {
                        failing.put(source, e.getMessage());
                    }
                }
                return failing.isEmpty();
            });
        } catch (ConditionTimeoutException e) {
            // the assertion below names them
        }
        assertThat(failing).as("queries that return no data from Prometheus (its log: %s, the service's: "
                + "target/it-logs/prometheus-it.log)", prometheus.log()).isEmpty();
    }

    private static void infer() {
        float[] features = new float[64];
        for (int i = 0; i < features.length; i++) {
            features[i] = i % 17;
        }
        StringBuilder json = new StringBuilder("{\"inputs\":[{\"name\":\"input\",\"shape\":[1,64],\"datatype\":\"FP32\",\"data\":[");
        for (int i = 0; i < features.length; i++) {
            json.append(i == 0 ? "" : ",").append(features[i]);
        }
        json.append("]}]}");
        try {
            service.post("/v2/models/" + MODEL + "/infer", json.toString(), null);
            var contents = InferTensorContents.newBuilder();
            for (float feature : features) {
                contents.addFp32Contents(feature);
            }
            GRPCInferenceServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
                    .modelInfer(ModelInferRequest.newBuilder().setModelName(MODEL).addInputs(
                            ModelInferRequest.InferInputTensor.newBuilder().setName("input").setDatatype("FP32")
                                    .addShape(1).addShape(64).setContents(contents)).build());
        } catch (IOException | RuntimeException e) {
            // a request that fails is counted by the service too; the queries show what matters
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static Path fresh(Path directory) throws IOException {
        if (Files.exists(directory)) {
            try (Stream<Path> paths = Files.walk(directory)) {
                for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                    Files.delete(path);
                }
            }
        }
        return Files.createDirectories(directory);
    }
}
