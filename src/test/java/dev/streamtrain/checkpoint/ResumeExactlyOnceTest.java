package dev.streamtrain.checkpoint;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import dev.streamtrain.model.spec.ModelSpec;
import dev.streamtrain.model.spec.ModelSpecParser;
import dev.streamtrain.model.Network;
import dev.streamtrain.training.ExampleBatcher;
import dev.streamtrain.training.ExampleBlock;
import dev.streamtrain.training.OnlineTrainer;
import dev.streamtrain.support.TestRecord;
import dev.streamtrain.training.SavedTraining;
import dev.streamtrain.training.ServedModel;
import dev.streamtrain.training.StreamPosition;
import dev.streamtrain.training.TrainerState;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The exactly-once guarantee, without Kafka: a run interrupted after any step, restored from the checkpoint
 * it wrote and fed the whole stream again (as a consumer that seeks back too far would), ends with exactly
 * the model of an uninterrupted run, and has trained every record of every partition once.
 */
class ResumeExactlyOnceTest {

    private static final String SPEC = """
            name: resume
            inputs: 5
            task: classification
            outputs: 3
            layers: [{dense: {units: 12}}]
            optimizer: {type: adam, learning-rate: 0.01}
            batch-size: 8
            seed: 7
            """;
    // 3 examples a record, 8 a batch: most checkpoints fall in the middle of a record
    private static final int ROWS_PER_RECORD = 3;
    private static final int RECORDS_PER_PARTITION = 40;
    private static final String[] PARTITIONS = {"examples-0", "examples-1"};

    @TempDir
    Path root;

    @ParameterizedTest
    @ValueSource(ints = {1, 7, 11, 16, 29})
    void aRunRestoredAfterAnyStepEndsWithTheModelOfAnUninterruptedOne(int crashAfterSteps) throws Exception {
        ModelSpec spec = ModelSpecParser.parse(SPEC);
        List<ExampleBlock> stream = stream();

        OnlineTrainer uninterrupted = trainer(new Network(spec), OnlineTrainer.freshState(), stream);
        drain(uninterrupted);
        float[] expected = networkOf(uninterrupted);

        Checkpoints checkpoints = new Checkpoints(new FileCheckpointStore(root));
        try (CheckpointWriter writer = new CheckpointWriter(checkpoints, SPEC, Duration.ofMillis(10),
                Duration.ofMillis(10), noOutcome())) {
            ExampleBatcher batcher = new ExampleBatcher(1 << 16);
            OnlineTrainer first = new OnlineTrainer(new Network(spec), OnlineTrainer.freshState(), batcher,
                    new ServedModel(), List.of(), settings(), null);
            for (ExampleBlock block : stream) {
                batcher.submit(block);
            }
            for (int i = 0; i < crashAfterSteps; i++) {
                assertThat(first.trainOnce(0)).isTrue();
            }
            long saved = writer.offer(first.snapshot()).get(30, TimeUnit.SECONDS);
            assertThat(saved).isEqualTo(crashAfterSteps);
        }

        // the process died; a new one restores the checkpoint and reads the partitions from their beginnings
        SavedTraining restored = CheckpointCodec.decode(checkpoints.load("resume", crashAfterSteps), spec);
        StreamPosition position = restored.state().position();
        List<ExampleBlock> redelivered = new ArrayList<>();
        for (ExampleBlock block : stream) {
            ExampleBlock untrained = position.untrained(block);
            if (untrained != null) {
                redelivered.add(untrained);
            }
        }
        OnlineTrainer resumed = trainer(restored.network(), restored.state(), redelivered);
        drain(resumed);

        assertThat(resumed.step()).isEqualTo(uninterrupted.step());
        assertThat(networkOf(resumed)).containsExactly(expected);
        assertThat(resumed.recordsByPartition())
                .containsExactlyInAnyOrderEntriesOf(Map.of(PARTITIONS[0], (long) RECORDS_PER_PARTITION,
                        PARTITIONS[1], (long) RECORDS_PER_PARTITION));
        assertThat(resumed.stats().examples()).isEqualTo(uninterrupted.stats().examples());
        assertThat(resumed.position().next()).isEqualTo(uninterrupted.position().next());
    }

    /**
     * Records longer than a batch, and two crashes in a row: the record cut by the first checkpoint is still
     * partly trained at the second, either waiting behind the other partition's records (its saved rows
     * must be carried over) or cut again (its rows must count from the record's start, not the tail's).
     */
    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void twoCrashesInARowTrainEveryExampleOnce(boolean cutRecordLast) throws Exception {
        ModelSpec spec = ModelSpecParser.parse(SPEC);
        List<ExampleBlock> stream = longRecords();
        OnlineTrainer first = trainer(new Network(spec), OnlineTrainer.freshState(), stream);
        first.trainOnce(0);
        first.trainOnce(0);
        first.trainOnce(0);
        TrainerState afterFirst = roundTrip(first, spec).state();
        // 24 rows: record 0 of partition 0 whole, 4 of the 20 rows of record 0 of partition 1
        assertThat(afterFirst.position().partials()).containsExactly(
                Map.entry(PARTITIONS[1], new StreamPosition.Partial(PARTITIONS[1], 0, 4)));

        SavedTraining restored = roundTrip(first, spec);
        OnlineTrainer second = trainer(restored.network(), restored.state(),
                redeliver(stream, restored.state().position(), cutRecordLast));
        second.trainOnce(0);
        SavedTraining again = roundTrip(second, spec);
        StreamPosition.Partial cut = again.state().position().partials().get(PARTITIONS[1]);
        assertThat(cut).isEqualTo(new StreamPosition.Partial(PARTITIONS[1], 0, cutRecordLast ? 4 : 12));

        OnlineTrainer third = trainer(again.network(), again.state(),
                redeliver(stream, again.state().position(), cutRecordLast));
        drain(third);
        assertThat(third.stats().examples()).isEqualTo(2L * 10 * 20);
        assertThat(third.recordsByPartition()).containsExactlyInAnyOrderEntriesOf(
                Map.of(PARTITIONS[0], 10L, PARTITIONS[1], 10L));
        assertThat(third.step()).isEqualTo(2L * 10 * 20 / 8);
    }

