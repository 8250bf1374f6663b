package dev.streamtrain.training;

import org.jboss.logging.Logger;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import dev.streamtrain.model.MiniBatch;
import dev.streamtrain.model.Network;
import dev.streamtrain.model.StepResult;
import dev.streamtrain.training.health.TrainingHealth;

/**
 * Keeps the model out of states it cannot come back from. It remembers a last good state (parameters, optimizer
 * state, step counters, normaliser; {@link Network#saveGood()}) and the raw mini-batches trained since, and:
 * <ul>
 *   <li>a step whose loss or parameters are not finite, or whose loss no learning classifier has (above
 *       10 ln C: a loss explosion), is judged on the last good state. Rows whose loss is not
 *       finite there either (or absurdly above the typical row's) are the records' fault: those records are
 *       dead-lettered as {@code non-finite}, the model goes back to exactly what it was (good state plus the
 *       batches since, replayed) and the rest of the batch is trained. Otherwise the model broke: back to the
 *       good state, the learning rate backed off, the batches since trained again at the new rate, and the batch
 *       tried again — until it trains, or the back-off can go no lower and the batch is left out (its records
 *       acknowledged: good records are never dead-lettered for a broken model);</li>
 *   <li>an explosion reported by the health monitors is undone the same way: back to the good state, which
 *       predates it, and the batches since trained again at the backed-off rate;</li>
 *   <li>a ReLU layer that dies ({@value #DEAD_FRACTION} of its units fire for no row of a sampled batch) where the
 *       good state's fired is undone the same way; a finite, sane loss hides it, and the model cannot come back
 *       from it by itself;</li>
 *   <li>an optimizer state gone non-finite without the parameters is found at the next check and undone by a
 *       replay that leaves out the batch after which it went bad.</li>
 * </ul>
 * The good state is refreshed every {@code goodStateEverySteps} steps, but only while the model is healthy
 * (finite, no explosion in progress, a sane loss, no layer died since) and not within {@code probationSteps} of a
 * run-time change of the learning rate or the optimizer state, or of the guard's own rollback: after an outside
 * change the state just before it is saved, so that an operator's or a monitor's change that turns out explosive
 * can be undone; after a rollback the replay at the lower rate must prove itself first. At rest (no data) the
 * state becomes the good one if its loss is sane and it is not on probation, so that checkpoints and committed
 * offsets catch up with the stream. Used on the training thread.
 */
final class StepGuard {

    private static final Logger LOG = Logger.getLogger(StepGuard.class);
    /** A row whose loss on the good state is this many times the typical row's (plus 1) is the record's fault. */
    static final double ABSURD_LOSS_FACTOR = 1e6;
    /** A ReLU layer with this share of its units firing for no row of a batch is (all but) dead. */
    static final double DEAD_FRACTION = 0.95;
    /** Fewer rows than this cannot show a dead layer (one row may leave every unit of a small layer at zero). */
    private static final int MIN_ROWS_FOR_DEATH = 8;
    /** At the end of a probation, the model is judged on this many of the most recent kept batches ... */
    static final int PROBATION_BATCHES = 10;
    /** ... and fails it when its loss there is this much (relative) above the good state's. */
    static final double PROBATION_TOLERANCE = 0.1;
    /** Beyond this many kept batches the good state is refreshed anyway (if finite), to bound memory. */
    private static final int MAX_KEPT_FACTOR = 10;

    /**
     * The good state is refreshed every {@code goodStateEverySteps} steps and every {@code checkpointEverySteps}
     * (0: not), never within {@code probationSteps} of a run-time change.
     */
    record Settings(int goodStateEverySteps, int checkpointEverySteps, int probationSteps) {
    }

    /** What the trainer is at the moment a good state is saved: its whole state, and its typical row loss. */
    interface Trainer {
        TrainerState state(long probationUntil, double goodRateScale);

        /** The recent prequential loss (NaN before any): the loss of a typical row under the current model. */
        double recentLoss();

