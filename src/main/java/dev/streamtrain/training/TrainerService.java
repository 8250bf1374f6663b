package dev.streamtrain.training;

import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.inject.Instance;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import dev.streamtrain.model.ComputeSettings;
import dev.streamtrain.model.EngineKind;
import dev.streamtrain.model.spec.InvalidSpecException;
import dev.streamtrain.model.spec.ModelSpec;
import dev.streamtrain.model.spec.ModelSpecParser;
import dev.streamtrain.model.Network;
import dev.streamtrain.training.health.GradientMonitor;
import dev.streamtrain.training.health.HealthSettings;
import dev.streamtrain.training.health.OverfittingMonitor;
import dev.streamtrain.training.health.TrainingHealth;
import dev.streamtrain.ServiceConfig;
import dev.streamtrain.checkpoint.CheckpointConfig;
import dev.streamtrain.model.ComputeConfig;
import dev.streamtrain.model.spec.ModelConfig;
import dev.streamtrain.serving.ServingConfig;
import dev.streamtrain.training.health.HealthConfig;
import dev.streamtrain.tuning.PopulationTuner;
import dev.streamtrain.tuning.TunerConfig;
import dev.streamtrain.tuning.TunerSettings;

/**
 * Builds the model from its spec at start (refusing a wrong spec), or restores it with the trainer's state
 * from the newest valid checkpoint, and runs the {@link OnlineTrainer} on its own thread,
 * "streamtrain-trainer": never a Vert.x event-loop or worker thread. On a graceful stop it lets the current
 * step finish and waits until a checkpoint of the final state is durable.
 */
@ApplicationScoped
public class TrainerService {

    private static final Logger LOG = Logger.getLogger(TrainerService.class);

    private final ServiceConfig service;
    private final TrainingConfig training;
    private final ServingConfig serving;
    private final CheckpointConfig checkpoint;
    private final HealthConfig healthConfig;
    private final ComputeConfig compute;
    private final RangeConfig range;
    private final TunerConfig tunerConfig;
    private final ModelSpec spec;
    private final ExampleBatcher batcher;
    private volatile OnlineTrainer trainer;
    private volatile Thread thread;
    private volatile int threads;
    private volatile StreamPosition resumePosition = StreamPosition.START;
    private volatile long restoredStep;

    TrainerService(ServiceConfig service, ModelConfig model, TrainingConfig training, ServingConfig serving,
                   CheckpointConfig checkpoint, HealthConfig healthConfig, ComputeConfig compute, RangeConfig range,
                   Backlog backlog, TunerConfig tunerConfig) {
        this.service = service;
        this.training = training;
        this.serving = serving;
        this.checkpoint = checkpoint;
        this.healthConfig = healthConfig;
        this.compute = compute;
        this.range = range;
        this.tunerConfig = tunerConfig;
        try {
            this.spec = ModelSpecParser.load(model.spec().orElse(null));
        } catch (InvalidSpecException e) {
            LOG.errorf("Refusing to start: the model spec %s is wrong: %s",
                    model.spec().orElse("(bundled)"), e.getMessage());
            throw e;
        }
        require(!training.stallLimit().isNegative(), "streamtrain.training.stall-limit", "must be >= 0");
        this.batcher = new ExampleBatcher(training.bufferExamples(),
                spec.usesBatchNorm() ? training.minBatchWithBatchNorm() : 1, backlog,
                training.stallLimit());
    }

    @Produces
    @Singleton
    ModelSpec spec() {
        return spec;
    }

    @Produces
    @Singleton
    ExampleBatcher batcher() {
        return batcher;
    }

