package dev.streamtrain.checkpoint;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Event;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import dev.streamtrain.model.spec.ModelSpec;
import dev.streamtrain.model.spec.ModelSpecParser;
import dev.streamtrain.training.Checkpointer;
import dev.streamtrain.training.SavedTraining;
import dev.streamtrain.training.TrainerService;
import dev.streamtrain.training.TrainingEvents;
import dev.streamtrain.training.TrainingSnapshot;
import dev.streamtrain.model.ComputeConfig;
import dev.streamtrain.model.EngineKind;
import dev.streamtrain.model.spec.ModelConfig;

/**
 * The trainer's {@link Checkpointer}: restores the newest valid checkpoint of the model at start (skipping
 * and reporting corrupt or incomplete ones), writes checkpoints off the training thread with retries, and
 * after each durable one applies retention, fires {@link CheckpointSaved} (Kafka commits follow) and reports
 * it: event {@code checkpoint-saved}, {@code streamtrain_checkpoint_seconds},
 * {@code streamtrain_last_checkpoint_timestamp_seconds}, {@code streamtrain_checkpoints_total{result}}.
 */
@ApplicationScoped
public class CheckpointService implements Checkpointer {

    private static final Logger LOG = Logger.getLogger(CheckpointService.class);

    private final ModelSpec spec;
    private final EngineKind engine;
    private final CheckpointStore store;
    private final Checkpoints checkpoints;
    private final TrainingEvents events;
    private final Event<CheckpointSaved> saved;
    private final int keep;
    private final Timer writeTime;
    private final Counter successes;
    private final Counter failures;
    private final CheckpointWriter writer;
    private volatile Manifest lastDurable;
    private volatile String lastError;
    private volatile int failuresInARow;

    CheckpointService(CheckpointConfig config, ModelConfig modelConfig, ComputeConfig compute, ModelSpec spec,
                      TrainingEvents events, Event<CheckpointSaved> saved, MeterRegistry registry) {
        this.spec = spec;
        this.engine = TrainerService.engine(compute);
        this.store = CheckpointStores.open(config);
        this.checkpoints = new Checkpoints(store);
        this.events = events;
        this.saved = saved;
        this.keep = Math.max(1, config.keep());
        String model = spec.name();
        writeTime = Timer.builder("streamtrain.checkpoint").tag("model", model)
                .description("Time to serialise and store a checkpoint, until it is durable").register(registry);
        successes = Counter.builder("streamtrain.checkpoints").tag("model", model).tag("result", "success")
                .description("Checkpoint writes, by result").register(registry);
        failures = Counter.builder("streamtrain.checkpoints").tag("model", model).tag("result", "failure")
                .description("Checkpoint writes, by result").register(registry);
        Gauge.builder("streamtrain.last.checkpoint.timestamp", this,
                        s -> s.lastDurable == null ? Double.NaN : s.lastDurable.time().toEpochMilli() / 1000.0)
                .baseUnit("seconds").tag("model", model)
                .description("When the newest durable checkpoint was written (Unix time)").register(registry);
        writer = new CheckpointWriter(checkpoints, ModelSpecParser.text(modelConfig.spec().orElse(null)),
                config.retryBackoff(), config.retryBackoffMax(), new Reporter());
        LOG.infof("Checkpoints of model %s go to %s (keeping %d)", model, store.describe(), keep);
    }

    @Override
    public Optional<SavedTraining> restoreNewest() throws IOException {
        for (long step : checkpoints.steps(spec.name())) {
            try {
                SavedTraining restored = restore(step);
                Map<String, Object> detail = new LinkedHashMap<>();
                detail.put("checkpoint", Checkpoints.folder(spec.name(), step));
                detail.put("store", store.describe());
                detail.put("offsets", restored.state().position().next());
                events.publish("checkpoint-restored", step, detail);
                return Optional.of(restored);
            } catch (Checkpoints.InvalidCheckpointException e) {
                LOG.warnf("Skipping checkpoint %s of model %s: %s", Checkpoints.folder(spec.name(), step),
                        spec.name(), e.getMessage());
                events.publish("checkpoint-skipped", step, Map.of("checkpoint", Checkpoints.folder(spec.name(), step),
                        "reason", e.getMessage()));
            }
        }
        LOG.infof("No checkpoint of model %s in %s: training starts afresh", spec.name(), store.describe());
        return Optional.empty();
    }