        /** The network's state has just been saved as the good one (the tuner saves its other members'). */
        default void goodStateSaved() {
        }
    }

    private final Settings settings;
    private final TrainingHealth health;
    private final StreamLedger ledger;
    private final Trainer trainer;
    private final MiniBatch current;
    private final MiniBatch scratch;
    private TrainerState goodState;
    private double goodTypicalLoss;
    // whether the good state had every ReLU layer alive on the batch it was saved after (a dead layer since is a death)
    private boolean goodAlive = true;
    // the learning-rate scale of the good state: a rate raised since (an operator's, a recovery) is undone with it
    private double goodScale = Double.NaN;
    // the learning-rate scale the last step was taken at (NaN before one): what the state before a change was reached at
    private double lastStepScale;
    // the last probation's judgement: the loss now and the good state's, on the same recent rows
    private double[] probationLosses = {Double.NaN, Double.NaN};
    // the latest trained batch with enough rows to tell a dead layer by (a short batch cannot)
    private final MiniBatch probe;
    // the batch just judged: whether its loss on the good state is one a learning model has
    private boolean saneOnGood;
    private final List<MiniBatch> replay = new ArrayList<>();
    private final List<Long> replaySteps = new ArrayList<>();
    private Network network;
    private int replayCount;
    private long goodStep;
    private long seenAdjustments;
    private long probationUntil = Long.MIN_VALUE;

    /**
     * Starts from the trainer's state at {@code step} as the good one ({@code probationUntil} and the scale it was
     * reached at as restored; null: as now).
     */
    StepGuard(Network network, Settings settings, TrainingHealth health, StreamLedger ledger, Trainer trainer,
              long step, Long probationUntil, Double goodRateScale) {
        this.network = network;
        this.settings = settings;
        this.health = health;
        this.ledger = ledger;
        this.trainer = trainer;
        var spec = network.spec();
        this.current = new MiniBatch(spec.batchSize(), spec.inputs(), spec.labelWidth());
        this.scratch = new MiniBatch(spec.batchSize(), spec.inputs(), spec.labelWidth());
        this.probe = new MiniBatch(spec.batchSize(), spec.inputs(), spec.labelWidth());
        this.probationUntil = probationUntil == null ? Long.MIN_VALUE : probationUntil;
        // the restored state was reached at the scale saved with it, whatever the network's configuration says now
        this.lastStepScale = goodRateScale == null ? network.learningRateScale() : goodRateScale;
        markGood(step, lastStepScale);
    }

    /** The network was replaced (an operator's rollback): its state at {@code step} is the good one from now on. */
    void reset(Network replacement, long step) {
        network = replacement;
        markGood(step);
    }

    /**
     * Before the mini-batch of {@code step} is taken: after a run-time change (an operator's rate, a warm restart,
     * a back-off's recovery, reset moments) the state before it is the one to go back to, and what follows it is on
     * probation (no good state is saved within {@code probationSteps}).
     */
    void beforeStep(long step) {
        if (network.adjustments() != seenAdjustments) {
            probationUntil = step - 1 + settings.probationSteps();
            // the state before the change was reached at the rate before it
            markGood(step - 1, lastStepScale);
        }
    }

