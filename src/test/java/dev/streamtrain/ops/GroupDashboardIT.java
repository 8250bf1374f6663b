package dev.streamtrain.ops;

import com.fasterxml.jackson.databind.JsonNode;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import dev.streamtrain.support.ServiceProcess;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The dashboard's "Training group" row against a real group member: the packaged service trains the demo stream
 * with {@code streamtrain.cluster.enabled} (a group of one on the embedded broker: it joins, rounds and writes
 * the group's checkpoints), a real Prometheus scrapes it every 2 s, and every query of the row returns data, with
 * the values a group of one must show (one member, one trainer reporting, one checkpoint writer, complete rounds).
 * {@link PrometheusIT} covers the rest of the dashboard with a trainer that trains alone.
 */
class GroupDashboardIT {

    private static final String MODEL = "digits";
    private static ServiceProcess service;
    private static PrometheusServer prometheus;
    private static Map<String, String> values;

    @BeforeAll
    static void start() throws Exception {
        PrometheusBinaries.prometheus();
        Path work = fresh(Path.of("target", "group-dashboard-it"));
        Map<String, String> properties = new HashMap<>();
        properties.put("streamtrain.demo.enabled", "true");
        properties.put("streamtrain.demo.passes", "100");
        properties.put("streamtrain.demo.rate", "300");
        properties.put("streamtrain.checkpoint.interval", "2s");
        properties.put("streamtrain.checkpoint.root", "file:" + work.resolve("checkpoints").toAbsolutePath());
        properties.put("streamtrain.admin.token", "it-token");
        properties.put("streamtrain.cluster.enabled", "true");
        properties.put("streamtrain.cluster.rest-round", "300ms");
        properties.put("mp.messaging.incoming.examples.session.timeout.ms", "6000");
        properties.put("streamtrain.cluster.round-timeout", "20s");
        service = ServiceProcess.start("group-dashboard-it", properties, Map.of());
        String instance = "127.0.0.1:" + service.uri("/").getPort();
        values = Map.of("model", MODEL, "instance", instance, "datasource", "prometheus");
        prometheus = PrometheusServer.start(work, instance, List.of());
        // rounds completed over at least 10 s of scrapes: rates over the row's intervals have two samples
        await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofSeconds(1)).until(() ->
                !prometheus.query("count_over_time(streamtrain_sync_rounds_total{model=\"" + MODEL + "\",outcome="
                        + "\"complete\"}[1m]) >= 5 and increase(streamtrain_sync_rounds_total{model=\"" + MODEL
                        + "\",outcome=\"complete\"}[20s]) > 0").isEmpty());
    }

    @AfterAll
    static void stop() {
        if (prometheus != null) {
            prometheus.close();
        }
        if (service != null) {
            service.close();
        }
    }

    @Test
    void everyQueryOfTheTrainingGroupRowReturnsData() throws Exception {
        Map<String, String> failing = new LinkedHashMap<>();
        Map<String, String> queries = new LinkedHashMap<>();
        for (var query : DashboardQueries.rowQueries(DashboardQueries.read(), DashboardQueries.GROUP_ROW)) {
            queries.put(query.source(), DashboardQueries.substitute(query.expr(), values));
        }
        assertThat(queries).as("the %s row's queries", DashboardQueries.GROUP_ROW).hasSizeGreaterThanOrEqualTo(5);
        queries.forEach((source, query) -> failing.put(source, "no data: " + query));
        try {
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofSeconds(1)).until(() -> {
                for (String source : List.copyOf(failing.keySet())) {
                    try {
                        if (!prometheus.query(queries.get(source)).isEmpty()) {
                            failing.remove(source);
                        }
                    } catch (IOException e) {
                        failing.put(source, e.getMessage());
                    }
                }
                return failing.isEmpty();
            });
        } catch (ConditionTimeoutException e) {
            // the assertion names them
        }
        assertThat(failing).as("queries that return no data (the service's log: target/it-logs/group-dashboard-it.log,"
                + " Prometheus's: %s)", prometheus.log()).isEmpty();
    }

    @Test
    void aGroupOfOneShowsOneMemberOneWriterAndCompleteRounds() throws Exception {
        assertThat(panelValue("Group members", "A")).as("members").isEqualTo(1);
        assertThat(panelValue("Group members", "B")).as("trainers reporting").isEqualTo(1);
        assertThat(panelValue("Group members", "C")).as("checkpoint writers").isEqualTo(1);
        assertThat(panelValue("Group generation by member", "A")).as("generation").isGreaterThanOrEqualTo(1);
        JsonNode rounds = prometheus.query(DashboardQueries.substitute(
                panelQuery("Averaging rounds per second by outcome", "A"), values));
        Map<String, Double> byOutcome = new HashMap<>();
        rounds.forEach(s -> byOutcome.put(s.path("metric").path("outcome").asText(), s.path("value").path(1).asDouble()));
        assertThat(byOutcome).containsOnlyKeys("complete", "abandoned", "timed-out");
        assertThat(byOutcome.get("complete")).as("complete rounds per second").isPositive();
        assertThat(byOutcome.get("timed-out")).as("a group of one never waits for another member").isZero();
    }

    private static double panelValue(String title, String refId) throws Exception {
        JsonNode samples = prometheus.query(DashboardQueries.substitute(panelQuery(title, refId), values));
        assertThat(samples).as("%s target %s", title, refId).hasSize(1);
        return samples.get(0).path("value").path(1).asDouble();
    }

    private static String panelQuery(String title, String refId) throws IOException {
        return DashboardQueries.rowQueries(DashboardQueries.read(), DashboardQueries.GROUP_ROW).stream()
                .filter(q -> q.source().contains("\"" + title + "\" target " + refId))
                .findFirst().orElseThrow(() -> new AssertionError("no panel \"" + title + "\" target " + refId))
                .expr();
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