    // Runs before the messaging channels start (they start at a later observer priority), so records find a
    // trainer, and the consumer finds the position to seek to.
    void start(@Observes @Priority(10) StartupEvent event, ServedModel served, Instance<TrainingListener> listeners,
               Instance<Checkpointer> checkpointers, TrainingEvents events, Instance<GroupRounds> groups) {
        require(java.util.Set.of("train", "serve").contains(service.mode()), "streamtrain.mode",
                "must be train or serve, not '" + service.mode() + "'");
        // a replica's forward passes need the same thread settings: ND4J's defaults lose 2-4x on few cores
        threads = ComputeSettings.apply(compute.threads(), spec);
        if (!service.trains()) {
            require(serving.pollInterval().toMillis() > 0, "streamtrain.serving.poll-interval", "must be > 0");
            LOG.infof("Model %s: serving-only replica (streamtrain.mode=serve): not training; serving the newest"
                    + " checkpoint and following the trainer's checkpoint-saved events (%d compute threads)",
                    spec.name(), threads);
            return;
        }
        Checkpointer checkpointer = checkpointers.get();
        TrainingHealth health = new TrainingHealth(healthSettings(healthConfig), events);
        Optional<SavedTraining> saved = restore(checkpointer);
        PopulationTuner tuner = spec.optimizer().autoLearningRate() ? population(saved) : null;
        Network network = tuner != null ? tuner.leader()
                : saved.map(SavedTraining::network).orElseGet(() -> new Network(spec, engine(compute)));
        TrainerState state = saved.map(SavedTraining::state).orElseGet(OnlineTrainer::freshState);
        resumePosition = state.position();
        restoredStep = state.step();
        var t = training;
        var c = checkpoint;
        trainer = new OnlineTrainer(network, tuner, state, batcher, served, listeners.stream().toList(),
                new OnlineTrainer.Settings(t.linger(), t.publishEverySteps(), t.publishInterval(), t.recentHalfLife(),
                        c.everySteps(), c.interval(), promotion(serving, healthConfig)), checkpointer, health, RecordGuard.of(range));
        LOG.infof("Model %s: %s, %d inputs, %d outputs, batch size %d, %d compute threads, %s engine%s", spec.name(),
                spec.task().name().toLowerCase(), spec.inputs(), spec.outputs(), spec.batchSize(), threads,
                network.engine().label, tuner == null ? "" : ", learning rate auto: a population of " + tuner.size()
                        + " members at rates " + tuner.rates() + (tuner.pinned() == null ? ""
                        : " (pinned by an operator at " + tuner.pinned() + ")"));
        // a member of a group of trainers (streamtrain.cluster.enabled) trains only in a generation it has joined
        GroupRounds group = groups.isResolvable() ? groups.get() : null;
        if (group != null) {
            trainer.trainInGroup(group);
        }
        thread = new Thread(trainer, "streamtrain-trainer");
        thread.setDaemon(true);
        thread.start();
    }

    /**
     * The population of {@code learning-rate: auto}: the checkpoint's, or a new one (from the checkpoint's model when
     * it was trained without the tuner).
     */
    private PopulationTuner population(Optional<SavedTraining> saved) {
        TunerSettings settings = tunerConfig.settings(spec.seed());
        if (saved.isEmpty()) {
            return PopulationTuner.create(spec, settings, engine(compute));
        }
        PopulationTuner restored = saved.get().tuner();
        if (restored == null) {
            return PopulationTuner.from(saved.get().network(), settings, engine(compute));
        }
        if (!restored.settings().equals(settings)) {
            // the search goes on as it was checkpointed (a restore continues bit for bit); new settings need a new
            // population
            LOG.warnf("Model %s: the checkpoint's learning-rate tuner searches with %s, not the configured %s "
                    + "(streamtrain.tuner.*): it continues with its own; a new population (a fresh start, or a "
                    + "checkpoint trained at a fixed rate) takes the configured ones", spec.name(),
                    restored.settings(), settings);
        }
        return restored;
    }

    /** The engine the configuration asks for; an unknown name is refused with the key that holds it. */
    public static EngineKind engine(ComputeConfig compute) {
        try {
            return EngineKind.of(compute.engine());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("Refusing to start: streamtrain.compute.engine " + e.getMessage(), e);
        }
    }