    /**
     * Test-then-train on {@code batch} at {@code step}, guarded as the class says; {@code sources} names each row's
     * record. Returns the step's result: finite, or not when the batch was left out or every row was dead-lettered.
     * The raw rows that were trained stay readable through {@link #trained()} until the next step.
     */
    StepResult step(MiniBatch batch, List<RecordHandle> sources, boolean sample, long step) {
        // the step normalises and augments the batch in place: a copy as it came, to judge, retry and replay
        current.copyFrom(batch);
        boolean[] dropped = new boolean[current.size()];
        for (int attempt = 1; ; attempt++) {
            StepResult result = network.step(batch, sample, step);
            boolean wrecked = result.finite() && !sane(result.train());
            if (result.finite() && !wrecked) {
                keep(step);
                String dead = sample ? deadLayer(result) : null;
                // at the same rate the same batches would kill it again: undone only when the rate can go lower
                if (dead != null && goodAlive && canBackOff() && goodAliveOnProbe()) {
                    undoDeath(step, dead);
                }
                return result;
            }
            boolean[] blamed = blame();
            if (blamed != null) {
                deadLetter(blamed, dropped, sources, result, step);
                if (current.isEmpty()) {
                    return result;
                }
            } else if (wrecked && !saneOnGood) {
                // as hard for the good state (a change of the stream, labels that flipped): no explosion. The step
                // stands: back to where it was, and taken again
                replayKept();
                batch.copyFrom(current);
                result = network.step(batch, sample, step);
                keep(step);
                return result;
            } else if (!backOffAndReplay(result, step, attempt)) {
                return result;
            }
            batch.copyFrom(current);
        }
    }

    /** The raw rows of the last step's batch that were trained (held-out rows included). */
    MiniBatch trained() {
        return current;
    }

    /**
     * After a finite step: refreshes the good state when due and the model healthy, or checks the optimizer state
     * on a sampled step; {@code explosion}: the monitors found an explosion at this step and backed the rate off,
     * so the model goes back to the good state and the batches since are trained again at the new rate.
     */
    void afterStep(long step, boolean explosion, boolean sampled, double trainLoss) {
        lastStepScale = network.learningRateScale();
        if (explosion) {
            undoExplosion(step);
        } else if (step == probationUntil && replayCount > 0 && canBackOff() && worseThanGood(step)) {
            failedProbation(step);
        } else if (due(step) && healthy(trainLoss)) {
            markGood(step);
        } else if (replayCount >= MAX_KEPT_FACTOR * Math.max(1, settings.goodStateEverySteps())
                || (sampled && !network.stateFinite())) {
            markGood(step);
        }
    }

    /**
     * The end of a probation: whether the model now scores the most recent kept batches (rows it has trained on,
     * and held-out rows) worse than the good state before the change or rollback does — by more than
     * {@value #PROBATION_TOLERANCE} relative. A change that helps, or a drift the model has followed, makes the model
     * better on the recent rows; one that makes the rate too high for the model, worse. On the training thread;
     * the model is exactly as it was afterwards (the good state plus the batches since, replayed).
     */
    private boolean worseThanGood(long step) {
        int from = Math.max(0, replayCount - PROBATION_BATCHES);
        double now = keptLoss(from);
        network.restoreGood();
        double before = keptLoss(from);
        probationLosses = new double[] {now, before};
        if (Double.isFinite(now) && Double.isFinite(before)
                && now > (1 + PROBATION_TOLERANCE) * before + PROBATION_TOLERANCE * 0.01) {
            return true;
        }
        replayKept();
        return false;
    }

    // the mean loss, under the network as it is, of the rows of the kept batches from index from on
    private double keptLoss(int from) {
        double sum = 0;
        int rows = 0;
        for (int i = from; i < replayCount; i++) {
            for (double loss : network.rowLosses(replay.get(i))) {
                sum += loss;
                rows++;
            }
        }
        return rows == 0 ? Double.NaN : sum / rows;
    }

    /**
     * The change on probation made the model worse than the state before it: back to that state (the network is
     * there already), the learning rate backed off, the batches since trained again at the new rate, and another
     * probation. An operator's rate that is too high for the model is undone this way, as the monitors' back-off
     * would, even when nothing exploded.
     */
    private void failedProbation(long step) {
        int kept = replayCount;
        String backOff = backOff() + undoRaise();
        List<Long> left = replayKept();
        onProbation(step);
        Map<String, Object> detail = new LinkedHashMap<>();
        detail.put("reason", "worse-after-change");
        detail.put("recent-loss", probationLosses[0]);
        detail.put("good-state-loss", probationLosses[1]);
        detail.put("action", "rolled back to the last good state of step " + goodStep + " (before the change) and"
                + " trained the " + (kept - left.size()) + " batches since again at learning rate "
                + network.learningRate());
        detail.put("answer", backOff);
        LOG.warnf("Model %s, step %d: worse on the recent rows than before the last change (loss %s against %s); %s",
                network.spec().name(), step, probationLosses[0], probationLosses[1], detail.get("action"));
        health.events().publish("rolled-back", step, detail);
    }