    private SavedTraining roundTrip(OnlineTrainer trainer, ModelSpec spec) throws Exception {
        Checkpoints checkpoints = new Checkpoints(new FileCheckpointStore(root));
        try (CheckpointWriter writer = new CheckpointWriter(checkpoints, SPEC, Duration.ofMillis(10),
                Duration.ofMillis(10), noOutcome())) {
            long step = writer.offer(trainer.snapshot()).get(30, TimeUnit.SECONDS);
            return CheckpointCodec.decode(checkpoints.load("resume", step), spec);
        }
    }

    /** The whole stream again, as a consumer seeking too far back would deliver it, partition by partition. */
    private static List<ExampleBlock> redeliver(List<ExampleBlock> stream, StreamPosition position,
                                                boolean partitionOneLast) {
        List<ExampleBlock> blocks = new ArrayList<>();
        for (String partition : partitionOneLast ? PARTITIONS : new String[] {PARTITIONS[1], PARTITIONS[0]}) {
            for (ExampleBlock block : stream) {
                ExampleBlock untrained = block.source().partition().equals(partition) ? position.untrained(block) : null;
                if (untrained != null) {
                    blocks.add(untrained);
                }
            }
        }
        return blocks;
    }

    /** 10 records of 20 rows a partition, 8 rows a batch, partitions alternating. */
    private static List<ExampleBlock> longRecords() {
        Random random = new Random(5);
        List<ExampleBlock> blocks = new ArrayList<>();
        for (int offset = 0; offset < 10; offset++) {
            for (String partition : PARTITIONS) {
                float[] x = new float[20 * 5];
                float[] y = new float[20 * 3];
                for (int row = 0; row < 20; row++) {
                    y[row * 3 + random.nextInt(3)] = 1f;
                    for (int f = 0; f < 5; f++) {
                        x[row * 5 + f] = (float) random.nextGaussian();
                    }
                }
                blocks.add(new ExampleBlock(20, x, y, null, new TestRecord(partition, offset)));
            }
        }
        return blocks;
    }

    @Test
    void theSavedPositionNamesThePartlyTrainedRecord() throws Exception {
        ModelSpec spec = ModelSpecParser.parse(SPEC);
        OnlineTrainer trainer = trainer(new Network(spec), OnlineTrainer.freshState(), stream());
        trainer.trainOnce(0);
        TrainerState state = trainer.snapshot().trainer();
        // 8 examples: records 0 and 1 of partition 0 whole, then 2 of the 3 rows of record 0 of partition 1
        assertThat(state.position().next()).containsExactlyInAnyOrderEntriesOf(Map.of(PARTITIONS[0], 2L));
        assertThat(state.position().partials()).containsExactly(
                Map.entry(PARTITIONS[1], new StreamPosition.Partial(PARTITIONS[1], 0, 2)));
    }

    private static List<ExampleBlock> stream() {
        Random random = new Random(3);
        List<ExampleBlock> blocks = new ArrayList<>();
        for (int offset = 0; offset < RECORDS_PER_PARTITION; offset++) {
            for (String partition : PARTITIONS) {
                float[] x = new float[ROWS_PER_RECORD * 5];
                float[] y = new float[ROWS_PER_RECORD * 3];
                for (int row = 0; row < ROWS_PER_RECORD; row++) {
                    int label = random.nextInt(3);
                    y[row * 3 + label] = 1f;
                    for (int f = 0; f < 5; f++) {
                        x[row * 5 + f] = (float) random.nextGaussian() + (f == label ? 1.5f : 0f);
                    }
                }
                blocks.add(new ExampleBlock(ROWS_PER_RECORD, x, y, null, new TestRecord(partition, offset)));
            }
        }
        // partitions interleave in no fixed pattern: start with two records of partition 0
        blocks.add(1, blocks.remove(2));
        return blocks;
    }

    private static OnlineTrainer trainer(Network network, TrainerState state, List<ExampleBlock> blocks)
            throws InterruptedException {
        ExampleBatcher batcher = new ExampleBatcher(1 << 16);
        for (ExampleBlock block : blocks) {
            batcher.submit(block);
        }
        return new OnlineTrainer(network, state, batcher, new ServedModel(), List.of(), settings(), null);
    }

    private static void drain(OnlineTrainer trainer) throws InterruptedException {
        while (trainer.trainOnce(0)) {
            // one mini-batch a call until the stream is used up
        }
    }

    private static float[] networkOf(OnlineTrainer trainer) throws Exception {
        try (var snapshot = trainer.snapshot()) {
            return Network.restore(ModelSpecParser.parse(SPEC), snapshot.network().serialize()).parameters();
        }
    }

    private static OnlineTrainer.Settings settings() {
        return new OnlineTrainer.Settings(Duration.ZERO, 1000, Duration.ofHours(1), 100, 0, Duration.ofHours(1));
    }

    /** A writer outcome that fails the test on a failed write (shared with the other resume tests). */
    static CheckpointWriter.Outcome noOutcome() {
        return new CheckpointWriter.Outcome() {
            @Override
            public void saved(Manifest manifest, long bytes, long nanos) {
            }

            @Override
            public void failed(long step, Exception error, int attempt, Duration retryIn) {
                throw new AssertionError("write failed", error);
            }
        };
    }
}
