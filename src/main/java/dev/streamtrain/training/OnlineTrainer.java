package dev.streamtrain.training;

import org.jboss.logging.Logger;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;

import dev.streamtrain.model.MiniBatch;
import dev.streamtrain.model.EngineKind;
import dev.streamtrain.model.Network;
import dev.streamtrain.model.StepResult;
import dev.streamtrain.training.health.HealthSettings;
import dev.streamtrain.training.health.TrainingHealth;
import dev.streamtrain.tuning.Exploit;
import dev.streamtrain.tuning.PopulationTuner;
import dev.streamtrain.tuning.TunerStep;
import dev.streamtrain.tuning.TunerView;

/**
 * The online training loop, run by one dedicated thread: take a mini-batch from the {@link ExampleBatcher},
 * evaluate it and train on it (test-then-train), tell the listeners, let the {@link TrainingHealth} monitors look
 * at the step, and between steps carry out requests from other threads (checkpoint now, roll back, set the
 * learning rate). Each other job has a collaborator with its own settings and its own part of the checkpointed
 * state: the {@link StreamLedger} (offsets, partly trained records, acknowledgements and dead letters), the
 * {@link StepGuard} (the last good state, blame of a non-finite step, rollbacks and replays), the
 * {@link PublicationGate} (what serves) and the {@link CheckpointSchedule} (when to save, which is best).
 * A network that is not finite is never published and never checkpointed.
 *
 * <p>With {@code learning-rate: auto} a {@link PopulationTuner} trains beside it: "the network" above is the
 * population's serving member, which the guard steps as ever; the tuner then steps the other members on the same
 * raw rows, makes its exploit moves (published as {@code hyperparameters-changed}) and, when another member has
 * become the best, that member is the network from the next step on (its state now the good one). A back-off of
 * the serving member's rate by the health answers scales the other members' rates down with it; the members' good
 * states are saved with the serving member's, so a checkpoint holds the whole population at its step.
 *
 * <p>As a member of a group of trainers of one model ({@link #trainInGroup}, docs/scale-out.md) it trains only in a
 * generation of the group it has joined, ends its part of a round every few steps (at a record boundary), trains on
 * from the group's average, and checkpoints only such averages (and only when it is the generation's writer): the
 * checkpoint of a round is the average with every member's offsets. Alone (no group), none of this runs.
 */
public final class OnlineTrainer implements Runnable {

    private static final Logger LOG = Logger.getLogger(OnlineTrainer.class);
    private static final long IDLE_WAIT_NANOS = Duration.ofMillis(50).toNanos();

    /** How often to publish and to checkpoint (0 steps = by time only), and how long a partial batch lingers. */
    public record Settings(Duration linger, int publishEverySteps, Duration publishInterval, int recentHalfLife,
                           int checkpointEverySteps, Duration checkpointInterval, Promotion promotion) {

        /** Every publish promoted ({@link Promotion#ALWAYS}). */
        public Settings(Duration linger, int publishEverySteps, Duration publishInterval, int recentHalfLife,
                        int checkpointEverySteps, Duration checkpointInterval) {
            this(linger, publishEverySteps, publishInterval, recentHalfLife, checkpointEverySteps, checkpointInterval,
                    Promotion.ALWAYS);
        }
    }

    private final ExampleBatcher batcher;
    private final List<TrainingListener> listeners;
    private final Settings settings;
    private final MiniBatch batch;
    private final List<RecordHandle> completed = new ArrayList<>();
    private final List<RecordHandle> sources = new ArrayList<>();
    private final RecordGuard recordGuard;
    private final List<RecordGuard.Refusal> refused = new ArrayList<>();
    private final PrequentialStats stats;
    private final PrequentialStats holdoutStats;
    private final TrainingHealth health;
    private final StreamLedger ledger;
    private final StepGuard guard;
    private final PublicationGate gate;
    private final CheckpointSchedule checkpoints;
    private final Queue<Runnable> requests = new ConcurrentLinkedQueue<>();
    private volatile Network network;
    private volatile PopulationTuner tuner;
    private volatile TunerView tunerView;
    private volatile long step;
    private volatile boolean stopping;
    private volatile boolean failed;
    private volatile GroupRounds group;
    private volatile CompletableFuture<Long> groupCheckpoint;

