package dev.streamtrain.training.health;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;

import dev.streamtrain.model.ModelSnapshot;
import dev.streamtrain.model.spec.ModelSpec;
import dev.streamtrain.model.Network;
import dev.streamtrain.training.Checkpointer;
import dev.streamtrain.training.ExampleBatcher;
import dev.streamtrain.training.ExampleBlock;
import dev.streamtrain.training.OnlineTrainer;
import dev.streamtrain.training.RecordHandle;
import dev.streamtrain.training.SavedTraining;
import dev.streamtrain.training.Promotion;
import dev.streamtrain.training.ServedModel;
import dev.streamtrain.training.StepReport;
import dev.streamtrain.training.TrainingEvent;
import dev.streamtrain.training.TrainingEvents;
import dev.streamtrain.training.TrainingListener;
import dev.streamtrain.training.TrainingSnapshot;

/**
 * Drives an {@link OnlineTrainer} with its health monitors in memory (no thread, no broker), recording every
 * event, every step's report, every record's fate and whether every snapshot published to serving was finite.
 */
final class HealthHarness {

    final List<TrainingEvent> events = new CopyOnWriteArrayList<>();
    final List<StepReport> steps = new ArrayList<>();
    final List<Handle> quarantined = new ArrayList<>();
    final List<Handle> trained = new ArrayList<>();
    int published;
    int publishedNonFinite;
    final ExampleBatcher batcher = new ExampleBatcher(1 << 22);
    final OnlineTrainer trainer;
    final ModelSpec spec;
    final ServedModel served;

    /** Checkpoints taken: step and whether it was marked best. */
    final List<long[]> checkpoints = new ArrayList<>();

    HealthHarness(ModelSpec spec, HealthSettings settings) {
        this(spec, settings, 0);
    }

    /** With a checkpoint every {@code checkpointEverySteps} steps (0: none), recorded in {@link #checkpoints}. */
    HealthHarness(ModelSpec spec, HealthSettings settings, int checkpointEverySteps) {
        this(spec, settings, checkpointEverySteps, Promotion.ALWAYS);
    }

    /** With a promotion rule for what serves (published every 5 steps). */
    HealthHarness(ModelSpec spec, HealthSettings settings, int checkpointEverySteps, Promotion promotion) {
        this(new Network(spec), settings, checkpointEverySteps, promotion);
    }

    /** Training a given network (one whose weights a test has tampered with, say). */
    HealthHarness(Network network, HealthSettings settings) {
        this(network, settings, 0, Promotion.ALWAYS);
    }

    private HealthHarness(Network network, HealthSettings settings, int checkpointEverySteps, Promotion promotion) {
        ModelSpec spec = network.spec();
        this.spec = spec;
        TrainingEvents recorder = new TrainingEvents() {
            @Override
            public void publish(String type, long step, Map<String, Object> detail) {
                events.add(new TrainingEvent(type, spec.name(), step, Instant.now(), detail));
            }

            @Override
            public List<TrainingEvent> recent() {
                return List.copyOf(events);
            }
        };
        served = new ServedModel() {
            @Override
            public void publish(ModelSnapshot snapshot) {
                published++;
                if (!snapshot.parametersFinite()) {
                    publishedNonFinite++;
                }
                super.publish(snapshot);
            }
        };
        TrainingListener listener = steps::add;
        Checkpointer checkpointer = new Checkpointer() {
            @Override
            public Optional<SavedTraining> restoreNewest() {
                return Optional.empty();
            }

            @Override
            public SavedTraining restore(long step) {
                throw new UnsupportedOperationException();
            }

            @Override
            public CompletableFuture<Long> save(TrainingSnapshot snapshot) {
                try (snapshot) {
                    checkpoints.add(new long[] {snapshot.step(), snapshot.best() ? 1 : 0});
                }
                return CompletableFuture.completedFuture(snapshot.step());
            }
        };
        trainer = new OnlineTrainer(network, OnlineTrainer.freshState(), batcher, served, List.of(listener),
                new OnlineTrainer.Settings(Duration.ZERO, 5, Duration.ofHours(1), 300, checkpointEverySteps,
                        Duration.ofDays(1), promotion), checkpointEverySteps > 0 ? checkpointer : null,
                new TrainingHealth(settings, recorder));
    }

    /** Queues the blocks and trains until the buffer is empty. */
    HealthHarness train(List<ExampleBlock> blocks) throws InterruptedException {
        for (ExampleBlock block : blocks) {
            batcher.submit(block);
        }
        while (trainer.trainOnce(0)) {
            // one mini-batch per call
        }
        return this;
    }

    List<TrainingEvent> events(String type) {
        return events.stream().filter(e -> e.type().equals(type)).toList();
    }

    /** A source record that remembers whether it was trained or quarantined. */
    final class Handle implements RecordHandle {
        final long offset;
        String reason;

        Handle(long offset) {
            this.offset = offset;
        }

        @Override
        public String partition() {
            return "memory-0";
        }

        @Override
        public long offset() {
            return offset;
        }

        @Override
        public void trained() {
            trained.add(this);
        }

        @Override
        public void quarantined(String reason, String cause) {
            this.reason = reason;
            quarantined.add(this);
        }
    }
}
