package dev.streamtrain.training;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.restassured.path.json.JsonPath;
import jakarta.inject.Inject;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.streamtrain.demo.DigitsDataset;
import dev.streamtrain.ingest.RejectReason;
import dev.streamtrain.support.KafkaBrokerResource;
import dev.streamtrain.support.Records;

/**
 * The whole path with a real broker: digits produced to the examples topic are trained test-then-train,
 * their offsets committed only once trained, the metrics exported, and the served model answers like the
 * trained one.
 */
@QuarkusTest
@QuarkusTestResource(value = KafkaBrokerResource.class, restrictToAnnotatedClass = true)
class KafkaTrainingTest {

    private static final String GROUP = "streamtrain";

    @Inject
    TrainerService service;

    @Inject
    ExampleBatcher batcher;

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrapServers;

    @Test
    void trainsOnePassOfDigitsFromTheBrokerThenServesAndExportsIt() {
        DigitsDataset data = DigitsDataset.load();
        List<String[]> records = new ArrayList<>();
        for (int row : data.shuffledOrder(0)) {
            records.add(new String[] {"digit-" + row, data.toJson(row)});
        }
        try (Records kafka = new Records(bootstrapServers)) {
            kafka.sendAll(KafkaBrokerResource.EXAMPLES, records);
            await().atMost(Duration.ofSeconds(120)).untilAsserted(() -> {
                assertThat(batcher.queued()).isLessThanOrEqualTo(batcher.capacity());
                assertThat(service.trainer().stats().examples()).isEqualTo(data.size());
            });
            // the committed offset is the next record to read: every trained record, none beyond
            await().atMost(Duration.ofSeconds(30)).until(() -> kafka.committed(GROUP, KafkaBrokerResource.EXAMPLES) == data.size());
        }
        var stats = service.trainer().stats();
        assertThat(service.trainer().position().next()).containsEntry(KafkaBrokerResource.EXAMPLES + "-0", (long) data.size());
        // chance is 0.10; one shuffled pass reaches about 0.88 (mini-batches cut by linger vary it a little)
        assertThat(stats.accuracy()).isGreaterThan(0.8);

        long step = service.trainer().step();
        // a generous bound: on a loaded machine publishing the last step's snapshot can take seconds
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() ->
                given().get("/v2/models/digits").then().statusCode(200).extract().jsonPath()
                        .getList("versions").contains(Long.toString(step)));
        assertServedModelAgreesWithTraining(data, stats.accuracy(), step);
        assertMetricsExported(data.size(), step);
    }

    private void assertServedModelAgreesWithTraining(DigitsDataset data, double prequentialAccuracy, long step) {
        StringBuilder values = new StringBuilder();
        int rows = 300;
        for (int i = 0; i < rows; i++) {
            for (float v : data.features()[i]) {
                values.append(values.length() == 0 ? "" : ",").append(v);
            }
        }
        JsonPath response = given().contentType(ContentType.JSON)
                .body("{\"id\":\"r1\",\"inputs\":[{\"name\":\"input\",\"shape\":[" + rows
                        + ",64],\"datatype\":\"FP32\",\"data\":[" + values + "]}]}")
                .post("/v2/models/digits/infer")
                .then().statusCode(200).extract().jsonPath();
        assertThat(response.getString("model_version")).isEqualTo(Long.toString(step));
        assertThat(response.getString("id")).isEqualTo("r1");
        List<Float> p = response.getList("outputs[0].data", Float.class);
        assertThat(p).hasSize(rows * 10);
        int correct = 0;
        for (int i = 0; i < rows; i++) {
            int best = 0;
            double sum = 0;
            for (int k = 0; k < 10; k++) {
                sum += p.get(i * 10 + k);
                best = p.get(i * 10 + k) > p.get(i * 10 + best) ? k : best;
            }
            assertThat(sum).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-4));
            correct += best == data.labels()[i] ? 1 : 0;
        }
        // after the pass the model knows these digits at least as well as it predicted them while learning
        assertThat((double) correct / rows).isGreaterThanOrEqualTo(prequentialAccuracy - 0.02);
    }

    private void assertMetricsExported(int examples, long step) {
        // every record trained: the model is nowhere behind its topic, on every partition it reads
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            List<String> lags = given().get("/q/metrics").then().statusCode(200).extract().asString().lines()
                    .filter(l -> l.startsWith("streamtrain_model_lag_records{")).toList();
            assertThat(lags).isNotEmpty().allMatch(l -> l.contains("model=\"digits\"") && l.endsWith(" 0.0"))
                    .anyMatch(l -> l.contains("partition=\"" + KafkaBrokerResource.EXAMPLES + "-0\""));
        });
        String metrics = given().get("/q/metrics").then().statusCode(200).extract().asString();
        assertThat(metrics)
                .contains("streamtrain_examples_trained_total{model=\"digits\"} " + examples + ".0")
                .contains("streamtrain_steps_total{model=\"digits\"} " + step + ".0")
                .contains("streamtrain_step_seconds_count{model=\"digits\"} " + step)
                .contains("streamtrain_prequential_accuracy{model=\"digits\",window=\"cumulative\"}")
                .contains("streamtrain_prequential_loss{model=\"digits\",window=\"recent\"}")
                .contains("streamtrain_train_loss{model=\"digits\"}")
                .contains("streamtrain_learning_rate{model=\"digits\"} 0.01")
                .contains("streamtrain_offheap_bytes{model=\"digits\"}")
                // the bundled spec is one the lean engine covers: it trains there, not on DL4J
                .contains("streamtrain_engine{engine=\"lean\",model=\"digits\"} 1.0")
                .contains("streamtrain_engine{engine=\"dl4j\",model=\"digits\"} 0.0")
                .contains("streamtrain_model_staleness_seconds{model=\"digits\"}")
                .contains("kafka_consumer_fetch_manager_records_consumed_total");
        // counters that alert rules take increase() of exist before their first event (no record was rejected here)
        for (RejectReason reason : RejectReason.values()) {
            assertThat(metrics).contains("streamtrain_records_rejected_total{model=\"digits\",reason=\""
                    + reason.code() + "\"} 0.0");
        }
        for (String type : TrainingEvents.TYPES) {
            assertThat(metrics).contains("streamtrain_health_events_total{model=\"digits\",type=\"" + type + "\"}");
        }
        assertThat(metrics).contains("streamtrain_health_events_total{model=\"digits\",type=\"rolled-back\"} 0.0");
    }
}