    /** The health settings of the configuration; a value out of range is refused with the key that holds it. */
    static HealthSettings healthSettings(HealthConfig h) {
        var g = h.gradients();
        var d = h.drift();
        require(h.sampleEverySteps() >= 0, "streamtrain.health.sample-every-steps", "must be >= 0 (0: off)");
        require(h.goodStateEverySteps() > 0, "streamtrain.health.good-state-every-steps", "must be > 0");
        require(h.learningRate().backoff() > 0 && h.learningRate().backoff() <= 1,
                "streamtrain.health.learning-rate.backoff", "must be in (0, 1]");
        require(h.learningRate().minScale() > 0 && h.learningRate().minScale() <= 1,
                "streamtrain.health.learning-rate.min-scale", "must be in (0, 1]");
        require(h.holdout().fraction() >= 0 && h.holdout().fraction() < 1, "streamtrain.health.holdout.fraction",
                "must be in [0, 1)");
        require(h.holdout().halfLife() > 0, "streamtrain.health.holdout.half-life", "must be > 0");
        require(g.patience() > 0, "streamtrain.health.gradients.patience", "must be > 0");
        require(g.deadFraction() >= 0 && g.deadFraction() <= 1, "streamtrain.health.gradients.dead-fraction",
                "must be in [0, 1] (0: off)");
        require(g.lossWindow() > 0, "streamtrain.health.gradients.loss-window", "must be > 0");
        require(g.lossRiseFactor() >= 0, "streamtrain.health.gradients.loss-rise-factor", "must be >= 0");
        require(g.learningLossFraction() >= 0, "streamtrain.health.gradients.learning-loss-fraction", "must be >= 0");
        require(h.learningRate().recoverSteps() >= 0, "streamtrain.health.learning-rate.recover-steps",
                "must be >= 0 (0: never)");
        require(h.learningRate().recoverFactor() >= 1, "streamtrain.health.learning-rate.recover-factor",
                "must be >= 1");
        require(h.overfitting().patience() > 0, "streamtrain.health.overfitting.patience", "must be > 0");
        require(java.util.Set.of("adwin", "page-hinkley", "none").contains(d.detector()),
                "streamtrain.health.drift.detector", "must be adwin, page-hinkley or none");
        require(java.util.Set.of("warm-restart", "reset-moments", "none").contains(d.answer()),
                "streamtrain.health.drift.answer", "must be warm-restart, reset-moments or none");
        require(d.adwinDelta() > 0 && d.adwinDelta() < 1, "streamtrain.health.drift.adwin-delta", "must be in (0, 1)");
        require(d.restartFactor() >= 1, "streamtrain.health.drift.restart-factor", "must be >= 1");
        return new HealthSettings(h.sampleEverySteps(), h.goodStateEverySteps(),
                new GradientMonitor.Settings(g.ratioHigh(), g.ratioLow(), g.patience(), g.collapseFraction(),
                        g.deadFraction(), g.lossWindow(), g.lossRiseFactor(), g.learningLossFraction()),
                h.learningRate().backoff(), h.learningRate().minScale(), h.holdout().halfLife(),
                new OverfittingMonitor.Settings(h.overfitting().tolerance(), h.overfitting().patience(),
                        h.overfitting().minExamples()),
                new HealthSettings.Drift(d.detector(), d.adwinDelta(), d.pageHinkleyMinInstances(),
                        d.pageHinkleyDelta(), d.pageHinkleyLambda(), d.pageHinkleyAlpha(), d.answer(),
                        d.restartFactor(), d.restartSteps(), d.quietSteps()),
                new HealthSettings.Recovery(h.learningRate().recoverSteps(), h.learningRate().recoverFactor()));
    }

