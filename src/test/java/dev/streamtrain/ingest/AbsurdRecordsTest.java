package dev.streamtrain.ingest;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import dev.streamtrain.model.ModelSnapshot;
import dev.streamtrain.model.spec.ModelSpec;
import dev.streamtrain.model.spec.ModelSpecParser;
import dev.streamtrain.model.Network;
import dev.streamtrain.support.KafkaBrokerResource;
import dev.streamtrain.support.Records;
import dev.streamtrain.support.TabularDataset;
import dev.streamtrain.support.TestRecord;
import dev.streamtrain.training.ExampleBatcher;
import dev.streamtrain.training.OnlineTrainer;
import dev.streamtrain.training.RecordGuard;
import dev.streamtrain.training.ServedModel;
import dev.streamtrain.training.TrainerService;
import dev.streamtrain.training.health.HealthSettings;
import dev.streamtrain.training.health.TrainingHealth;
import dev.streamtrain.training.TrainingEvents;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Absurd records mixed into a good stream, through the real broker (issue 13): six seeded passes of the wine data
 * with, after the first pass, 20 records whose features are all 1e30, 3 with a weight of 1e30 and, after the
 * warm-up, 5 whose one feature is 1e9 (finite, under the absolute bound, but some 1e9 learned standard deviations
 * out). Every one of them is dead-lettered {@code out-of-range} with a cause naming its bound, no good record is,
 * and the served model is within a few points of a clean run's. The clean run and a run with every bound off are
 * measured on the same records with the trainer in memory (the same decoder, batcher and trainer, no broker).
 */
@QuarkusTest
@TestProfile(AbsurdRecordsTest.Profile.class)
@QuarkusTestResource(value = KafkaBrokerResource.class, restrictToAnnotatedClass = true)
class AbsurdRecordsTest {

    private static final Logger LOG = Logger.getLogger(AbsurdRecordsTest.class);
    private static final String SPEC = "src/test/resources/specs/wine-adam.yaml";
    private static final TabularDataset WINE = TabularDataset.load("wine");
    private static final int PASSES = 6;

