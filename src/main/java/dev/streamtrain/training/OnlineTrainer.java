package dev.streamtrain.training;

import org.jboss.logging.Logger;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.Supplier;

import dev.streamtrain.model.MiniBatch;
import dev.streamtrain.model.ModelSnapshot;
import dev.streamtrain.model.Network;
import dev.streamtrain.model.StepResult;
import dev.streamtrain.training.health.HealthSettings;
import dev.streamtrain.training.health.TrainingHealth;

/**
 * The online training loop, run by one dedicated thread: take a mini-batch from the {@link ExampleBatcher},
 * evaluate it and train on it (test-then-train), tell the listeners, record how far into the stream the
 * model has come, let the {@link TrainingHealth} monitors look at the step, publish a serving snapshot every
 * few steps and hand a checkpoint snapshot to the {@link Checkpointer} every few steps or seconds.
 * <p>
 * A step whose loss, parameters or optimizer state are not finite is undone before anything can see it: the
 * network goes back to the last good in-memory state (parameters, optimizer state, step counters, normaliser)
 * and the good mini-batches trained since are trained again, so that the model is exactly what it was before
 * the bad batch; then the learning rate is backed off and the records of the batch are quarantined
 * ({@link RecordHandle#quarantined}). A network that is not finite is never published and never checkpointed. Requests from other threads (checkpoint now, roll back)
 * are queued and carried out between two steps.
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
    private final ServedModel served;
    private final List<TrainingListener> listeners;
    private final Settings settings;
    private final Checkpointer checkpointer;
    private final MiniBatch batch;
    private final List<RecordHandle> completed = new ArrayList<>();
    private final List<RecordHandle> sources = new ArrayList<>();
    // records with rows in a batch that was thrown away: quarantined, not acknowledged, once complete
    private final Set<RecordHandle> tainted = Collections.newSetFromMap(new IdentityHashMap<>());
    private final PrequentialStats stats;
    private final PrequentialStats holdoutStats;
    // the raw mini-batches trained since the last good state, with their steps: replayed after a rollback
    private final List<MiniBatch> replay = new ArrayList<>();
    private final List<Long> replaySteps = new ArrayList<>();
    private final MiniBatch scratch;
    private int replayCount;
    private long goodStep;
    private long seenAdjustments;
    private final TrainingHealth health;
    private double bestCheckpointHoldoutLoss;
    private final Map<String, Long> next = new ConcurrentHashMap<>();
    private final Map<String, Long> records = new ConcurrentHashMap<>();
    // records partly trained before a restore: they stay partial until their tail has been trained
    private final Map<String, StreamPosition.Partial> restoredPartials = new ConcurrentHashMap<>();
    private final Queue<Runnable> requests = new ConcurrentLinkedQueue<>();
    private volatile Network network;
    private volatile long step;
    private volatile boolean stopping;
    private volatile boolean failed;
    private long publishedStep = -1;
    private long publishedAtNanos;
    // promotion not-worse: the serving snapshot, and the recent held-out rows a candidate is judged against it on
    private ModelSnapshot champion;
    private HeldOutWindow window;
    private volatile long withheld;
    private boolean withholding;
    private long checkpointedStep;
    private long checkpointedAtNanos = System.nanoTime();
    private CompletableFuture<Long> lastCheckpoint;

    /** A trainer that continues from {@code state} (a fresh run: step 0, {@link StreamPosition#START}). */
    public OnlineTrainer(Network network, TrainerState state, ExampleBatcher batcher, ServedModel served,
                         List<TrainingListener> listeners, Settings settings, Checkpointer checkpointer) {
        this(network, state, batcher, served, listeners, settings, checkpointer,
                new TrainingHealth(HealthSettings.defaults(), TrainingEvents.NONE));
    }

    /** As above, watched by {@code health}. */
    public OnlineTrainer(Network network, TrainerState state, ExampleBatcher batcher, ServedModel served,
                         List<TrainingListener> listeners, Settings settings, Checkpointer checkpointer,
                         TrainingHealth health) {
        this.network = network;
        this.health = health;
        this.batcher = batcher;
        this.served = served;
        this.listeners = List.copyOf(listeners);
        this.settings = settings;
        this.checkpointer = checkpointer;
        this.batch = new MiniBatch(network.spec().batchSize(), network.spec().inputs(), network.spec().labelWidth());
        this.scratch = new MiniBatch(network.spec().batchSize(), network.spec().inputs(), network.spec().labelWidth());
        this.stats = new PrequentialStats(settings.recentHalfLife());
        this.holdoutStats = new PrequentialStats(health.settings().holdoutHalfLife());
        this.step = state.step();
        this.checkpointedStep = state.step();
        next.putAll(state.position().next());
        restoredPartials.putAll(state.position().partials());
        records.putAll(state.recordsByPartition());
        stats.restore(state.prequential(), network.spec().isClassification());
        if (state.holdout() != null) {
            holdoutStats.restore(state.holdout(), network.spec().isClassification());
        }
        health.restore(state.health());
        bestCheckpointHoldoutLoss = state.bestCheckpointHoldoutLoss() == null ? Double.NaN
                : state.bestCheckpointHoldoutLoss();
        if (!network.stateFinite()) {
            throw new IllegalStateException("the network to train from is not finite");
        }
        markGood();
        if (state.step() > 0) {
            // restored from a checkpoint of this very step: nothing to save until the next one
            lastCheckpoint = CompletableFuture.completedFuture(state.step());
        }
    }

    /** The state of a run that has not started. */
    public static TrainerState freshState() {
        return new TrainerState(0, StreamPosition.START, Map.of(), new PrequentialStats(1).state(), null, null, null);
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
        completed.clear();
        sources.clear();
        batcher.fill(batch, completed, sources, settings.linger().toNanos(), maxWaitNanos);
        if (batch.isEmpty()) {
            publishIfBehind();
            checkpointIfDue();
            return false;
        }
        long start = System.nanoTime();
        MiniBatch raw = rawCopy();
        StepResult result = network.step(batch, health.sampleAt(step + 1), step + 1);
        long elapsed = System.nanoTime() - start;
        step++;
        if (result.finite()) {
            keepForReplay(raw, step);
            stats.add(result.train(), network.spec().isClassification());
            holdoutStats.add(result.holdout(), network.spec().isClassification());
            keepHeldOut(raw, result);
            health.afterStep(step, result, stats.summary(), holdoutStats.summary(), network);
            // the optimizer state is checked every sampled step and whenever the state is kept as good
            if (health.saveGoodAt(step) || network.adjustments() != seenAdjustments) {
                markGood();
            } else if (health.sampleAt(step) && !network.stateFinite()) {
                recoverState();
            }
        } else {
            undo(result);
        }
        long monitors = System.nanoTime() - start - elapsed;
        tellListeners(new StepReport(step, result.train(), network.learningRate(), elapsed, monitors, result));
        for (RecordHandle record : completed) {
            next.put(record.partition(), record.offset() + 1);
            restoredPartials.computeIfPresent(record.partition(), (p, partial) ->
                    partial.offset() <= record.offset() ? null : partial);
            records.merge(record.partition(), 1L, Long::sum);
            if (tainted.remove(record)) {
                record.quarantined("non-finite", "rows of this record were in the mini-batch of step " + step
                        + ", whose loss or parameters were not finite; the batch was not trained on");
            } else {
                record.trained();
            }
        }
        if (step - publishedStep >= settings.publishEverySteps()
                || System.nanoTime() - publishedAtNanos >= settings.publishInterval().toNanos()) {
            publish();
        }
        checkpointIfDue();
        return true;
    }

    /**
     * A non-finite step: back to the last good state and the good batches since trained again (the model is
     * then exactly what it was before this batch, dropout's randomness aside), the batch's records
     * quarantined, the health told (which backs the learning rate off).
     */
    private void undo(StepResult result) {
        Map<String, Object> detail = new LinkedHashMap<>();
        detail.put("non-finite", result.nonFinite());
        if (result.fitted()) {
            int kept = replayCount;
            List<Long> left = rollBackAndReplay();
            detail.put("action", "rolled back to the last good state of step " + goodStep + " and trained the "
                    + (kept - left.size()) + " good batches since again"
                    + (left.isEmpty() ? "" : "; left out the batches of steps " + left));
        } else {
            detail.put("action", "step discarded before the update");
        }
        tainted.addAll(sources);
        detail.put("quarantined-records", sources.size());
        detail.put("records", sources.stream().limit(10).map(r -> r.partition() + "@" + r.offset()).toList());
        health.nonFinite(step, detail, network);
        // the back-off is an adjustment: the good state from now on carries it
        markGood();
    }

    /**
     * Back to the last good state, then the batches kept since trained again, each checked whole (parameters
     * and optimizer state); a batch after which the state is not finite is left out. Returns the steps of the
     * batches left out (none, unless the optimizer state went bad unseen between two checks, or dropout).
     */
    private List<Long> rollBackAndReplay() {
        List<Long> left = new ArrayList<>();
        boolean[] skip = new boolean[replayCount];
        retry:
        while (true) {
            network.restoreGood();
            for (int i = 0; i < replayCount; i++) {
                if (skip[i]) {
                    continue;
                }
                scratch.copyFrom(replay.get(i));
                if (!network.step(scratch, false, replaySteps.get(i)).finite() || !network.stateFinite()) {
                    skip[i] = true;
                    left.add(replaySteps.get(i));
                    continue retry;
                }
            }
            return left;
        }
    }

    /**
     * The optimizer state went non-finite without the parameters (an overflowing squared gradient makes Adam's
     * second moment infinite and freezes the weights): found by a check after the step that did it. Back to the
     * last good state, replaying the batches since and leaving out the one(s) that did it. Their records were
     * acknowledged already and are not dead-lettered; the event names their steps.
     */
    private void recoverState() {
        int kept = replayCount;
        List<Long> left = rollBackAndReplay();
        Map<String, Object> detail = new LinkedHashMap<>();
        detail.put("non-finite", "optimizer-state");
        detail.put("action", "rolled back to the last good state of step " + goodStep + ", trained the "
                + (kept - left.size()) + " good batches since again and left out the batches of steps " + left);
        detail.put("quarantined-records", 0);
        health.nonFinite(step, detail, network);
        // the back-off: the state after it is the good one (rollBackAndReplay checked every step it replayed)
        saveGood();
    }

    /**
     * The state now is the one to go back to, once checked whole; the batches kept for replay are no longer
     * needed. A good state is never anything but finite: what a rollback goes back to is always usable.
     */
    private void markGood() {
        if (!network.stateFinite()) {
            recoverState();
            return;
        }
        saveGood();
    }

    private void saveGood() {
        network.saveGood();
        goodStep = step;
        replayCount = 0;
        seenAdjustments = network.adjustments();
    }

    // a copy of the mini-batch as it came (the step normalises and augments it in place)
    private MiniBatch rawCopy() {
        if (replayCount == replay.size()) {
            replay.add(new MiniBatch(batch.capacity(), batch.inputs(), batch.labelWidth()));
            replaySteps.add(0L);
        }
        MiniBatch copy = replay.get(replayCount);
        copy.copyFrom(batch);
        return copy;
    }

    private void keepForReplay(MiniBatch raw, long trainedAt) {
        replaySteps.set(replayCount, trainedAt);
        replayCount++;
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
        if (publishedStep != step) {
            publish();
        }
    }

    // JSON has no NaN
    private static Object jsonNumber(double value) {
        return Double.isFinite(value) ? value : "not a number";
    }

    private static double meanLoss(dev.streamtrain.model.BatchScore score) {
        return score.weightSum() > 0 ? score.lossSum() / score.weightSum() : Double.NaN;
    }

    private void keepHeldOut(MiniBatch raw, StepResult result) {
        if (!settings.promotion().notWorse() || result.holdout().examples() == 0) {
            return;
        }
        if (window == null) {
            window = new HeldOutWindow(settings.promotion().window(), raw.inputs(), raw.labelWidth());
        }
        window.add(raw);
    }

    private void publish() {
        publish(false);
    }

    /** Publishes the model for serving, unless the promotion rule withholds it ({@code force}: never withheld). */
    private void publish(boolean force) {
        if (!network.stateFinite()) {
            recoverState();
        }
        Promotion promotion = settings.promotion();
        ModelSnapshot snapshot;
        if (!force && promotion.notWorse() && champion != null) {
            if (window == null || window.size() < promotion.minExamples()) {
                deferPublish();
                return;
            }
            snapshot = network.snapshot(step);
            MiniBatch recent = window.asBatch();
            double candidate = meanLoss(snapshot.scoreHeldOut(recent));
            double serving = meanLoss(champion.scoreHeldOut(recent));
            if (!promotion.allows(candidate, serving)) {
                withheld++;
                deferPublish();
                if (!withholding) {
                    withholding = true;
                    health.events().publish("snapshot-withheld", step, Map.of("candidate-holdout-loss",
                            jsonNumber(candidate), "serving-holdout-loss", jsonNumber(serving), "serving-version", champion.version(),
                            "examples", recent.size(), "tolerance", promotion.tolerance()));
                }
                return;
            }
            if (withholding) {
                withholding = false;
                LOG.infof("Model %s: promoting again at step %d (held-out loss %.4f vs the serving version %s's %.4f"
                        + " on the %d most recent held-out examples)", network.spec().name(), step, candidate,
                        champion.version(), serving, recent.size());
            }
        } else {
            snapshot = network.snapshot(step);
        }
        served.publish(snapshot);
        // judged on a private copy: scoring the served one would hold its graph, and requests, up
        champion = promotion.notWorse() ? network.snapshot(step) : null;
        publishedStep = step;
        publishedAtNanos = System.nanoTime();
    }

    // decided (or not yet decidable) for this step: asked again at the next publish time, not at every step
    private void deferPublish() {
        publishedStep = step;
        publishedAtNanos = System.nanoTime();
    }

    /** Publishes that the promotion rule withheld (always 0 with {@code always}). */
    public long withheldSnapshots() {
        return withheld;
    }

    private void checkpointIfDue() {
        if (checkpointer == null || step == checkpointedStep) {
            return;
        }
        if ((settings.checkpointEverySteps() > 0 && step - checkpointedStep >= settings.checkpointEverySteps())
                || System.nanoTime() - checkpointedAtNanos >= settings.checkpointInterval().toNanos()) {
            checkpoint();
        }
    }

    /** Hands a snapshot of this step to the checkpointer, unless this step is saved or being saved already. */
    private CompletableFuture<Long> checkpoint() {
        if (lastCheckpoint == null || checkpointedStep != step) {
            // "best": the lowest recent held-out loss of any checkpoint, once the held-out figures mean something
            double holdout = holdoutStats.summary().recentLoss();
            boolean best = holdoutStats.summary().examples() >= health.settings().overfitting().minExamples()
                    && Double.isFinite(holdout)
                    && (Double.isNaN(bestCheckpointHoldoutLoss) || holdout < bestCheckpointHoldoutLoss);
            if (best) {
                bestCheckpointHoldoutLoss = holdout;
            }
            if (!network.stateFinite()) {
                recoverState();
            }
            lastCheckpoint = checkpointer.save(snapshot(best));
            checkpointedStep = step;
            checkpointedAtNanos = System.nanoTime();
        }
        return lastCheckpoint;
    }

    /** The whole state at this step; called on the training thread, or on any thread once it has ended. */
    public TrainingSnapshot snapshot() {
        return snapshot(false);
    }

    private TrainingSnapshot snapshot(boolean best) {
        return new TrainingSnapshot(network.spec().name(), state(), stats.summary(), holdoutStats.summary(), best,
                network.capture());
    }

    private TrainerState state() {
        Map<String, StreamPosition.Partial> partials = new HashMap<>(restoredPartials);
        StreamPosition.Partial head = batcher.partialHead();
        if (head != null) {
            partials.put(head.partition(), head);
        }
        return new TrainerState(step, new StreamPosition(next, partials), records, stats.state(),
                holdoutStats.state(), health.state(), bestCheckpointHoldoutLoss);
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
        if (checkpointer == null) {
            return CompletableFuture.failedFuture(new IllegalStateException("no checkpoint store"));
        }
        return onTrainingThread(this::checkpoint);
    }

    /** Saves the final state; only once the training thread has ended. */
    public CompletableFuture<Long> checkpointAfterStop() {
        if (failed) {
            return CompletableFuture.failedFuture(new IllegalStateException(
                    "the training thread failed mid-step; the last checkpoint stands"));
        }
        runRequests();
        return checkpoint();
    }

    /**
     * Replaces the model and its optimizer state with a saved one, between two steps. The step counter
     * does not go back: the replacement counts as one step, so that the served version changes and no
     * checkpoint folder is ever written twice; the stream position does not go back either (the records
     * trained since the saved state are dropped from the model, which is what a rollback is for). The
     * result is checkpointed at once; the future completes with the new step once that is durable.
     */
    public CompletableFuture<Long> rollBackTo(SavedTraining saved) {
        return onTrainingThread(() -> {
            if (!saved.network().stateFinite()) {
                return CompletableFuture.failedFuture(new IllegalArgumentException(
                        "the saved model's parameters or optimizer state are not finite"));
            }
            network = saved.network();
            if (saved.state().holdout() != null) {
                holdoutStats.restore(saved.state().holdout(), network.spec().isClassification());
            }
            health.restore(saved.state().health());
            markGood();
            stats.restore(saved.state().prequential(), network.spec().isClassification());
            step++;
            // a rollback is an operator's decision: served at once, and the champion the next ones are judged against
            publish(true);
            return checkpointer == null ? CompletableFuture.completedFuture(step) : checkpoint();
        });
    }

    /**
     * Sets the learning rate, between two steps (the schedule keeps its shape, scaled); completes with the rate
     * in force afterwards. Fails for an optimizer without a learning rate.
     */
    public CompletableFuture<Double> setLearningRate(double rate) {
        return onTrainingThread(() -> {
            if (!network.setLearningRate(rate)) {
                return CompletableFuture.failedFuture(new IllegalArgumentException(
                        "the optimizer " + network.spec().optimizer().type() + " has no learning rate to set, or its"
                                + " schedule's rate is 0 at this step"));
            }
            return CompletableFuture.completedFuture(network.learningRate());
        });
    }

    /** Asks the loop to finish its current step and return. */
    public void stop() {
        stopping = true;
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

    /** How far into the stream the model has come (partly trained records are known only between steps). */
    public StreamPosition position() {
        return new StreamPosition(next, Map.of());
    }

    /**
     * Forgets a partition whose saved offsets turned out not to belong to the topic read now (it was created
     * again): the next checkpoint must not carry them. Called when partitions are assigned, before any of
     * the partition's new records are trained.
     */
    public void forget(String partition) {
        next.remove(partition);
        restoredPartials.remove(partition);
    }

    /** Records fully trained, per partition, since the run began (across restarts). */
    public Map<String, Long> recordsByPartition() {
        return Map.copyOf(records);
    }
}