    /** The promotion rule of the configuration; a wrong one is refused with the key that holds it. */
    static Promotion promotion(ServingConfig serving, HealthConfig health) {
        var s = serving;
        require(java.util.Set.of("always", "not-worse").contains(s.promotion()), "streamtrain.serving.promotion",
                "must be always or not-worse");
        if (s.promotion().equals("always")) {
            return Promotion.ALWAYS;
        }
        require(health.holdout().fraction() > 0, "streamtrain.serving.promotion",
                "not-worse judges on held-out examples: streamtrain.health.holdout.fraction must be > 0");
        require(s.promotionTolerance() >= 0, "streamtrain.serving.promotion-tolerance", "must be >= 0");
        require(s.promotionMinExamples() > 0, "streamtrain.serving.promotion-min-examples", "must be > 0");
        require(s.promotionWindow() >= s.promotionMinExamples(), "streamtrain.serving.promotion-window",
                "must be >= streamtrain.serving.promotion-min-examples");
        return new Promotion(true, s.promotionTolerance(), s.promotionMinExamples(), s.promotionWindow());
    }

    private static void require(boolean ok, String key, String message) {
        if (!ok) {
            throw new IllegalArgumentException("Refusing to start: " + key + " " + message);
        }
    }

    // A store that cannot be read at start is waited for: training from scratch over existing checkpoints
    // would throw away what they hold.
    private Optional<SavedTraining> restore(Checkpointer checkpointer) {
        long deadline = System.nanoTime() + checkpoint.restoreTimeout().toNanos();
        Duration wait = Duration.ofSeconds(1);
        while (true) {
            try {
                return checkpointer.restoreNewest();
            } catch (IOException e) {
                if (System.nanoTime() + wait.toNanos() > deadline) {
                    throw new IllegalStateException("Refusing to start model " + spec.name()
                            + ": the checkpoint store cannot be read (" + e.getMessage() + "), and training from"
                            + " scratch could overwrite what it holds. Fix the store or its settings.", e);
                }
                LOG.warnf("Model %s: cannot read the checkpoint store (%s); retrying in %d s", spec.name(),
                        e.getMessage(), wait.toSeconds());
                sleep(wait);
                wait = wait.multipliedBy(2);
            }
        }
    }

    private static void sleep(Duration duration) {
        try {
            Thread.sleep(duration.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the checkpoint store", e);
        }
    }

    // Graceful stop (SIGTERM): finish the step, then make the final state durable (which commits its offsets)
    // before the Kafka clients close; they close when the application scope ends, after this observer.
    void stop(@Observes ShutdownEvent event) throws InterruptedException {
        if (trainer == null) {
            return;
        }
        trainer.stop();
        thread.join(TimeUnit.SECONDS.toMillis(30));
        if (thread.isAlive()) {
            LOG.errorf("Model %s: the training thread did not stop within 30 s; no final checkpoint", spec.name());
            return;
        }
        Duration timeout = checkpoint.shutdownTimeout();
        try {
            long step = trainer.checkpointAfterStop().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            LOG.infof("Model %s: final checkpoint at step %d is durable", spec.name(), step);
        } catch (ExecutionException | TimeoutException e) {
            LOG.errorf("Model %s: the final checkpoint at step %d was not durable within %d s (%s); a restart"
                    + " resumes from the previous one and trains the records since then again", spec.name(),
                    trainer.step(), timeout.toSeconds(), e.getCause() == null ? e : e.getCause().getMessage());
        }
    }

    /**
     * Where the restored model stands in the stream: ingest seeks there and drops records the model holds.
     * Set once before the channels start; a partition whose offsets turn out not to fit the topic is forgotten.
     */
    public StreamPosition resumePosition() {
        return resumePosition;
    }

    /** The step of the checkpoint the model was restored from; 0 for a fresh start. */
    public long restoredStep() {
        return restoredStep;
    }

    public void forgetPosition(String partition) {
        resumePosition = resumePosition.forget(partition);
        if (trainer != null) {
            trainer.forget(partition);
        }
    }

    /** Whether this process trains; false for a serving-only replica. */
    public boolean trains() {
        return service.trains();
    }

    /** Whether the training thread is running (false before start, after stop, or if it died). */
    public boolean isTraining() {
        return thread != null && thread.isAlive();
    }

    /** ND4J/BLAS threads in force. */
    public int computeThreads() {
        return threads;
    }

    public OnlineTrainer trainer() {
        return trainer;
    }

    public ModelSpec modelSpec() {
        return spec;
    }
}