    // positions that depend on the step alone, so that a restored run saves where the uninterrupted one did
    private boolean due(long step) {
        return step >= probationUntil && (multiple(step, settings.goodStateEverySteps())
                || multiple(step, settings.checkpointEverySteps()));
    }

    private static boolean multiple(long step, int every) {
        return every > 0 && step % every == 0;
    }

    /**
     * After the guard's own rollback and back-off the model is on probation as after an operator's change: the
     * replay at the lower rate may be on its way to the same failure, so no good state is taken until a few samples
     * have seen it healthy.
     */
    private void onProbation(long step) {
        probationUntil = Math.max(probationUntil, step + settings.probationSteps());
    }

    long probationUntil() {
        return probationUntil;
    }

    private boolean healthy(double trainLoss) {
        return stable() && sane(trainLoss) && !diedSinceGood();
    }

    // a ReLU layer all but dead on the last batch, where the good state's layers fired: not a good state
    private boolean diedSinceGood() {
        return goodAlive && deadOn(probe);
    }

    // whether the network as it is now has an (all but) dead ReLU layer on the rows of the probe
    private boolean deadOn(MiniBatch rows) {
        return rows.size() >= MIN_ROWS_FOR_DEATH && network.deadestLayer(rows).getValue() >= DEAD_FRACTION;
    }

    // the good state judged on the latest rows (it may have been saved before there were enough to judge it on):
    // false, and remembered, when its layers were dead already, so that going back to it would not help
    private boolean goodAliveOnProbe() {
        network.restoreGood();
        goodAlive = !deadOn(probe);
        replayKept();
        return goodAlive;
    }

    // the sampled step's first ReLU layer all but dead (null if none, or too few rows to say)
    private String deadLayer(StepResult result) {
        if (result.layers() == null || current.size() < MIN_ROWS_FOR_DEATH) {
            return null;
        }
        for (var layer : result.layers()) {
            if (layer.deadFraction() >= DEAD_FRACTION) {
                return layer.layer();
            }
        }
        return null;
    }

    /**
     * A ReLU layer died at this step ({@value #DEAD_FRACTION} of its units fire for no row, so almost no signal
     * and no gradient flows through it and the model cannot learn again), where the good state's was alive: the classic casualty of a learning rate too high for
     * the model. Back to the good state with the learning rate backed off, and the batches since trained again.
     */
    private void undoDeath(long step, String layer) {
        onProbation(step);
        double before = network.learningRate();
        String backOff = backOff() + undoRaise();
        int kept = replayCount;
        List<Long> left = replayKept();
        Map<String, Object> detail = new LinkedHashMap<>();
        detail.put("reason", "dead-layer");
        detail.put("layer", layer);
        detail.put("action", "rolled back to the last good state of step " + goodStep + " (its layers fired) and"
                + " trained the " + (kept - left.size()) + " batches since again at learning rate "
                + network.learningRate() + (left.isEmpty() ? "" : " (left out the batches of steps " + left + ")"));
        detail.put("answer", backOff);
        LOG.warnf("Model %s, step %d: ReLU layer %s died at learning rate %s; %s", network.spec().name(), step, layer,
                before, detail.get("action"));
        health.events().publish("rolled-back", step, detail);
    }

    /**
     * After a rollback to a good state that predates a raise of the learning rate (an operator's rate, a recovery's
     * climb): the rate goes back to the good state's too, if the back-off left it higher. Halving a rate set a
     * thousand times too high would take ten failures; the raise is what the rollback undoes.
     */
    private String undoRaise() {
        double scale = network.learningRateScale();
        if (!(goodScale < scale) || !network.scaleLearningRate(goodScale / scale)) {
            return "";
        }
        seenAdjustments = network.adjustments();
        return "; the learning rate back to the good state's, x" + goodScale + " of the schedule: "
                + network.learningRate();
    }