    @Override
    public SavedTraining restore(long step) throws IOException {
        Checkpoints.Loaded loaded = checkpoints.load(spec.name(), step);
        SavedTraining restored = CheckpointCodec.decode(loaded, spec, engine);
        if (lastDurable == null || lastDurable.step() < step) {
            lastDurable = loaded.manifest();
        }
        return restored;
    }

    @Override
    public CompletableFuture<Long> save(TrainingSnapshot snapshot) {
        return writer.offer(snapshot);
    }

    /** The steps of the model's checkpoints in the store, newest first (complete or not, valid or not). */
    public List<Long> steps() throws IOException {
        return checkpoints.steps(spec.name());
    }

    /** The manifests of the model's checkpoints, newest first (files not verified; incomplete ones left out). */
    public List<Manifest> list() throws IOException {
        List<Manifest> manifests = new ArrayList<>();
        for (long step : checkpoints.steps(spec.name())) {
            checkpoints.manifest(spec.name(), step).ifPresent(manifests::add);
        }
        return manifests;
    }

    public Optional<Manifest> lastDurable() {
        return Optional.ofNullable(lastDurable);
    }

    /** Writes that failed since the last success (0 when storage is healthy), and the last error. */
    public int failuresInARow() {
        return failuresInARow;
    }

    public Optional<String> lastError() {
        return Optional.ofNullable(lastError);
    }

    public String storeDescription() {
        return store.describe();
    }

    @PreDestroy
    void close() {
        writer.close();
        store.close();
    }

    private final class Reporter implements CheckpointWriter.Outcome {

        @Override
        public void saved(Manifest manifest, long bytes, long nanos) {
            lastDurable = manifest;
            failuresInARow = 0;
            lastError = null;
            successes.increment();
            writeTime.record(nanos, TimeUnit.NANOSECONDS);
            String folder = Checkpoints.folder(manifest.model(), manifest.step());
            Map<String, Object> detail = new LinkedHashMap<>();
            detail.put("checkpoint", folder);
            detail.put("store", store.describe());
            detail.put("bytes", bytes);
            detail.put("seconds", nanos / 1e9);
            detail.put("offsets", manifest.offsets());
            events.publish("checkpoint-saved", manifest.step(), detail);
            try {
                saved.fire(new CheckpointSaved(manifest.model(), manifest.step(), manifest.offsets()));
            } catch (RuntimeException e) {
                LOG.warnf(e, "After checkpoint %s of model %s: a follow-up failed", folder, manifest.model());
            }
            try {
                List<Long> removed = checkpoints.prune(manifest.model(), manifest.step(), keep);
                if (!removed.isEmpty()) {
                    LOG.debugf("Retention removed checkpoints %s of model %s", removed, manifest.model());
                }
            } catch (IOException e) {
                LOG.warnf("Retention of model %s's checkpoints failed (%s); it is tried again after the next one",
                        manifest.model(), e.getMessage());
            }
        }

        @Override
        public void failed(long step, Exception error, int attempt, Duration retryIn) {
            failuresInARow++;
            lastError = error.getMessage();
            failures.increment();
            LOG.warnf("Checkpoint of model %s at step %d could not be stored in %s (attempt %d: %s); training goes"
                    + " on, retrying in %d s", spec.name(), step, store.describe(), attempt, error.getMessage(),
                    retryIn.toSeconds());
            events.publish("checkpoint-failed", step, Map.of("store", store.describe(), "attempt", attempt,
                    "error", String.valueOf(error.getMessage()), "retry-in-seconds", retryIn.toSeconds()));
        }
    }
}
