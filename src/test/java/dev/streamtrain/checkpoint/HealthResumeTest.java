package dev.streamtrain.checkpoint;

import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import dev.streamtrain.demo.DigitsDataset;
import dev.streamtrain.ingest.HoldoutSplit;
import dev.streamtrain.model.spec.ModelSpec;
import dev.streamtrain.model.spec.ModelSpecParser;
import dev.streamtrain.model.Network;
import dev.streamtrain.support.TestRecord;
import dev.streamtrain.training.ExampleBatcher;
import dev.streamtrain.training.ExampleBlock;
import dev.streamtrain.training.OnlineTrainer;
import dev.streamtrain.training.SavedTraining;
import dev.streamtrain.training.ServedModel;
import dev.streamtrain.training.TrainerState;
import dev.streamtrain.training.TrainingEvent;
import dev.streamtrain.training.TrainingEvents;
import dev.streamtrain.training.health.GradientMonitor;
import dev.streamtrain.training.health.HealthSettings;
import dev.streamtrain.training.health.OverfittingMonitor;
import dev.streamtrain.training.health.TrainingHealth;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Exactly once with the health monitors at work: a learning rate set too high and backed off, held-out
 * examples, a drift detected and answered by a warm restart. A run restored from a checkpoint taken at any of
 * these moments ends with the model, optimizer state, learning rate, held-out figures and health events of an
 * uninterrupted one: the monitors' state and the learning-rate adjustments travel in the checkpoint.
 */
class HealthResumeTest {

    static final String SPEC = """
            name: healthy
            inputs: 64
            task: classification
            outputs: 10
            seed: 13
            layers:
              - dense: {units: 32, activation: relu}
            optimizer: {type: adam, learning-rate: 0.002}
            batch-size: 32
            """;
    static final int CHANGE_LEARNING_RATE_AFTER = 20;

    @TempDir
    Path root;

    static HealthSettings settings() {
        return new HealthSettings(5, 10, new GradientMonitor.Settings(1e-2, 1e-4, 2, 1e-4, 0.95, 10, 2, 0.5), 0.5, 1e-3, 50,
                new OverfittingMonitor.Settings(0.1, 3, 50),
                new HealthSettings.Drift("adwin", 0.002, 30, 0.005, 50, 0.9999, "warm-restart", 5, 60, 20));
    }

    static List<ExampleBlock> stream() {
        DigitsDataset data = DigitsDataset.load();
        HoldoutSplit split = new HoldoutSplit(0.1);
        List<ExampleBlock> blocks = new ArrayList<>();
        long offset = 0;
        for (int pass = 0; pass < 4; pass++) {
            for (int row : data.shuffledOrder(pass)) {
                float[] y = new float[DigitsDataset.CLASSES];
                y[pass < 2 ? data.labels()[row] : (data.labels()[row] + 5) % 10] = 1f;
                blocks.add(new ExampleBlock(1, data.features()[row].clone(), y, null, new TestRecord(offset))
                        .heldOut(split.heldOut(("k" + offset).getBytes(StandardCharsets.UTF_8), null)));
                offset++;
            }
        }
        return blocks;
    }

    record Run(OnlineTrainer trainer, List<TrainingEvent> events) {
    }

    static Run trainer(Network network, TrainerState state, List<ExampleBlock> blocks) throws InterruptedException {
        ExampleBatcher batcher = new ExampleBatcher(1 << 16);
        for (ExampleBlock block : blocks) {
            batcher.submit(block);
        }
        List<TrainingEvent> events = new ArrayList<>();
        TrainingEvents recorder = new TrainingEvents() {
            @Override
            public void publish(String type, long step, Map<String, Object> detail) {
                events.add(new TrainingEvent(type, "healthy", step, Instant.EPOCH, detail));
            }

            @Override
            public List<TrainingEvent> recent() {
                return events;
            }
        };
        return new Run(new OnlineTrainer(network, state, batcher, new ServedModel(), List.of(),
                new OnlineTrainer.Settings(Duration.ZERO, 1000, Duration.ofHours(1), 100, 0, Duration.ofHours(1)),
                null, new TrainingHealth(settings(), recorder)), events);
    }

    /** Trains until {@code steps} (all when negative), setting the learning rate x25 after step 20. */
    static void train(OnlineTrainer trainer, long steps) throws Exception {
        while (steps < 0 || trainer.step() < steps) {
            if (trainer.step() == CHANGE_LEARNING_RATE_AFTER) {
                trainer.setLearningRate(0.05);
            }
            if (!trainer.trainOnce(0)) {
                return;
            }
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {23, 47, 118, 130, 160})
    void aRunRestoredAtAnyMomentOfTheHealthStoryEndsAsAnUninterruptedOne(int crashAfterSteps) throws Exception {
        ModelSpec spec = ModelSpecParser.parse(SPEC);
        List<ExampleBlock> stream = stream();
        Run uninterrupted = trainer(new Network(spec), OnlineTrainer.freshState(), stream);
        train(uninterrupted.trainer(), -1);
        List<String> types = uninterrupted.events().stream().map(TrainingEvent::type).distinct().toList();
        assertThat(types).as("the story this test is about").contains("exploding-gradient", "drift-detected");

        Run first = trainer(new Network(spec), OnlineTrainer.freshState(), stream);
        train(first.trainer(), crashAfterSteps);
        Checkpoints checkpoints = new Checkpoints(new FileCheckpointStore(root));
        // a checkpoint holds the last good state, which a rollback could still go back to: the run goes on from it
        long saved;
        try (CheckpointWriter writer = new CheckpointWriter(checkpoints, SPEC, Duration.ofMillis(10),
                Duration.ofMillis(10), ResumeExactlyOnceTest.noOutcome())) {
            saved = writer.offer(first.trainer().checkpointSnapshot()).get(30, TimeUnit.SECONDS);
        }
        assertThat(saved).isBetween(crashAfterSteps - 60L, (long) crashAfterSteps);
        SavedTraining restored = CheckpointCodec.decode(checkpoints.load("healthy", saved), spec);
        List<ExampleBlock> redelivered = new ArrayList<>();
        for (ExampleBlock block : stream) {
            ExampleBlock untrained = restored.state().position().untrained(block);
            if (untrained != null) {
                redelivered.add(untrained);
            }
        }
        Run resumed = trainer(restored.network(), restored.state(), redelivered);
        train(resumed.trainer(), -1);

        assertThat(resumed.trainer().step()).isEqualTo(uninterrupted.trainer().step());
        try (var a = resumed.trainer().snapshot(); var b = uninterrupted.trainer().snapshot()) {
            Network after = Network.restore(spec, a.network().serialize());
            Network expected = Network.restore(spec, b.network().serialize());
            assertThat(java.util.Arrays.equals(after.parameters(), expected.parameters())).as("weights").isTrue();
            assertThat(java.util.Arrays.equals(after.optimizerState(), expected.optimizerState())).as("Adam").isTrue();
        }
        assertThat(resumed.trainer().learningRate()).isEqualTo(uninterrupted.trainer().learningRate());
        assertThat(resumed.trainer().holdoutStats()).isEqualTo(uninterrupted.trainer().holdoutStats());
        assertThat(resumed.trainer().stats()).isEqualTo(uninterrupted.trainer().stats());
        assertThat(resumed.events().stream().map(e -> e.type() + "@" + e.step()).toList())
                .isEqualTo(uninterrupted.events().stream().filter(e -> e.step() > saved)
                        .map(e -> e.type() + "@" + e.step()).toList());
    }
}