    private boolean canBackOff() {
        var settings = health.settings();
        double scale = network.learningRateScale();
        return settings.backoffFactor() < 1 && Double.isFinite(network.learningRate())
                && Math.max(settings.minLearningRateScale(), scale * settings.backoffFactor()) < scale;
    }

    // the learning rate x the back-off factor, not below the floor; the change is the guard's, not an operator's
    private String backOff() {
        var settings = health.settings();
        double scale = network.learningRateScale();
        double next = Math.max(settings.minLearningRateScale(), scale * settings.backoffFactor());
        if (!canBackOff() || !network.scaleLearningRate(next / scale)) {
            return "none (the learning rate cannot be backed off further)";
        }
        seenAdjustments = network.adjustments();
        return "learning rate x" + settings.backoffFactor() + " (now x" + next + " of the schedule: "
                + network.learningRate() + ")";
    }

    /** No explosion is being answered and no non-finite step is recent: a state worth going back to. */
    boolean stable() {
        return health.stable();
    }

    // a step whose batch scored a loss no learning classifier has: the model has exploded (finite or not)
    private boolean sane(dev.streamtrain.model.BatchScore score) {
        return score.examples() == 0 || sane(score.meanLoss());
    }

    // a classifier whose mean cross-entropy is ten times that of guessing is wrecked, not learning
    private boolean sane(double loss) {
        if (!Double.isFinite(loss)) {
            return false;
        }
        var spec = network.spec();
        return !spec.isClassification() || loss <= 10 * Math.log(Math.max(2, spec.outputs()));
    }

    /**
     * Judges the raw batch on the last good state (which it restores): the rows to blame, or null when the model
     * is at fault. A row is blamed when its loss there is not finite or {@value #ABSURD_LOSS_FACTOR} times the
     * typical row's — the recent prequential loss when the good state was saved, or the median of this batch
     * before any — provided the typical loss is itself sane (a wrecked good state judges nothing).
     */
    private boolean[] blame() {
        network.restoreGood();
        double[] losses = network.rowLosses(current);
        saneOnGood = sane(mean(losses));
        double typical = Double.isFinite(goodTypicalLoss) ? goodTypicalLoss : median(losses);
        if (!sane(typical)) {
            return null;
        }
        double bound = ABSURD_LOSS_FACTOR * (Math.abs(typical) + 1);
        boolean[] blamed = new boolean[losses.length];
        boolean any = false;
        for (int i = 0; i < losses.length; i++) {
            blamed[i] = !Double.isFinite(losses[i]) || losses[i] > bound;
            any |= blamed[i];
        }
        return any ? blamed : null;
    }

    // the records of the blamed rows are dead-lettered, the model made what it was again, the rest of the batch kept
    private void deadLetter(boolean[] blamed, boolean[] dropped, List<RecordHandle> sources, StepResult result,
                            long step) {
        Set<RecordHandle> records = new LinkedHashSet<>();
        int[] original = new int[current.size()];
        for (int o = 0, i = 0; o < dropped.length; o++) {
            if (!dropped[o]) {
                original[i++] = o;
            }
        }
        int rows = 0;
        for (int i = 0; i < blamed.length; i++) {
            if (blamed[i]) {
                dropped[original[i]] = true;
                records.add(sources.get(original[i]));
                rows++;
            }
        }
        List<Long> left = replayKept();
        scratch.copyFrom(current, blamed);
        current.copyFrom(scratch);
        String cause = rows + " of the " + blamed.length + " rows of the mini-batch of step " + step + " have a loss"
                + " that is not finite (or absurd) even on the last good model (step " + goodStep + "): the records"
                + " are at fault, not the model";
        ledger.quarantine(List.copyOf(records), "non-finite", cause);
        Map<String, Object> detail = new LinkedHashMap<>();
        detail.put("non-finite", what(result));
        detail.put("blamed", "records");
        detail.put("action", "dead-lettered the " + records.size() + " records of the " + rows + " rows at fault,"
                + " kept the model as it was" + (left.isEmpty() ? "" : " (left out the batches of steps " + left + ")")
                + " and trained the other " + current.size() + " rows");
        detail.put("quarantined-records", records.size());
        detail.put("records", records.stream().limit(10).map(r -> r.partition() + "@" + r.offset()).toList());
        detail.put("answer", "none (the model is healthy)");
        LOG.warnf("Model %s, step %d: %s", network.spec().name(), step, detail);
        health.events().publish("non-finite-loss", step, detail);
    }