    /** A trainer that continues from {@code state} (a fresh run: step 0, {@link StreamPosition#START}). */
    public OnlineTrainer(Network network, TrainerState state, ExampleBatcher batcher, ServedModel served,
                         List<TrainingListener> listeners, Settings settings, Checkpointer checkpointer) {
        this(network, state, batcher, served, listeners, settings, checkpointer,
                new TrainingHealth(HealthSettings.defaults(), TrainingEvents.NONE));
    }

    /** As above, watched by {@code health}; no record refused for being out of range. */
    public OnlineTrainer(Network network, TrainerState state, ExampleBatcher batcher, ServedModel served,
                         List<TrainingListener> listeners, Settings settings, Checkpointer checkpointer,
                         TrainingHealth health) {
        this(network, state, batcher, served, listeners, settings, checkpointer, health, RecordGuard.OFF);
    }

    /** As above; records out of the range the model has learned are dead-lettered as {@code recordGuard} says. */
    public OnlineTrainer(Network network, TrainerState state, ExampleBatcher batcher, ServedModel served,
                         List<TrainingListener> listeners, Settings settings, Checkpointer checkpointer,
                         TrainingHealth health, RecordGuard recordGuard) {
        this(network, null, state, batcher, served, listeners, settings, checkpointer, health, recordGuard);
    }

    /**
     * As above, with the population of {@code learning-rate: auto} ({@code tuner}, null: none): the network trained
     * and served is then its serving member, and {@code network} is ignored.
     */
    public OnlineTrainer(Network network, PopulationTuner tuner, TrainerState state, ExampleBatcher batcher,
                         ServedModel served, List<TrainingListener> listeners, Settings settings,
                         Checkpointer checkpointer, TrainingHealth health, RecordGuard recordGuard) {
        this.recordGuard = recordGuard;
        this.tuner = tuner;
        if (tuner != null) {
            network = tuner.leader();
            tunerView = tuner.view();
        }
        if (!network.stateFinite()) {
            throw new IllegalStateException("the network to train from is not finite");
        }
        this.network = network;
        this.health = health;
        this.batcher = batcher;
        this.listeners = List.copyOf(listeners);
        this.settings = settings;
        var spec = network.spec();
        this.batch = new MiniBatch(spec.batchSize(), spec.inputs(), spec.labelWidth());
        this.stats = new PrequentialStats(settings.recentHalfLife());
        this.holdoutStats = new PrequentialStats(health.settings().holdoutHalfLife());
        this.step = state.step();
        stats.restore(state.prequential(), spec.isClassification());
        if (state.holdout() != null) {
            holdoutStats.restore(state.holdout(), spec.isClassification());
        }
        health.restore(state.health());
        this.ledger = new StreamLedger(state);
        this.gate = new PublicationGate(served, new PublicationGate.Settings(settings.publishEverySteps(),
                settings.publishInterval(), settings.promotion()), health.events(), spec.batchSize(), spec.inputs(),
                spec.labelWidth());
        this.checkpoints = new CheckpointSchedule(checkpointer, new CheckpointSchedule.Settings(
                settings.checkpointEverySteps(), settings.checkpointInterval(),
                health.settings().overfitting().minExamples()), state);
        int goodEvery = health.settings().goodStateEverySteps();
        this.guard = new StepGuard(network, new StepGuard.Settings(goodEvery, settings.checkpointEverySteps(),
                2 * goodEvery), health, ledger, new StepGuard.Trainer() {
                    @Override
                    public TrainerState state(long probationUntil, double goodRateScale) {
                        return OnlineTrainer.this.state(probationUntil, goodRateScale);
                    }

                    @Override
                    public double recentLoss() {
                        return stats.summary().recentLoss();
                    }

                    @Override
                    public void goodStateSaved() {
                        if (OnlineTrainer.this.tuner != null) {
                            OnlineTrainer.this.tuner.markGood();
                        }
                    }
                }, state.step(), state.probationUntil(), state.goodRateScale());
    }

    /** The state of a run that has not started. */
    public static TrainerState freshState() {
        return new TrainerState(0, StreamPosition.START, Map.of(), new PrequentialStats(1).state());
    }

