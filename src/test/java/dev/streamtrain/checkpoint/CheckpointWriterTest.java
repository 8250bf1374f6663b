package dev.streamtrain.checkpoint;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import dev.streamtrain.model.spec.ModelSpecParser;
import dev.streamtrain.model.Network;
import dev.streamtrain.support.DigitsStream;
import dev.streamtrain.training.ExampleBatcher;
import dev.streamtrain.training.OnlineTrainer;
import dev.streamtrain.training.ServedModel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The checkpoint writer against a store that goes down: failures are reported and retried with backoff, the
 * caller never waits, a newer snapshot replaces a waiting one, and nothing half-written ever counts.
 */
class CheckpointWriterTest {

    private static final String SPEC = """
            name: writer
            inputs: 64
            task: classification
            outputs: 10
            layers: [{dense: {units: 16}}]
            batch-size: 16
            """;

    @TempDir
    Path root;

    private final List<Long> saved = new CopyOnWriteArrayList<>();
    private final List<Long> failed = new CopyOnWriteArrayList<>();

    @Test
    void duringAnOutageTheNewestSnapshotIsWrittenOnceTheStoreIsBack() throws Exception {
        OutageStore store = new OutageStore(new FileCheckpointStore(root));
        Checkpoints checkpoints = new Checkpoints(store);
        OnlineTrainer trainer = trainer();
        store.down.set(true);
        try (CheckpointWriter writer = new CheckpointWriter(checkpoints, SPEC, Duration.ofMillis(20),
                Duration.ofMillis(80), outcome())) {
            trainer.trainOnce(0);
            CompletableFuture<Long> first = writer.offer(trainer.snapshot());
            await().atMost(Duration.ofSeconds(10)).until(() -> failed.size() >= 3);
            assertThat(first).isNotDone();
            trainer.trainOnce(0);
            trainer.trainOnce(0);
            CompletableFuture<Long> second = writer.offer(trainer.snapshot());
            // the writer has moved on to the newer snapshot before the store comes back
            await().atMost(Duration.ofSeconds(10)).until(() -> failed.contains(3L));

            store.down.set(false);

            assertThat(second.get(10, TimeUnit.SECONDS)).isEqualTo(3L);
            // whoever waited for step 1 is served by step 3, which holds all of it
            assertThat(first.get(1, TimeUnit.SECONDS)).isEqualTo(3L);
            assertThat(saved).containsExactly(3L);
            assertThat(failed).allMatch(step -> step == 1L || step == 3L);
            assertThat(checkpoints.steps("writer")).containsExactly(3L);
        }
    }

    @Test
    void aWriteCutShortBeforeItsManifestLeavesNoCheckpoint() throws Exception {
        OutageStore store = new OutageStore(new FileCheckpointStore(root));
        store.failManifests.set(true);
        Checkpoints checkpoints = new Checkpoints(store);
        OnlineTrainer trainer = trainer();
        try (CheckpointWriter writer = new CheckpointWriter(checkpoints, SPEC, Duration.ofMillis(20),
                Duration.ofMillis(20), outcome())) {
            trainer.trainOnce(0);
            writer.offer(trainer.snapshot());
            await().atMost(Duration.ofSeconds(10)).until(() -> !failed.isEmpty());
        }
        Checkpoints reader = new Checkpoints(new FileCheckpointStore(root));
        assertThat(store.list("writer/000000000001/")).isNotEmpty().noneMatch(k -> k.endsWith(Manifest.FILE_NAME));
        assertThat(reader.newestValid("writer", (step, reason) -> { })).isEmpty();
    }

    private static OnlineTrainer trainer() throws InterruptedException {
        ExampleBatcher batcher = new ExampleBatcher(1 << 12);
        var data = dev.streamtrain.demo.DigitsDataset.load();
        for (int row = 0; row < 64; row++) {
            batcher.submit(DigitsStream.example(data, row));
        }
        return new OnlineTrainer(new Network(ModelSpecParser.parse(SPEC)), OnlineTrainer.freshState(), batcher,
                new ServedModel(), List.of(), new OnlineTrainer.Settings(Duration.ZERO, 1000, Duration.ofHours(1),
                100, 0, Duration.ofHours(1)), null);
    }

    private CheckpointWriter.Outcome outcome() {
        return new CheckpointWriter.Outcome() {
            @Override
            public void saved(Manifest manifest, long bytes, long nanos) {
                saved.add(manifest.step());
            }

            @Override
            public void failed(long step, Exception error, int attempt, Duration retryIn) {
                assertThat(error).isInstanceOf(IOException.class).hasMessageContaining("store is down");
                failed.add(step);
            }
        };
    }

    /** The file store behind a switch: while down, every call fails as an unreachable server's would. */
    private static final class OutageStore implements CheckpointStore {

        final AtomicBoolean down = new AtomicBoolean();
        final AtomicBoolean failManifests = new AtomicBoolean();
        private final CheckpointStore store;

        OutageStore(CheckpointStore store) {
            this.store = store;
        }

        private void check(String key) throws IOException {
            if (down.get() || (failManifests.get() && key.endsWith(Manifest.FILE_NAME))) {
                throw new IOException("the store is down");
            }
        }

        @Override
        public void put(String key, byte[] data) throws IOException {
            check(key);
            store.put(key, data);
        }

        @Override
        public Optional<byte[]> get(String key) throws IOException {
            check(key);
            return store.get(key);
        }

        @Override
        public List<String> list(String prefix) throws IOException {
            check(prefix);
            return store.list(prefix);
        }

        @Override
        public void delete(String key) throws IOException {
            check(key);
            store.delete(key);
        }

        @Override
        public String describe() {
            return "outage:" + store.describe();
        }
    }
}