    /**
     * The model broke: the learning rate is backed off and the batches since the good state trained again at the
     * new rate. False when the back-off cannot go lower (or is off): the batch is then left out.
     */
    private boolean backOffAndReplay(StepResult result, long step, int attempt) {
        onProbation(step);
        double before = network.learningRate();
        Map<String, Object> detail = new LinkedHashMap<>();
        detail.put("non-finite", what(result));
        detail.put("blamed", "model");
        detail.put("attempt", attempt);
        detail.put("quarantined-records", 0);
        int kept = replayCount;
        health.nonFinite(step, detail, network);
        String undone = undoRaise();
        seenAdjustments = network.adjustments();
        boolean lower = network.learningRate() < before;
        List<Long> left = replayKept();
        String replayed = "rolled back to the last good state of step " + goodStep + undone + "; trained the "
                + (kept - left.size()) + " batches since again at learning rate " + network.learningRate()
                + (left.isEmpty() ? "" : " (left out the batches of steps " + left + ")");
        health.events().publish("rolled-back", step, Map.of("reason", result.finite() ? "loss-explosion"
                : "non-finite-" + result.nonFinite(),
                "action", replayed + (lower ? "; the batch is tried again" : "; the learning rate can go no lower:"
                        + " the batch of step " + step + " is left out, its records acknowledged")));
        if (!lower) {
            LOG.errorf("Model %s, step %d: the batch is not finite even at learning rate %s after a rollback; it is"
                    + " left out", network.spec().name(), step, network.learningRate());
        }
        return lower;
    }

    // what went wrong: "loss" or "parameters" (not finite), or "loss-explosion" (finite, but no learning model's)
    private static String what(StepResult result) {
        return result.finite() ? "loss-explosion" : result.nonFinite();
    }

    private void undoExplosion(long step) {
        onProbation(step);
        int kept = replayCount;
        String undone = undoRaise();
        List<Long> left = replayKept();
        seenAdjustments = network.adjustments();
        health.events().publish("rolled-back", step, Map.of("reason", "exploding-gradient",
                "action", "rolled back to the last good state of step " + goodStep + " (before the explosion)"
                        + undone + "; trained the " + (kept - left.size()) + " batches since again at learning rate "
                        + network.learningRate()));
    }

    /**
     * The optimizer state went non-finite without the parameters (an overflowing squared gradient makes Adam's
     * second moment infinite and freezes the weights): found by a check after the step that did it. Back to the
     * last good state, replaying the batches since and leaving out the one(s) that did it. Their records were
     * acknowledged already and are not dead-lettered; the event names their steps.
     */
    void recoverState(long step) {
        int kept = replayCount;
        List<Long> left = replayKept();
        Map<String, Object> detail = new LinkedHashMap<>();
        detail.put("non-finite", "optimizer-state");
        detail.put("action", "rolled back to the last good state of step " + goodStep + ", trained the "
                + (kept - left.size()) + " good batches since again and left out the batches of steps " + left);
        detail.put("quarantined-records", 0);
        health.nonFinite(step, detail, network);
        // the back-off: the state after it is the good one (the replay checked every step it took)
        saveGood(step, network.learningRateScale());
    }