    public static class Profile implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("streamtrain.model.spec", SPEC);
        }
    }

    @Inject
    TrainerService service;

    @Inject
    ServedModel served;

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrapServers;

    @Test
    void absurdRecordsAreDeadLetteredOutOfRangeAndTheServedModelStaysAsGoodAsACleanRun() throws Exception {
        Stream stream = stream();
        try (Records kafka = new Records(bootstrapServers)) {
            kafka.sendAll(KafkaBrokerResource.EXAMPLES, stream.all);
            // the trainer's ledger counts the records that reached it: all but those refused at decode time
            long reachingTrainer = stream.all.size() - stream.bad.values().stream()
                    .filter(bound -> !bound.equals("max-deviations")).count();
            await().atMost(Duration.ofSeconds(180)).until(() -> service.trainer().recordsByPartition().values()
                    .stream().mapToLong(Long::longValue).sum() == reachingTrainer);
            long trained = service.trainer().step();
            await().atMost(Duration.ofSeconds(30)).until(() -> served.current().map(ModelSnapshot::step)
                    .orElse(-1L) >= trained);
            long total = stream.all.size();
            await().atMost(Duration.ofSeconds(30)).until(() -> kafka.committed("streamtrain",
                    KafkaBrokerResource.EXAMPLES) == total);
        }
        double withAbsurd = accuracy(served.current().orElseThrow());
        List<ConsumerRecord<byte[], byte[]>> dead = Records.readUntil(bootstrapServers, KafkaBrokerResource.DLQ,
                read -> read.size() >= stream.bad.size());
        Run cleanRun = inMemory(stream.good, ValueBounds.DEFAULTS);
        Run boundsOff = inMemory(stream.all, ValueBounds.NONE);
        double clean = cleanRun.accuracy();
        LOG.infof("wine, %d good records and %d absurd ones: served accuracy %.3f with the bounds (%d dead-lettered);"
                        + " clean run %.3f; bounds off %.3f (%d publishes withheld in %d steps)",
                stream.good.size(), stream.bad.size(), withAbsurd, dead.size(), clean, boundsOff.accuracy(),
                boundsOff.withheld(), boundsOff.steps());

        Map<String, String[]> letters = new HashMap<>();
        dead.forEach(r -> letters.put(Records.text(r.key()), new String[] {
                Records.text(r.headers().lastHeader("dead-letter-reason").value()),
                Records.text(r.headers().lastHeader("dead-letter-cause").value())}));
        assertThat(letters).as("only the absurd records, each once").hasSize(dead.size())
                .containsOnlyKeys(stream.bad.keySet());
        stream.bad.forEach((key, bound) -> {
            assertThat(letters.get(key)[0]).as(key).isEqualTo("out-of-range");
            assertThat(letters.get(key)[1]).as(key).contains("streamtrain.ingest.range." + bound);
        });
        assertThat(clean).isGreaterThan(0.9);
        assertThat(withAbsurd).isGreaterThanOrEqualTo(clean - 0.05);
        // the records are harmful: without the bounds they wreck the model (measured 0.399)
        assertThat(boundsOff.accuracy()).isLessThan(clean - 0.2);
        String metrics = given().get("/q/metrics").then().extract().asString();
        assertThat(metrics).contains("streamtrain_records_rejected_total{model=\"wine\",reason=\"out-of-range\"} "
                + stream.bad.size() + ".0");
        assertThat(metrics).contains("streamtrain_examples_trained_total{model=\"wine\"} " + stream.good.size() + ".0");
    }

    /** The records: good ones in seeded passes, and the absurd ones keyed by the bound that refuses them. */
    private record Stream(List<String[]> all, List<String[]> good, Map<String, String> bad) {
    }

    private static Stream stream() {
        Random random = new Random(42);
        List<String[]> all = new ArrayList<>();
        List<String[]> good = new ArrayList<>();
        Map<String, String> bad = new HashMap<>();
        for (int pass = 0; pass < PASSES; pass++) {
            // after the first pass: 4 all-1e30 records a pass (20), a weight of 1e30 in passes 1-3, and, once the
            // normaliser is warm (over 500 examples), 1e9 on one feature: 3 in pass 4, 2 in pass 5
            List<String> kinds = new ArrayList<>();
            if (pass > 0) {
                kinds.addAll(List.of("max-abs-feature", "max-abs-feature", "max-abs-feature", "max-abs-feature"));
            }
            if (pass >= 1 && pass <= 3) {
                kinds.add("max-weight");
            }
            for (int i = 0; i < (pass == 4 ? 3 : pass == 5 ? 2 : 0); i++) {
                kinds.add("max-deviations");
            }
            List<String[]> passRecords = new ArrayList<>();
            for (int row : WINE.shuffledOrder(pass)) {
                String[] record = {"wine-" + pass + "-" + row, WINE.toJson(row)};
                passRecords.add(record);
                good.add(record);
            }
            for (String kind : kinds) {
                passRecords.add(random.nextInt(passRecords.size() + 1), bad(bad, kind, random));
            }
            all.addAll(passRecords);
        }
        return new Stream(all, good, bad);
    }

    private static String[] bad(Map<String, String> bad, String bound, Random random) {
        String key = bound + "-" + bad.size();
        bad.put(key, bound);
        int label = random.nextInt(WINE.classes());
        float[] x = WINE.features()[random.nextInt(WINE.size())].clone();
        String json = switch (bound) {
            case "max-abs-feature" -> "{\"features\":[" + "1e30,".repeat(WINE.inputs() - 1) + "1e30],\"label\":"
                    + label + "}";
            case "max-weight" -> json(x, label).replace("}", ",\"weight\":1e30}");
            default -> {
                // malic acid (std ~1.1) or proline (std ~315)
                x[random.nextBoolean() ? 1 : WINE.inputs() - 1] = 1e9f;
                yield json(x, label);
            }
        };
        return new String[] {key, json};
    }

    private static String json(float[] x, int label) {
        StringBuilder json = new StringBuilder("{\"features\":[");
        for (int j = 0; j < x.length; j++) {
            json.append(j == 0 ? "" : ",").append(x[j]);
        }
        return json.append("],\"label\":").append(label).append('}').toString();
    }

    /** A run in memory: the served model's accuracy (NaN: nothing was ever served), publishes withheld, steps. */
    private record Run(double accuracy, long withheld, long steps) {
    }

    /**
     * The same records trained in memory with the given absolute bounds and no relative one (those refused at decode
     * time skipped), publishing every 5 steps as the service would by time.
     */
    private static Run inMemory(List<String[]> records, ValueBounds bounds) throws InterruptedException {
        ModelSpec spec = ModelSpecParser.load(SPEC);
        ExampleDecoder decoder = new ExampleDecoder(spec, 1 << 16, 4096, bounds);
        ExampleBatcher batcher = new ExampleBatcher(1 << 20);
        ServedModel model = new ServedModel();
        OnlineTrainer trainer = new OnlineTrainer(new Network(spec), OnlineTrainer.freshState(), batcher, model,
                List.of(), new OnlineTrainer.Settings(Duration.ZERO, 5, Duration.ofHours(1), 1000, 0,
                        Duration.ofHours(1)), null, new TrainingHealth(HealthSettings.defaults(), TrainingEvents.NONE),
                RecordGuard.OFF);
        for (int i = 0; i < records.size(); i++) {
            try {
                batcher.submit(decoder.decode(Records.bytes(records.get(i)[1]), new TestRecord(i)));
            } catch (RejectedRecordException e) {
                // dead-lettered at decode time: never reaches the trainer
            }
        }
        while (trainer.trainOnce(0)) {
            // one mini-batch per call until the buffer is empty
        }
        double served = model.current().map(AbsurdRecordsTest::accuracy).orElse(Double.NaN);
        return new Run(served, trainer.withheldSnapshots(), trainer.step());
    }

    private static double accuracy(ModelSnapshot snapshot) {
        int n = WINE.size();
        int classes = WINE.classes();
        float[] x = new float[n * WINE.inputs()];
        for (int i = 0; i < n; i++) {
            System.arraycopy(WINE.features()[i], 0, x, i * WINE.inputs(), WINE.inputs());
        }
        float[] p = snapshot.predict(x, n);
        int right = 0;
        for (int i = 0; i < n; i++) {
            int best = 0;
            for (int k = 1; k < classes; k++) {
                best = p[i * classes + k] > p[i * classes + best] ? k : best;
            }
            right += best == WINE.labels()[i] ? 1 : 0;
        }
        return right / (double) n;
    }
}