    @Override
    public void run() {
        String model = network.spec().name();
        LOG.infof("Training model %s (%d parameters) from step %d on thread %s", model, network.parameterCount(),
                step, Thread.currentThread().getName());
        publish(true);
        try {
            while (!stopping) {
                trainOnce(IDLE_WAIT_NANOS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            // the failed batch's rows are out of the buffer but not in the model: no checkpoint may claim them
            failed = true;
            LOG.errorf(e, "Training of model %s stopped at step %d: the training thread failed", model, step);
            throw e;
        } finally {
            runRequests();
            publishIfBehind();
            LOG.infof("Training of model %s stopped at step %d", model, step);
        }
    }

    /**
     * Trains one mini-batch if examples arrive within {@code maxWaitNanos}; returns whether it did. The
     * training thread's loop body, public so benchmarks and tests can drive the trainer without a thread.
     */
    public boolean trainOnce(long maxWaitNanos) throws InterruptedException {
        runRequests();
        GroupRounds rounds = group;
        if (rounds != null && !inGroup(rounds, maxWaitNanos)) {
            return false;
        }
        guard.beforeStep(step + 1);
        completed.clear();
        sources.clear();
        refused.clear();
        // judged by the network as it is now: a rollback's network judges what would change it
        batcher.fill(batch, completed, sources, recordGuard.use(network.featureRange()), refused,
                settings.linger().toNanos(), maxWaitNanos);
        for (RecordGuard.Refusal refusal : refused) {
            ledger.refuse(refusal.source(), "out-of-range", refusal.cause());
        }
        if (batch.isEmpty() && rounds != null) {
            // a quiet member still ends its rounds (with what it has), so that the others are not held up
            if (rounds.dueAtRest()) {
                endRound(rounds);
            }
            publishIfBehind();
            return false;
        }
        if (batch.isEmpty()) {
            // at rest (the live edge): what has been trained becomes the good state, so that its checkpoint, and
            // the offsets committed after it, catch up with the stream
            guard.markGoodIfHealthy(step, stats.summary().recentLoss());
            publishIfBehind();
            checkpointIfDue();
            return false;
        }
        long start = System.nanoTime();
        boolean sampled = health.sampleAt(step + 1);
        double scaleBefore = network.learningRateScale();
        StepResult result = guard.step(batch, sources, sampled, step + 1);
        // the other members learn from the very rows the serving one was trained on (dead letters left out)
        TunerStep population = tuner != null && result.finite() && !guard.trained().isEmpty()
                ? tuner.step(guard.trained(), result) : null;
        long elapsed = System.nanoTime() - start;
        step++;
        if (result.finite()) {
            boolean classification = network.spec().isClassification();
            stats.add(result.train(), classification);
            holdoutStats.add(result.holdout(), classification);
            gate.observe(guard.trained());
            double scale = network.learningRateScale();
            // an explosion the monitors reported and answered with a back-off: undone to before it, at the new rate
            boolean explosion = health.afterStep(step, result, stats.summary(), holdoutStats.summary(), network)
                    && network.learningRateScale() < scale;
            if (population != null && health.lastDriftStep() == step) {
                // a drift is the tuner's signal to search upwards again, beside the serving member's warm restart
                population = population.withExploits(tuner.respread());
            }
            // the records of this step are done with before a good state (and so a checkpoint) can include them
            ledger.settle(completed);
            guard.afterStep(step, explosion, sampled, result.train().meanLoss());
        } else {
            ledger.settle(completed);
        }
        if (population != null) {
            followTuner(population, scaleBefore);
        }
        long monitors = System.nanoTime() - start - elapsed;
        tellListeners(new StepReport(step, result.train(), network.learningRate(), elapsed, monitors, result));
        if (gate.due(step)) {
            publish(false);
        }
        if (rounds == null) {
            checkpointIfDue();
        } else if (rounds.stepped(batch.size()) && batcher.partialHead() == null) {
            // only at a record boundary: the offsets of a round then say exactly which records its average holds
            endRound(rounds);
        }
        return true;
    }

    /**
     * Trains as a member of {@code rounds}' group from now on (before {@link #run}): nothing is trained until the
     * first generation is joined.
     */
    public void trainInGroup(GroupRounds rounds) {
        this.group = rounds;
    }

    /** Whether this trainer is in a generation of its group it has joined; joins a pending one first. */
    private boolean inGroup(GroupRounds rounds, long maxWaitNanos) {
        if (rounds.joinPending()) {
            // what was read in the generation before is read again from where the group starts
            batcher.discard();
            GroupRounds.Start start = rounds.join(network, ledger.position().next(), step);
            if (start != null) {
                network.assign(start.replica());
                ledger.restart(start.offsets());
                // above every member's last step: no checkpoint of the group is ever written twice under one step
                step = Math.max(step, start.step()) + 1;
                guard.reset(network, step);
            }
        }
        if (rounds.joined()) {
            return true;
        }
        // between generations: what arrives is read again once the next one is joined
        batcher.discard();
        LockSupport.parkNanos(Math.min(maxWaitNanos, IDLE_WAIT_NANOS / 5));
        return false;
    }

    /** Ends this member's part of the round; on an average, trains on from it, and the writer checkpoints it. */
    private void endRound(GroupRounds rounds) {
        GroupRounds.Average average = rounds.endRound(network, ledger.position().next(), step);
        if (average == null) {
            return;
        }
        ledger.adopt(average.offsets());
        step = Math.max(step, average.step());
        guard.reset(network, step);
        if (average.writer() && checkpoints.due(step)) {
            groupCheckpoint = checkpoints.checkpoint(step, holdoutStats.summary(), this::snapshot);
        }
    }

    /**
     * After the population's step: its moves published, a back-off of the serving member's rate passed on to the
     * others, and the best member serving from now on.
     */
    private void followTuner(TunerStep population, double scaleBefore) {
        boolean servingCopied = false;
        for (Exploit exploit : population.exploits()) {
            servingCopied |= tuner.member(exploit.member()) == network;
            Map<String, Object> detail = new LinkedHashMap<>();
            detail.put("reason", "tuner-" + switch (exploit.reason()) {
                case "ranked" -> "exploit";
                case "drift" -> "drift";
                default -> "non-finite";
            });
            detail.put("learning-rate", Map.of("from", exploit.previousRate(), "to", exploit.rate()));
            detail.put("member", exploit.member());
            detail.put("donor", exploit.donor());
            detail.put("member-recent-loss", finiteOrNull(exploit.memberLoss()));
            detail.put("donor-recent-loss", finiteOrNull(exploit.donorLoss()));
            health.events().publish("hyperparameters-changed", step, detail);
        }
        double scaleAfter = network.learningRateScale();
        if (!servingCopied && scaleAfter < scaleBefore) {
            tuner.scaleOthers(scaleAfter / scaleBefore);
        }
        if (tuner.leader() != network) {
            network = tuner.leader();
            // the new serving member's state is the one to go back to (the whole population's is saved with it)
            guard.reset(network, step);
        }
        tunerView = tuner.view();
    }

    private static Double finiteOrNull(double value) {
        return Double.isFinite(value) ? value : null;
    }

    private void tellListeners(StepReport report) {
        for (TrainingListener listener : listeners) {
            try {
                listener.onStep(report);
            } catch (RuntimeException e) {
                // a watcher's bug must not stop training
                LOG.errorf(e, "Training listener %s failed at step %d of model %s; training goes on",
                        listener.getClass().getName(), step, network.spec().name());
            }
        }
    }

    private void publishIfBehind() {
        if (gate.behind(step)) {
            publish(false);
        }
    }

    private void publish(boolean force) {
        guard.ensureFinite(step);
        gate.publish(network, step, force);
    }

    /** Publishes withheld so far: by the finite-output check or the promotion rule (0 with {@code always}). */
    public long withheldSnapshots() {
        return gate.withheld();
    }

    private void checkpointIfDue() {
        guard.ensureFinite(step);
        if (checkpoints.due(guard.goodStep())) {
            checkpoint();
        }
    }

    /**
     * Hands a snapshot of the last good state to the checkpointer, unless its step is saved or being saved already.
     * {@code now} (an operator's checkpoint, a graceful stop): the current state first becomes the good one, if the
     * model is healthy.
     */
    private CompletableFuture<Long> checkpoint(boolean now) {
        guard.ensureFinite(step);
        if (now) {
            guard.markGoodIfHealthy(step, stats.summary().recentLoss());
        }
        return checkpoint();
    }

    private CompletableFuture<Long> checkpoint() {
        return checkpoints.checkpoint(guard.goodStep(), holdoutStats.summary(), this::goodSnapshot);
    }

    private TrainingSnapshot goodSnapshot(boolean best) {
        TrainingSnapshot snapshot = guard.goodSnapshot(network.spec().name(), stats.summary(), holdoutStats.summary(),
                best);
        return tuner == null ? snapshot : snapshot.withTuner(tuner.captureGood());
    }

    /**
     * What a checkpoint taken now holds: the last good state and the trainer's state then (see
     * {@link StepGuard}), with the tuner's population then; called on the training thread, or on any thread once it
     * has ended.
     */
    public TrainingSnapshot checkpointSnapshot() {
        return goodSnapshot(false);
    }

    /** The whole state at this step; called on the training thread, or on any thread once it has ended. */
    public TrainingSnapshot snapshot() {
        return snapshot(false);
    }

    private TrainingSnapshot snapshot(boolean best) {
        return new TrainingSnapshot(network.spec().name(), state(guard.probationUntil(), guard.goodScale()), stats.summary(),
                holdoutStats.summary(), best, network.capture(), tuner == null ? null : tuner.capture());
    }

    private TrainerState state(long probationUntil, double goodRateScale) {
        return new TrainerState(step, ledger.position(batcher.partialHead()), ledger.records(), stats.state(),
                holdoutStats.state(), health.state(), checkpoints.bestHoldoutLoss(), probationUntil,
                Double.isNaN(goodRateScale) ? null : goodRateScale);
    }

    private void runRequests() {
        Runnable request;
        while ((request = requests.poll()) != null) {
            request.run();
        }
    }

    private <T> CompletableFuture<T> onTrainingThread(Supplier<CompletableFuture<T>> action) {
        CompletableFuture<T> result = new CompletableFuture<>();
        requests.add(() -> {
            try {
                action.get().whenComplete((value, error) -> {
                    if (error != null) {
                        result.completeExceptionally(error);
                    } else {
                        result.complete(value);
                    }
                });
            } catch (RuntimeException e) {
                result.completeExceptionally(e);
            }
        });
        return result;
    }

    /**
     * Asks for a checkpoint of the current step, taken between two steps; completes with its step once it is
     * durable. Also what a graceful stop uses, after the loop has ended ({@link #checkpointAfterStop}).
     */
    public CompletableFuture<Long> checkpointNow() {
        if (!checkpoints.enabled()) {
            return CompletableFuture.failedFuture(new IllegalStateException("no checkpoint store"));
        }
        if (group != null) {
            return lastGroupCheckpoint();
        }
        return onTrainingThread(() -> checkpoint(true));
    }

    /** Saves the final state; only once the training thread has ended. */
    public CompletableFuture<Long> checkpointAfterStop() {
        if (failed) {
            return CompletableFuture.failedFuture(new IllegalStateException(
                    "the training thread failed mid-step; the last checkpoint stands"));
        }
        if (group != null) {
            return lastGroupCheckpoint();
        }
        runRequests();
        return checkpoint(true);
    }

    // a member's own state between two averages is no checkpoint of the group: the last average's stands
    private CompletableFuture<Long> lastGroupCheckpoint() {
        CompletableFuture<Long> last = groupCheckpoint;
        return last != null ? last : CompletableFuture.failedFuture(new IllegalStateException("a member of a group"
                + " of trainers checkpoints only the group's averages, as the generation's writer; it has written none"));
    }

    /**
     * Replaces the model and its optimizer state with a saved one, between two steps. The step counter
     * does not go back: the replacement counts as one step, so that the served version changes and no
     * checkpoint folder is ever written twice; the stream position does not go back either (the records
     * trained since the saved state are dropped from the model, which is what a rollback is for). The
     * result is checkpointed at once; the future completes with the new step once that is durable.
     */
    public CompletableFuture<Long> rollBackTo(SavedTraining saved) {
        if (group != null) {
            return CompletableFuture.failedFuture(new IllegalStateException("a member of a group of trainers cannot"
                    + " roll back alone: the next average would undo it; stop the group and restore the checkpoint"));
        }
        return onTrainingThread(() -> {
            if (!saved.network().stateFinite()) {
                return CompletableFuture.failedFuture(new IllegalArgumentException(
                        "the saved model's parameters or optimizer state are not finite"));
            }
            if (tuner != null) {
                // the saved population, or (a checkpoint without one) a new population from the saved model
                tuner = saved.tuner() != null ? saved.tuner()
                        : PopulationTuner.from(saved.network(), tuner.settings(), saved.network().engine());
                network = tuner.leader();
                tunerView = tuner.view();
            } else {
                network = saved.network();
            }
            if (saved.state().holdout() != null) {
                holdoutStats.restore(saved.state().holdout(), network.spec().isClassification());
            }
            health.restore(saved.state().health());
            stats.restore(saved.state().prequential(), network.spec().isClassification());
            step++;
            guard.reset(network, step);
            // a rollback is an operator's decision: served at once, and the champion the next ones are judged against
            publish(true);
            return checkpoints.enabled() ? checkpoint(false) : CompletableFuture.completedFuture(step);
        });
    }

    /**
     * Sets the learning rate, between two steps (the schedule keeps its shape, scaled); completes with the rate
     * in force afterwards. Fails for an optimizer without a learning rate.
     */
    public CompletableFuture<Double> setLearningRate(double rate) {
        return onTrainingThread(() -> {
            // with the tuner: every member at the operator's rate, no exploits until the rate is set back to auto
            if (tuner != null ? !tuner.pin(rate) : !network.setLearningRate(rate)) {
                return CompletableFuture.failedFuture(new IllegalArgumentException(
                        "the optimizer " + network.spec().optimizer().type() + " has no learning rate to set, or its"
                                + " schedule's rate is 0 at this step"));
            }
            tunerView = tuner == null ? null : tuner.view();
            return CompletableFuture.completedFuture(network.learningRate());
        });
    }

    /**
     * Hands the learning rate back to the tuner after an operator pinned it (between two steps): the members start
     * from the pinned rate and the exploits resume. Fails when the spec does not say {@code learning-rate: auto}.
     */
    public CompletableFuture<Double> tuneLearningRate() {
        return onTrainingThread(() -> {
            if (tuner == null) {
                return CompletableFuture.failedFuture(new IllegalArgumentException("the model spec names a fixed"
                        + " learning rate; the service tunes it only when the spec says learning-rate: auto"));
            }
            tuner.unpin();
            tunerView = tuner.view();
            return CompletableFuture.completedFuture(network.learningRate());
        });
    }

    /** The tuner after its last step (null without {@code learning-rate: auto}); for readers on any thread. */
    public TunerView tuner() {
        return tunerView;
    }

    /** Asks the loop to finish its current step and return. */
    public void stop() {
        stopping = true;
        batcher.release();
    }

    public long step() {
        return step;
    }

    public PrequentialStats.Summary stats() {
        return stats.summary();
    }

    /** Scores of the held-out examples (never trained on). */
    public PrequentialStats.Summary holdoutStats() {
        return holdoutStats.summary();
    }

    public TrainingHealth health() {
        return health;
    }

    /** The learning rate in force (NaN for an optimizer without one); read between steps, it is a good guess. */
    public double learningRate() {
        return network.learningRate();
    }

    /** The engine the model trains on. */
    public EngineKind engine() {
        return network.engine();
    }


    /** How far into the stream the model has come (partly trained records are known only between steps). */
    public StreamPosition position() {
        return ledger.position();
    }

    /**
     * Forgets a partition whose saved offsets turned out not to belong to the topic read now (it was created
     * again): the next checkpoint must not carry them. Called when partitions are assigned, before any of
     * the partition's new records are trained.
     */
    public void forget(String partition) {
        ledger.forget(partition);
    }

    /** Records fully trained, per partition, since the run began (across restarts). */
    public Map<String, Long> recordsByPartition() {
        return ledger.records();
    }
}