    /**
     * The state now is the one to go back to, once checked whole; the batches kept for replay are no longer
     * needed. A good state is never anything but finite: what a rollback goes back to is always usable.
     */
    void markGood(long step) {
        markGood(step, network.learningRateScale());
    }

    // as above; scale: the learning-rate scale the state was reached at
    private void markGood(long step, double scale) {
        if (!network.stateFinite()) {
            recoverState(step);
            return;
        }
        saveGood(step, scale);
    }

    /** Makes sure the state is finite before it is published or saved (an unseen optimizer overflow is undone). */
    void ensureFinite(long step) {
        if (!network.stateFinite()) {
            recoverState(step);
        }
    }

    private void saveGood(long step, double scale) {
        network.saveGood();
        trainer.goodStateSaved();
        goodStep = step;
        replayCount = 0;
        seenAdjustments = network.adjustments();
        goodScale = scale;
        goodState = trainer.state(probationUntil, goodScale);
        goodTypicalLoss = trainer.recentLoss();
        // unknown (taken as alive) until there is a batch large enough to judge it on
        goodAlive = !deadOn(probe);
    }

    /**
     * What a checkpoint holds: the last good state and the trainer's state then. A checkpoint is never taken of
     * a state that could still be rolled back, so a run restored from it goes the way the uninterrupted run went.
     */
    TrainingSnapshot goodSnapshot(String model, PrequentialStats.Summary summary, PrequentialStats.Summary holdout,
                                  boolean best) {
        return new TrainingSnapshot(model, goodState, summary, holdout, best, network.captureGood());
    }

    /**
     * Marks the current state good if its loss is sane (at rest, an operator's checkpoint, a graceful stop). The
     * alarms are not asked: every step before has been judged and any explosion answered already, and an alarm that
     * stays raised while no data comes must not hold the checkpoint, and the committed offsets, back for ever.
     */
    void markGoodIfHealthy(long step, double trainLoss) {
        if (step != goodStep && step >= probationUntil && sane(trainLoss) && !diedSinceGood()) {
            markGood(step);
        }
    }

    // the batch trained at this step joins those a rollback replays, and is the typical rows' reference
    private void keep(long step) {
        if (current.size() >= MIN_ROWS_FOR_DEATH) {
            probe.copyFrom(current);
        }
        if (replayCount == replay.size()) {
            replay.add(new MiniBatch(current.capacity(), current.inputs(), current.labelWidth()));
            replaySteps.add(0L);
        }
        replay.get(replayCount).copyFrom(current);
        replaySteps.set(replayCount, step);
        replayCount++;
    }

    /**
     * Back to the last good state, then the batches kept since trained again, each checked whole (parameters and
     * optimizer state); a batch after which the state is not finite is left out (and dropped from the kept ones).
     * Returns the steps of the batches left out.
     */
    private List<Long> replayKept() {
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
            compact(skip);
            return left;
        }
    }

    // the batches left out of a replay are left out of later ones too
    private void compact(boolean[] skip) {
        int to = 0;
        for (int i = 0; i < replayCount; i++) {
            if (!skip[i]) {
                if (to != i) {
                    MiniBatch kept = replay.get(i);
                    replay.set(i, replay.get(to));
                    replay.set(to, kept);
                    replaySteps.set(to, replaySteps.get(i));
                }
                to++;
            }
        }
        replayCount = to;
    }

    /** The learning-rate scale the good state was reached at (a raise since is undone with a rollback). */
    double goodScale() {
        return goodScale;
    }

    long goodStep() {
        return goodStep;
    }

    private static double mean(double[] values) {
        double sum = 0;
        for (double v : values) {
            sum += v;
        }
        return values.length == 0 ? Double.NaN : sum / values.length;
    }

    private static double median(double[] values) {
        double[] finite = Arrays.stream(values).filter(Double::isFinite).sorted().toArray();
        if (finite.length < values.length / 2 + 1) {
            return Double.NaN;
        }
        return finite[finite.length / 2];
    }
}
