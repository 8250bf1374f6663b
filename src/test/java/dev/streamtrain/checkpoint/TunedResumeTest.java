package dev.streamtrain.checkpoint;

import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import dev.streamtrain.model.Capture;
import dev.streamtrain.model.spec.ModelSpec;
import dev.streamtrain.model.spec.ModelSpecParser;
import dev.streamtrain.model.Network;
import dev.streamtrain.training.ExampleBatcher;
import dev.streamtrain.training.ExampleBlock;
import dev.streamtrain.training.OnlineTrainer;
import dev.streamtrain.training.SavedTraining;
import dev.streamtrain.training.ServedModel;
import dev.streamtrain.training.TrainerState;
import dev.streamtrain.training.TrainingEvent;
import dev.streamtrain.training.TrainingEvents;
import dev.streamtrain.training.TrainingSnapshot;
import dev.streamtrain.training.health.TrainingHealth;
import dev.streamtrain.tuning.PopulationTuner;
import dev.streamtrain.tuning.TunerSettings;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code learning-rate: auto} across a restart: the trainer trains the population, an operator pins the rate and
 * hands it back to the tuner, the health monitors answer the pinned rate and a drift, and a run restored from a
 * checkpoint taken at any of these moments ends bit for bit as an uninterrupted one: every member's weights and
 * optimizer state, the tuner's rates, losses, exploits and serving member, the trainer's figures and its events.
 */
class TunedResumeTest {

    static final String SPEC = HealthResumeTest.SPEC.replace("name: healthy", "name: tuned")
            .replace("learning-rate: 0.002", "learning-rate: auto");
    static final int PIN_AFTER = 20;
    static final int AUTO_AFTER = 60;

    @TempDir
    Path root;

    record Run(OnlineTrainer trainer, List<TrainingEvent> events) {
    }

    static Run trainer(PopulationTuner tuner, TrainerState state, List<ExampleBlock> blocks)
            throws InterruptedException {
        ExampleBatcher batcher = new ExampleBatcher(1 << 16);
        for (ExampleBlock block : blocks) {
            batcher.submit(block);
        }
        List<TrainingEvent> events = new ArrayList<>();
        TrainingEvents recorder = new TrainingEvents() {
            @Override
            public void publish(String type, long step, Map<String, Object> detail) {
                events.add(new TrainingEvent(type, "tuned", step, Instant.EPOCH, detail));
            }

            @Override
            public List<TrainingEvent> recent() {
                return events;
            }
        };
        return new Run(new OnlineTrainer(null, tuner, state, batcher, new ServedModel(), List.of(),
                new OnlineTrainer.Settings(Duration.ZERO, 1000, Duration.ofHours(1), 100, 0, Duration.ofHours(1)),
                null, new TrainingHealth(HealthResumeTest.settings(), recorder),
                dev.streamtrain.training.RecordGuard.OFF), events);
    }

