package dev.streamtrain.serving;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import dev.streamtrain.model.spec.ModelSpec;
import dev.streamtrain.model.spec.ModelSpecParser;
import dev.streamtrain.model.Network;
import dev.streamtrain.support.FactorySnapshotProfile;
import dev.streamtrain.support.KafkaBrokerResource;
import dev.streamtrain.training.ServedModel;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Hot swap under load, over HTTP: while snapshots of two different networks are published hundreds of times
 * (odd versions one network, even versions the other), concurrent infer requests, some micro-batched together,
 * all succeed and each answer is exactly what the snapshot its model_version names would answer: never a mix of
 * the two, never a missing model.
 */
@QuarkusTest
@TestProfile(FactorySnapshotProfile.class)
@QuarkusTestResource(value = KafkaBrokerResource.class, restrictToAnnotatedClass = true)
class HotSwapTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    // far above any step the idle trainer of this test reaches, so its own snapshots are told apart
    private static final long BASE = 1_000_000;
    private static final int PUBLISHES = 400;
    private static final int CLIENTS = 4;

    @Inject
    ServedModel served;

    @Inject
    ModelSpec spec;

    @TestHTTPResource("/v2/models/digits/infer")
    URI infer;

    @Test
    void requestsDuringPublishingSeeOneWholeSnapshot() throws Exception {
        ModelSpec other = ModelSpecParser.parse(ModelSpecParser.text(null).replaceFirst("seed:\\s*\\d+", "seed: 99"));
        assertThat(other.seed()).isNotEqualTo(spec.seed());
        Network odd = new Network(spec);
        Network even = new Network(other);
        float[] probe = new float[3 * spec.inputs()];
        for (int i = 0; i < probe.length; i++) {
            probe[i] = (i * 7) % 17;
        }
        float[] oddAnswer = odd.snapshot(0).predict(probe, 3);
        float[] evenAnswer = even.snapshot(0).predict(probe, 3);
        assertThat(maxDifference(oddAnswer, evenAnswer)).as("the two networks answer differently").isGreaterThan(1e-3);

        StringBuilder data = new StringBuilder();
        for (int i = 0; i < probe.length; i++) {
            data.append(i == 0 ? "" : ",").append(probe[i]);
        }
        String body = "{\"inputs\":[{\"name\":\"input\",\"shape\":[3," + spec.inputs()
                + "],\"datatype\":\"FP32\",\"data\":[" + data + "]}]}";
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        HttpRequest request = HttpRequest.newBuilder(infer).header("Content-Type", "application/json")
                .timeout(Duration.ofSeconds(10)).POST(HttpRequest.BodyPublishers.ofString(body)).build();

        served.publish(odd.snapshot(BASE + 1));
        AtomicBoolean publishing = new AtomicBoolean(true);
        AtomicInteger checked = new AtomicInteger();
        Map<Long, Boolean> versionsSeen = new ConcurrentHashMap<>();
        List<String> failures = java.util.Collections.synchronizedList(new ArrayList<>());
        ExecutorService clients = Executors.newFixedThreadPool(CLIENTS);
        List<Future<?>> running = new ArrayList<>();
        for (int c = 0; c < CLIENTS; c++) {
            running.add(clients.submit(() -> {
                while (publishing.get()) {
                    HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
                    if (response.statusCode() != 200) {
                        failures.add("status " + response.statusCode() + ": " + response.body());
                        continue;
                    }
                    JsonNode answer = JSON.readTree(response.body());
                    long version = answer.path("model_version").asLong();
                    if (version <= BASE) {
                        continue; // the trainer's own snapshot, published before ours
                    }
                    float[] expected = version % 2 == 1 ? oddAnswer : evenAnswer;
                    JsonNode values = answer.path("outputs").get(0).path("data");
                    float[] got = new float[values.size()];
                    for (int i = 0; i < got.length; i++) {
                        got[i] = values.get(i).floatValue();
                    }
                    // a forward pass of a micro-batch may sum in another order than one of 3 rows: 1e-5, while
                    // the two networks differ by more than 1e-3
                    if (got.length != expected.length || maxDifference(got, expected) > 1e-5) {
                        failures.add("version " + version + " answered neither as its own snapshot would");
                    }
                    versionsSeen.put(version, true);
                    checked.incrementAndGet();
                }
                return null;
            }));
        }
        // at least PUBLISHES swaps, and on until enough answers are checked (a slow machine answers fewer)
        long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
        for (int i = 2; (i <= PUBLISHES || checked.get() < 300) && System.nanoTime() < deadline; i++) {
            served.publish((i % 2 == 1 ? odd : even).snapshot(BASE + i));
            Thread.sleep(2);
        }
        Thread.sleep(50);
        publishing.set(false);
        for (Future<?> client : running) {
            client.get();
        }
        clients.shutdown();

        assertThat(failures).isEmpty();
        assertThat(checked.get()).as("answers checked").isGreaterThanOrEqualTo(300);
        assertThat(versionsSeen.keySet()).as("versions that answered").hasSizeGreaterThan(20)
                .anyMatch(v -> v % 2 == 0).anyMatch(v -> v % 2 == 1);
    }

    private static double maxDifference(float[] a, float[] b) {
        double max = 0;
        for (int i = 0; i < a.length; i++) {
            max = Math.max(max, Math.abs(a[i] - b[i]));
        }
        return max;
    }
}
