package dev.streamtrain.serving;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import dev.streamtrain.model.ModelSnapshot;
import dev.streamtrain.model.spec.ModelSpec;
import dev.streamtrain.model.spec.ModelSpecParser;
import dev.streamtrain.model.Network;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.awaitility.Awaitility.await;

/** Micro-batching: requests that wait for a running forward pass are answered by the next one, together. */
class BatchingPredictorTest {

    private final ModelSpec spec = ModelSpecParser.load(null);
    private final Network network = new Network(spec);

    private float[] rows(int rows, int seed) {
        float[] x = new float[rows * spec.inputs()];
        for (int i = 0; i < x.length; i++) {
            x[i] = (i * 31 + seed * 7) % 17;
        }
        return x;
    }

    @Test
    void requestsThatQueueBehindABusyPassAreAnsweredByOneBatch() throws Exception {
        List<Integer> passes = new CopyOnWriteArrayList<>();
        BatchingPredictor predictor = new BatchingPredictor(256, passes::add);
        ModelSnapshot snapshot = network.snapshot(1);
        ExecutorService threads = Executors.newFixedThreadPool(8);
        List<Future<float[]>> answers = new ArrayList<>();
        predictor.lock.lock(); // as if a forward pass were running
        try {
            for (int r = 0; r < 8; r++) {
                int seed = r;
                answers.add(threads.submit(() -> predictor.predict(snapshot, rows(1 + seed % 3, seed), 1 + seed % 3)));
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> predictor.queued() == 8);
        } finally {
            predictor.lock.unlock();
        }
        for (int r = 0; r < 8; r++) {
            float[] alone = snapshot.predict(rows(1 + r % 3, r), 1 + r % 3);
            float[] batched = answers.get(r).get();
            assertThat(batched).hasSameSizeAs(alone);
            for (int i = 0; i < alone.length; i++) {
                assertThat(batched[i]).as("request %d, value %d", r, i).isCloseTo(alone[i], within(1e-5f));
            }
        }
        int rows = 0;
        for (int r = 0; r < 8; r++) {
            rows += 1 + r % 3;
        }
        assertThat(passes).as("rows per forward pass").containsExactly(rows);
        threads.shutdown();
    }

    @Test
    void aBatchNeverMixesSnapshotsOrExceedsItsRows() throws Exception {
        List<Integer> passes = new CopyOnWriteArrayList<>();
        BatchingPredictor predictor = new BatchingPredictor(4, passes::add);
        ModelSnapshot first = network.snapshot(1);
        ModelSnapshot second = network.snapshot(2);
        ExecutorService threads = Executors.newFixedThreadPool(6);
        List<Future<float[]>> answers = new ArrayList<>();
        predictor.lock.lock();
        try {
            // queued in this order: 3 rows of the first snapshot, 1 of the second, then 2 + 2 + 1 + 1 of the first
            int[] sizes = {3, 1, 2, 2, 1, 1};
            for (int r = 0; r < sizes.length; r++) {
                ModelSnapshot s = r == 1 ? second : first;
                int size = sizes[r];
                int queuedBefore = r;
                answers.add(threads.submit(() -> predictor.predict(s, rows(size, 0), size)));
                await().atMost(Duration.ofSeconds(10)).until(() -> predictor.queued() == queuedBefore + 1);
            }
        } finally {
            predictor.lock.unlock();
        }
        for (Future<float[]> answer : answers) {
            answer.get();
        }
        // [3] alone (the next is another snapshot), [1] of the second, [2 + 2] (a third would exceed 4), [1 + 1]
        assertThat(passes).containsExactly(3, 1, 4, 2);
        threads.shutdown();
    }

    @Test
    void aFailedPassFailsItsRequestsAndTheNextOnesAreAnswered() throws Exception {
        List<Integer> passes = new CopyOnWriteArrayList<>();
        BatchingPredictor predictor = new BatchingPredictor(256, passes::add);
        ModelSnapshot snapshot = network.snapshot(1);
        // 10 values are not a row of 64 features: ND4J refuses the pass
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> predictor.predict(snapshot, new float[10], 1))
                .isInstanceOf(RuntimeException.class);
        assertThat(predictor.queued()).isZero();
        assertThat(predictor.predict(snapshot, rows(2, 1), 2)).hasSize(2 * spec.outputs());
        assertThat(passes).containsExactly(2);
    }
}