    /** Trains until {@code steps} (all when negative): the rate pinned at 0.05 after step 20, back to auto after 60. */
    static void train(OnlineTrainer trainer, long steps) throws Exception {
        while (steps < 0 || trainer.step() < steps) {
            if (trainer.step() == PIN_AFTER) {
                trainer.setLearningRate(0.05);
            }
            if (trainer.step() == AUTO_AFTER) {
                trainer.tuneLearningRate();
            }
            if (!trainer.trainOnce(0)) {
                return;
            }
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {23, 64, 131, 170})
    void aTunedRunRestoredAtAnyMomentEndsBitIdenticalToAnUninterruptedOne(int crashAfterSteps) throws Exception {
        ModelSpec spec = ModelSpecParser.parse(SPEC);
        assertThat(spec.optimizer().autoLearningRate()).isTrue();
        List<ExampleBlock> stream = HealthResumeTest.stream();
        Run uninterrupted = trainer(PopulationTuner.create(spec, TunerSettings.defaults(spec.seed())),
                OnlineTrainer.freshState(), stream);
        train(uninterrupted.trainer(), -1);
        assertThat(uninterrupted.events()).as("the tuner made moves, reported as hyperparameters-changed")
                .anyMatch(e -> e.type().equals("hyperparameters-changed")
                        && "tuner-exploit".equals(e.detail().get("reason")));
        assertThat(uninterrupted.trainer().tuner().pinned()).isNull();
        assertThat(uninterrupted.events().stream().map(TrainingEvent::type).distinct().toList())
                .as("the health story under the tuner").contains("exploding-gradient", "rolled-back");

        Run first = trainer(PopulationTuner.create(spec, TunerSettings.defaults(spec.seed())),
                OnlineTrainer.freshState(), stream);
        train(first.trainer(), crashAfterSteps);
        Checkpoints checkpoints = new Checkpoints(new FileCheckpointStore(root));
        long saved;
        try (CheckpointWriter writer = new CheckpointWriter(checkpoints, SPEC, Duration.ofMillis(10),
                Duration.ofMillis(10), ResumeExactlyOnceTest.noOutcome())) {
            saved = writer.offer(first.trainer().checkpointSnapshot()).get(30, TimeUnit.SECONDS);
        }
        assertThat(saved).isBetween(crashAfterSteps - 60L, (long) crashAfterSteps);
        SavedTraining restored = CheckpointCodec.decode(checkpoints.load("tuned", saved), spec);
        assertThat(restored.tuner()).as("the checkpoint holds the population").isNotNull();
        assertThat(restored.network()).isSameAs(restored.tuner().leader());
        List<ExampleBlock> redelivered = new ArrayList<>();
        for (ExampleBlock block : stream) {
            ExampleBlock untrained = restored.state().position().untrained(block);
            if (untrained != null) {
                redelivered.add(untrained);
            }
        }
        Run resumed = trainer(restored.tuner(), restored.state(), redelivered);
        train(resumed.trainer(), -1);

        assertThat(resumed.trainer().step()).isEqualTo(uninterrupted.trainer().step());
        assertThat(resumed.trainer().tuner()).isEqualTo(uninterrupted.trainer().tuner());
        try (TrainingSnapshot a = resumed.trainer().snapshot(); TrainingSnapshot b = uninterrupted.trainer().snapshot()) {
            assertSameState(spec, a.network(), b.network(), "the serving member");
            for (int m = 0; m < b.tuner().members().size(); m++) {
                if (b.tuner().members().get(m) != null) {
                    assertSameState(spec, a.tuner().members().get(m), b.tuner().members().get(m), "member " + m);
                }
            }
            assertThat(a.tuner().state()).isEqualTo(b.tuner().state());
        }
        assertThat(resumed.trainer().learningRate()).isEqualTo(uninterrupted.trainer().learningRate());
        assertThat(resumed.trainer().stats()).isEqualTo(uninterrupted.trainer().stats());
        assertThat(resumed.trainer().holdoutStats()).isEqualTo(uninterrupted.trainer().holdoutStats());
        assertThat(resumed.events().stream().map(e -> e.type() + "@" + e.step() + e.detail()).toList())
                .isEqualTo(uninterrupted.events().stream().filter(e -> e.step() > saved)
                        .map(e -> e.type() + "@" + e.step() + e.detail()).toList());
    }

    private static void assertSameState(ModelSpec spec, Capture actual, Capture expected, String what)
            throws Exception {
        assertThat(actual).as(what).isNotNull();
        Network a = Network.restore(spec, actual.serialize());
        Network b = Network.restore(spec, expected.serialize());
        assertThat(Arrays.equals(a.parameters(), b.parameters())).as(what + ": weights").isTrue();
        assertThat(Arrays.equals(a.optimizerState(), b.optimizerState())).as(what + ": optimizer state").isTrue();
        assertThat(a.learningRate()).as(what + ": learning rate").isEqualTo(b.learningRate());
    }
}
