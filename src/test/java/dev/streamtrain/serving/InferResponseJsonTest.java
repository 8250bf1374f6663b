package dev.streamtrain.serving;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.streamtrain.serving.V2Messages.InferResponse;
import dev.streamtrain.serving.V2Messages.ResponseOutput;

class InferResponseJsonTest {

    private static final ObjectMapper MAPPER = new ObjectMapper();

    @Test
    void writesWhatTheRecordSerialisedTo() throws Exception {
        Random random = new Random(7);
        float[] data = new float[3 * 10];
        for (int i = 0; i < data.length; i++) {
            data[i] = (float) (random.nextGaussian() * Math.pow(10, random.nextInt(12) - 6));
        }
        data[4] = Float.NaN;
        data[5] = Float.POSITIVE_INFINITY;
        data[6] = Float.NEGATIVE_INFINITY;
        data[7] = 0f;
        data[8] = -0f;
        data[9] = Float.MIN_VALUE;
        data[10] = Float.MAX_VALUE;
        for (String id : new String[] {null, "req-1", "quote \" backslash \\ newline \n é 𝄞"}) {
            byte[] ours = new InferResponseJson().write("digits", "step-00000042", id, 3, 10, data);
            byte[] record = MAPPER.writeValueAsBytes(new InferResponse("digits", "step-00000042", id,
                    List.of(new ResponseOutput(Inference.OUTPUT, new long[] {3, 10}, "FP32", data))));
            JsonNode a = MAPPER.readTree(ours);
            JsonNode b = MAPPER.readTree(record);
            // the same fields in the same order, every float the same float32 (digits may differ: shortest form)
            assertThat(fieldNames(a)).isEqualTo(fieldNames(b));
            JsonNode headerA = ((com.fasterxml.jackson.databind.node.ObjectNode) a.deepCopy()).without("outputs");
            JsonNode headerB = ((com.fasterxml.jackson.databind.node.ObjectNode) b.deepCopy()).without("outputs");
            assertThat(headerA).isEqualTo(headerB);
            JsonNode outA = a.get("outputs").get(0);
            JsonNode outB = b.get("outputs").get(0);
            assertThat(fieldNames(outA)).isEqualTo(fieldNames(outB));
            assertThat(outA.get("shape")).isEqualTo(outB.get("shape"));
            assertThat(outA.get("name")).isEqualTo(outB.get("name"));
            assertThat(outA.get("datatype")).isEqualTo(outB.get("datatype"));
            assertThat(floats(outA.get("data"))).containsExactly(floats(outB.get("data")));
            assertThat(floats(outA.get("data"))).containsExactly(data);
        }
    }

    @Test
    void anAnswerIsNotOverwrittenByTheNextOneOnTheSameThread() throws Exception {
        InferResponseJson json = new InferResponseJson();
        byte[] first = json.write("m", "v1", "first", 1, 3, new float[] {1, 2, 3});
        byte[] copy = first.clone();
        byte[] second = json.write("m", "v2", "second", 2, 3, new float[] {4, 5, 6, 7, 8, 9});
        assertThat(first).isEqualTo(copy);
        assertThat(MAPPER.readTree(first).get("id").asText()).isEqualTo("first");
        assertThat(floats(MAPPER.readTree(second).get("outputs").get(0).get("data")))
                .containsExactly(4, 5, 6, 7, 8, 9);
    }

    /** Threads that answer at once through one writer each get exactly their own answer, every time. */
    @Test
    void concurrentAnswersDoNotShareState() throws Exception {
        InferResponseJson json = new InferResponseJson();
        int threads = 8;
        int answers = 3_000;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        CountDownLatch start = new CountDownLatch(1);
        try {
            List<Future<Integer>> results = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int thread = t;
                results.add(pool.submit((Callable<Integer>) () -> {
                    start.await();
                    Random random = new Random(thread);
                    int checked = 0;
                    for (int i = 0; i < answers; i++) {
                        // sizes vary so that a shared buffer would be grown and reset under another thread
                        int rows = 1 + random.nextInt(i % 50 == 0 ? 200 : 3);
                        float[] data = new float[rows * 10];
                        for (int k = 0; k < data.length; k++) {
                            data[k] = thread * 1_000_000 + i + k / 1000f;
                        }
                        String id = thread + "/" + i;
                        JsonNode answer = MAPPER.readTree(json.write("digits", "v" + thread, id, rows, 10, data));
                        assertThat(answer.get("id").asText()).isEqualTo(id);
                        assertThat(answer.get("model_version").asText()).isEqualTo("v" + thread);
                        assertThat(answer.get("outputs").get(0).get("shape").get(0).asInt()).isEqualTo(rows);
                        assertThat(floats(answer.get("outputs").get(0).get("data"))).containsExactly(data);
                        checked++;
                    }
                    return checked;
                }));
            }
            start.countDown();
            for (Future<Integer> result : results) {
                assertThat(result.get(5, TimeUnit.MINUTES)).isEqualTo(answers);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aSmallAnswerAfterAHugeOneIsExact() {
        InferResponseJson json = new InferResponseJson();
        float[] huge = new float[20_000];
        assertThat(json.write("m", "v", null, 2_000, 10, huge).length).isGreaterThan(InferResponseJson.RETAINED_BYTES);
        assertThat(new String(json.write("m", "v", null, 1, 2, new float[] {1.5f, -2f}),
                java.nio.charset.StandardCharsets.UTF_8))
                .isEqualTo("{\"model_name\":\"m\",\"model_version\":\"v\",\"outputs\":[{\"name\":\"output\","
                        + "\"shape\":[1,2],\"datatype\":\"FP32\",\"data\":[1.5,-2.0]}]}");
    }

    private static List<String> fieldNames(JsonNode node) {
        List<String> names = new ArrayList<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }

    private static float[] floats(JsonNode array) {
        float[] out = new float[array.size()];
        for (int i = 0; i < out.length; i++) {
            JsonNode v = array.get(i);
            out[i] = v.isTextual() ? Float.parseFloat(v.asText()) : (float) v.doubleValue();
        }
        return out;
    }
}
