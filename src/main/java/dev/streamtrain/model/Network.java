package dev.streamtrain.model;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;
import org.nd4j.linalg.activations.impl.ActivationReLU;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.schedule.ISchedule;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;


import dev.streamtrain.model.spec.ModelSpec;
import dev.streamtrain.model.spec.NetworkBuilder;

/**
 * The network being trained: the engine that trains the spec's layers (streamtrain's lean engine, or DL4J's
 * computation graph, the reference, when configured by name: {@link TrainingEngine}), its online input normaliser and its optimizer
 * state, with the test-then-train step, the learning-rate adjustments and the last good state around them. Owned by the training thread alone; serving reads {@link ModelSnapshot}s of it.
 */
public final class Network {

    private final ModelSpec spec;
    private final TrainingEngine engine;
    private final ExampleScorer scorer;
    private final Augmenter augmenter;
    private final List<String> layerNames;
    private final float[] errors;
    private final boolean[] trainable;
    private final OnlineNormalizer normalizer;
    private final OnlineNormalizer normalizerBeforeStep;
    private GoodState good;
    private AdjustedSchedule schedule;
    private long adjustments;
    /** Score from the training forward pass where that is the inference pass (see {@link #step}); tests compare. */
    private boolean fuseScoring = true;

    /** A new network for the spec on the lean engine. */
    public Network(ModelSpec spec) {
        this(spec, EngineKind.LEAN);
    }

    /**
     * A new network for the spec on the engine asked for (the lean one, or DL4J's graph as the reference); both start
     * from the same parameters.
     */
    public Network(ModelSpec spec, EngineKind engine) {
        this(spec, engine, null, new OnlineNormalizer(spec.inputs()));
    }

    private Network(ModelSpec spec, EngineKind kind, ComputationGraph restored, OnlineNormalizer normalizer)
            throws EngineStateException {
        this.spec = spec;
        try {
            // the lean engine covers every spec the parser accepts (EveryAcceptedSpecTest): one it refused would be a
            // bug, which fails the start with the reason (an UnsupportedSpecException) instead of training elsewhere
            this.engine = kind == EngineKind.DL4J
                    ? restored == null ? Dl4jEngine.create(spec) : new Dl4jEngine(spec, restored)
                    : restored == null ? LeanEngine.create(spec) : LeanEngine.restore(spec, restored);
        } catch (IOException e) {
            throw new EngineStateException(e.getMessage(), e);
        }
        this.normalizer = normalizer;
        this.scorer = new ExampleScorer(spec.loss(), spec.outputs());
        this.augmenter = spec.augmentation().enabled() ? new Augmenter(spec.augmentation(), spec.seed()) : null;
        this.layerNames = TrainingEngine.trainableLayers(engine.configuration());
        this.schedule = scheduleOf(engine.configuration());
        this.errors = new float[spec.batchSize()];
        this.trainable = new boolean[spec.batchSize()];
        this.normalizerBeforeStep = normalizer.copy();
    }

    /** A restored state that does not fit the engine's layout. */
    static final class EngineStateException extends IllegalStateException {
        EngineStateException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** The engine the network trains on. */
    public EngineKind engine() {
        return engine.kind();
    }

    /**
     * Whether {@link #step} may score a batch from the training forward pass when that computes what the inference
     * pass does (the default); off, every step makes both passes. The results are the same either way.
     */
    void fuseScoring(boolean fuse) {
        this.fuseScoring = fuse;
    }

    /** Whether the engine can score from its training forward pass (the lean engine without dropout). */
    boolean engineFusesScoring() {
        return engine.fusesScoring();
    }

    /** Test-then-train on one mini-batch without sampling; the score of the trained rows. */
    public BatchScore trainStep(MiniBatch batch) {
        return step(batch, false, 0).train();
    }

    /**
     * Test-then-train on one mini-batch: fold it into the normaliser's running statistics and normalise it,
     * score every row with the current weights in inference mode, then take one optimizer step on the rows
     * that are not held out (augmented, if the spec says so). A batch whose loss is not finite is not trained
     * on and leaves the normaliser as it was; parameters that are not finite after the step are reported, and
     * it is the caller's to {@link #restoreGood()}. On a sampled step the per-layer gradient, update and
     * activation signals are measured as well ({@code step} seeds the augmentation), and on the first step
     * that trains after the learning rate was raised (by an operator, a recovery or a warm restart), so that
     * the health monitors see at once what the higher rate does.
     */
    public StepResult step(MiniBatch batch, boolean sampleAsked, long step) {
        // the first step after a raise of the learning rate: the schedule remembers it, so a restored run measures too
        boolean sample = sampleAsked || (schedule != null && schedule.getRaisedAt() == engine.iteration());
        int n = batch.size();
        // held-out rows last: the normaliser and the optimizer step see only the rows trained on
        int trainCount = batch.holdOutLast();
        float[] x = batch.features();
        if (spec.normalize()) {
            normalizerBeforeStep.copyFrom(normalizer);
            normalizer.update(x, trainCount);
            normalizer.apply(x, n);
        }
        long start = System.nanoTime();
        Map<String, INDArray> activations = sample ? new HashMap<>() : null;
        // one forward pass for scoring and training where they compute the same: every row trained on as it is
        // scored (none held out, no augmentation), no dropout; sampled steps keep the inference pass's activations
        boolean fused = fuseScoring && !sample && augmenter == null && trainCount == n && engine.fusesScoring();
        float[] out = fused ? engine.outputForFit(x, n) : engine.output(x, n, activations);

        double lossSum = 0, weightSum = 0, holdoutLossSum = 0, holdoutWeightSum = 0;
        int correct = 0, holdoutCorrect = 0, trained = 0;
        float[] y = batch.labels();
        float[] w = batch.weights();
        boolean[] heldOut = batch.holdout();
        for (int i = 0; i < n; i++) {
            double loss = scorer.loss(out, y, i);
            boolean right = spec.isClassification() && scorer.correct(out, y, i);
            trainable[i] = !heldOut[i];
            if (heldOut[i]) {
                holdoutLossSum += w[i] * loss;
                holdoutWeightSum += w[i];
                holdoutCorrect += right ? 1 : 0;
            } else {
                lossSum += w[i] * loss;
                weightSum += w[i];
                correct += right ? 1 : 0;
                errors[trained++] = spec.isClassification() ? (right ? 0f : 1f) : (float) loss;
            }
        }
        long scored = System.nanoTime();
        BatchScore holdout = new BatchScore(holdoutLossSum, holdoutWeightSum, holdoutCorrect, n - trained, Double.NaN);
        if (!Double.isFinite(lossSum) || !Double.isFinite(holdoutLossSum)) {
            if (spec.normalize()) {
                normalizer.copyFrom(normalizerBeforeStep);
            }
            return new StepResult(new BatchScore(lossSum, weightSum, correct, trained, Double.NaN), holdout,
                    false, "loss", errors, scored - start, 0, 0, null);
        }
        if (trained == 0) {
            return new StepResult(new BatchScore(0, 0, 0, 0, Double.NaN), holdout, false, null, errors,
                    scored - start, 0, 0, null);
        }
        if (augmenter != null) {
            augmenter.apply(x, y, trained, spec.inputs(), spec.outputs(), trainable, step);
        }
        // the trained rows are the first ones: an optimizer step on them alone (the mean is over them)
        long fitStart = System.nanoTime();
        TrainingEngine.Fit fit = fused ? engine.fitOutput(y, batch.weighted() ? w : null, trained, sample)
                : engine.fit(x, y, batch.weighted() ? w : null, trained, sample);
        double trainLoss = fit.score();
        // the optimizer state is checked less often, by the caller (stateFinite): it is twice the parameters' size
        boolean finite = Double.isFinite(trainLoss) && parametersFinite();
        List<LayerHealth> layers = sample && finite ? layerHealth(activations, fit.norms()) : null;
        return new StepResult(new BatchScore(lossSum, weightSum, correct, trained, trainLoss), holdout, true,
                finite ? null : "parameters", errors, scored - start,
                fit.backwardDoneNanos() - fitStart, fit.updateDoneNanos() - fit.backwardDoneNanos(), layers);
    }

    private List<LayerHealth> layerHealth(Map<String, INDArray> activations, Map<String, double[]> norms) {
        List<LayerHealth> result = new ArrayList<>(layerNames.size());
        for (String name : layerNames) {
            double[] norm = norms.getOrDefault(name, new double[] {Double.NaN, Double.NaN});
            INDArray activation = activations.get(name);
            double dead = Double.NaN;
            double std = Double.NaN;
            if (activation != null && activation.rank() == 2) {
                // one copy and plain loops: cheaper than a handful of ND4J ops, each with its own overhead
                int rows = (int) activation.rows();
                int units = (int) activation.columns();
                // feedForward's activations are detached, row-major arrays: read them without another copy
                float[] a = (activation.isView() || activation.ordering() != 'c'
                        || activation.data().length() != activation.length() ? activation.dup('c') : activation)
                        .data().asFloat();
                double sum = 0;
                double sumOfSquares = 0;
                for (float v : a) {
                    sum += v;
                    sumOfSquares += (double) v * v;
                }
                double mean = sum / a.length;
                std = Math.sqrt(Math.max(0, sumOfSquares / a.length - mean * mean));
                if (isRelu(name)) {
                    // a unit is dead on this batch when no example made it fire
                    int deadUnits = 0;
                    for (int j = 0; j < units; j++) {
                        boolean fired = false;
                        for (int i = 0; i < rows && !fired; i++) {
                            fired = a[i * units + j] > 0;
                        }
                        deadUnits += fired ? 0 : 1;
                    }
                    dead = (double) deadUnits / units;
                }
            }
            result.add(new LayerHealth(name, norm[0], norm[1], dead, std));
        }
        return List.copyOf(result);
    }

    private boolean isRelu(String layer) {
        var conf = ((LayerVertex) engine.configuration().getVertices().get(layer)).getLayerConf().getLayer();
        return (conf instanceof BaseLayer b && b.getActivationFn() instanceof ActivationReLU)
                || (conf instanceof ActivationLayer a && a.getActivationFn() instanceof ActivationReLU);
    }

    /** The layers with parameters, input to output: the layers {@link LayerHealth} reports on. */
    public List<String> layerNames() {
        return layerNames;
    }

    /**
     * Copies the current weights (batch-norm statistics included) and normaliser into an immutable snapshot
     * for serving. Unlike {@code ComputationGraph.clone()} it leaves the optimizer state and the training
     * listeners behind: serving needs neither, and Adam's state is twice the size of the weights.
     */
    public ModelSnapshot snapshot(long step) {
        return snapshot(step, Instant.now());
    }

    /** A snapshot dated {@code takenAt}: a serving replica dates a checkpoint's weights by the checkpoint. */
    public ModelSnapshot snapshot(long step, Instant takenAt) {
        // a dense stack predicts in plain Java with no lock; other specs on a graph of their own
        return ModelSnapshot.of(spec, engine.parameters(), normalizer.copy(), step, takenAt);
    }

    /**
     * Copies the network's whole state, for a checkpoint, without serialising it: the configuration (which
     * carries the step count that drives the schedules), the parameters, the optimizer state (Adam's moments
     * etc.) and the normaliser. Quick enough for the training thread (array copies); the returned capture
     * is serialised elsewhere and must be closed to free its native memory.
     */
    public Capture capture() {
        INDArray updaterState = engine.updaterState();
        // as text: a clone shares the updaters' schedules, which later adjustments change in place
        ComputationGraphConfiguration configuration = ComputationGraphConfiguration.fromJson(
                engine.configuration().toJson());
        // the JSON leaves out the counters, and the iteration count drives Adam's bias correction and schedules
        configuration.setIterationCount(engine.iteration());
        configuration.setEpochCount(engine.epoch());
        return new Capture(configuration, engine.parameters().dup(),
                updaterState == null ? null : updaterState.dup(), normalizer.toBytes());
    }

    /** The network's whole state, serialised at once (see {@link #capture()}). */
    public State state() {
        try (Capture capture = capture()) {
            return capture.serialize();
        }
    }

    /** Rebuilds a network from a serialised state on the lean engine. */
    public static Network restore(ModelSpec spec, State state) throws IOException {
        return restore(spec, state, EngineKind.LEAN);
    }

    /**
     * Rebuilds a network from a serialised state, on the engine asked for:
     * training continues exactly where it stopped. Either engine's state restores into either.
     */
    public static Network restore(ModelSpec spec, State state, EngineKind engine) throws IOException {
        ComputationGraph graph;
        try {
            graph = ModelSerializer.restoreComputationGraph(new ByteArrayInputStream(state.graph()), true);
        } catch (RuntimeException e) {
            throw new IOException("the saved network cannot be read: " + e.getMessage(), e);
        }
        if (graph.getNumInputArrays() != 1 || graph.numParams() != countParams(spec)) {
            throw new IOException("the saved network does not have the shape of the spec '" + spec.name() + "'");
        }
        try {
            return new Network(spec, engine, graph, OnlineNormalizer.fromBytes(state.normalizer(), spec.inputs()));
        } catch (EngineStateException e) {
            throw new IOException(e.getMessage(), e);
        }
    }

    private static long countParams(ModelSpec spec) {
        ComputationGraph probe = new ComputationGraph(NetworkBuilder.configuration(spec));
        probe.init();
        return probe.numParams();
    }

    /** The serialised state of a network: DL4J's model zip (with updater) and the normaliser's bytes. */
    public record State(byte[] graph, byte[] normalizer) {
    }

    /** The learning rate the optimizer uses at its current step; NaN for an optimizer without one (adadelta). */
    public double learningRate() {
        return engine.learningRate();
    }

    /**
     * Multiplies the learning rate by {@code factor} from now on (a back-off after an explosion or a non-finite
     * step). The optimizer's state is kept. False for an optimizer without a learning rate (adadelta).
     */
    public boolean scaleLearningRate(double factor) {
        AdjustedSchedule schedule = adjustedSchedule();
        if (schedule == null) {
            return false;
        }
        adjust(schedule.scaled(factor));
        return true;
    }

    /**
     * Multiplies the learning-rate scale by {@code factor} (> 1) up to its ceiling (1, or the scale of the rate an
     * operator last set): a recovery after back-offs. False when the scale is already at the ceiling or the
     * optimizer has no learning rate.
     */
    public boolean raiseLearningRateScale(double factor) {
        AdjustedSchedule schedule = adjustedSchedule();
        if (schedule == null || schedule.getScale() >= schedule.getCeiling()) {
            return false;
        }
        adjust(schedule.scaled(Math.min(factor, schedule.getCeiling() / schedule.getScale())));
        return true;
    }

    /** The highest learning-rate scale a recovery climbs back to: 1, or that of the rate an operator last set. */
    public double learningRateCeiling() {
        AdjustedSchedule schedule = adjustedSchedule();
        return schedule == null ? 1.0 : schedule.getCeiling();
    }

    /** The adjustments of the learning rate in force (back-offs, recoveries, warm restart, ceiling); null without one. */
    public AdjustedSchedule learningRateAdjustment() {
        return adjustedSchedule();
    }

    /** The factor a warm restart multiplies the learning rate by at the current step (1 when none is running). */
    public double learningRateBoost() {
        AdjustedSchedule schedule = adjustedSchedule();
        return schedule == null ? 1.0 : schedule.boostAt(engine.iteration());
    }

    // every change of the rate from outside the steps goes through here; a higher rate is measured on its first step
    private void adjust(AdjustedSchedule next) {
        int iteration = engine.iteration();
        schedule = next.getScale() * next.boostAt(iteration) > schedule.getScale() * schedule.boostAt(iteration)
                ? next.raisedAt(iteration) : next;
        engine.setSchedule(schedule);
        adjustments++;
    }

    /**
     * A warm restart: multiplies the learning rate by {@code factor} now, falling back linearly to the schedule's
     * own over {@code steps} steps (an answer to concept drift). False for an optimizer without a learning rate.
     */
    public boolean boostLearningRate(double factor, int steps) {
        AdjustedSchedule schedule = adjustedSchedule();
        if (schedule == null) {
            return false;
        }
        adjust(schedule.boosted(factor, engine.iteration(), steps));
        return true;
    }

    /**
     * Sets the learning rate in force now to {@code rate}, keeping the schedule's shape (its later values scale
     * the same way) and ending a warm restart. False for an optimizer without a learning rate, or while the
     * schedule's own rate is 0.
     */
    public boolean setLearningRate(double rate) {
        if (schedule == null) {
            return false;
        }
        double base = schedule.getBase().valueAt(engine.iteration(), engine.epoch());
        if (!(base > 0)) {
            return false;
        }
        // the operator's rate replaces every adjustment so far, a warm restart's boost included, and is the
        // ceiling of later recoveries
        adjust(schedule.set(rate / base));
        return true;
    }

    /** The product of every learning-rate back-off and recovery so far (1 when none), or an operator's rate's scale. */
    public double learningRateScale() {
        AdjustedSchedule schedule = adjustedSchedule();
        return schedule == null ? 1.0 : schedule.getScale();
    }

    /**
     * Makes this network a copy of {@code donor}'s training state, in place: parameters, optimizer state (Adam's
     * moments etc.), step counters, normaliser and learning-rate adjustments. Both must be of the same spec. What a
     * population's exploit needs: {@link #restore} from {@link #state()} does the same through a serialised model,
     * which costs a hundred times more.
     */
    public void copyStateFrom(Network donor) {
        if (donor.spec != spec && !donor.spec.equals(spec)) {
            throw new IllegalArgumentException("cannot copy the state of model '" + donor.spec.name() + "' into '"
                    + spec.name() + "': the specs differ");
        }
        engine.parameters().assign(donor.engine.parameters());
        INDArray updaterState = engine.updaterState();
        if (updaterState != null) {
            updaterState.assign(donor.engine.updaterState());
        }
        engine.setCounters(donor.engine.iteration(), donor.engine.epoch());
        normalizer.copyFrom(donor.normalizer);
        if (donor.schedule != null) {
            schedule = donor.schedule;
            engine.setSchedule(schedule);
        }
        adjustments++;
    }

    /**
     * What model averaging combines across the trainers of one model (docs/scale-out.md), as copies: the parameters
     * (batch norm's running statistics among them), the optimizer's state, the iteration counter that drives the
     * schedule and the bias corrections, and the normaliser's statistics.
     */
    public record Replica(float[] parameters, float[] optimizerState, int iteration, OnlineNormalizer normalizer) {
    }

    /** This network's {@link Replica}: copies, so that it stays what it was while the network trains on. */
    public Replica replica() {
        return new Replica(parameters(), optimizerState(), engine.iteration(), normalizer.copy());
    }

    /**
     * Makes this network's training state {@code replica} (from {@link #replica()} of a network of the same spec, or
     * an average of such), in place. The learning-rate adjustments and the last good state stay this network's own.
     */
    public void assign(Replica replica) {
        INDArray parameters = engine.parameters();
        if (replica.parameters().length != parameters.length()) {
            throw new IllegalArgumentException("a replica of " + replica.parameters().length + " parameters; model '"
                    + spec.name() + "' has " + parameters.length());
        }
        parameters.assign(Nd4j.create(replica.parameters(), parameters.shape(), parameters.ordering()));
        INDArray updaterState = engine.updaterState();
        int stateLength = updaterState == null ? 0 : (int) updaterState.length();
        if (replica.optimizerState().length != stateLength) {
            throw new IllegalArgumentException("a replica with optimizer state of " + replica.optimizerState().length
                    + " values; model '" + spec.name() + "' has " + stateLength);
        }
        if (updaterState != null) {
            updaterState.assign(Nd4j.create(replica.optimizerState(), updaterState.shape(), updaterState.ordering()));
        }
        engine.setCounters(replica.iteration(), engine.epoch());
        normalizer.copyFrom(replica.normalizer());
        adjustments++;
    }

    /**
     * Forgets what the optimizer has learnt about the gradients (Adam's moments, RMSProp's averages, ...):
     * zeroes its state, so that it adapts to a changed stream as from a fresh start.
     */
    public void resetOptimizerState() {
        INDArray state = engine.updaterState();
        if (state != null) {
            state.assign(0);
        }
        adjustments++;
    }

    private AdjustedSchedule adjustedSchedule() {
        return schedule;
    }

    /** The schedule in force, as the configuration holds it (a restored one carries its adjustments). */
    static AdjustedSchedule scheduleOf(ComputationGraphConfiguration configuration) {
        IUpdater updater = ((BaseLayer) ((LayerVertex) configuration.getVertices().get(NetworkBuilder.OUTPUT))
                .getLayerConf().getLayer()).getIUpdater();
        if (!updater.hasLearningRate()) {
            return null;
        }
        ISchedule schedule;
        try {
            // every ND4J updater with a learning rate has this accessor; IUpdater itself does not declare it
            schedule = (ISchedule) updater.getClass().getMethod("getLearningRateSchedule").invoke(updater);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot read the learning-rate schedule of " + updater, e);
        }
        if (schedule == null) {
            schedule = new org.nd4j.linalg.schedule.FixedSchedule(updater.getLearningRate(0, 0));
        }
        return AdjustedSchedule.of(schedule);
    }

    /**
     * Remembers the current state (parameters, optimizer state, step counters, normaliser) as the last good one,
     * in memory, reusing the same buffers each time: what {@link #restoreGood()} goes back to. Only call it
     * with finite parameters.
     */
    public void saveGood() {
        INDArray updaterState = engine.updaterState();
        if (good == null || (updaterState != null && (good.updater == null
                || good.updater.length() != updaterState.length()))) {
            good = new GoodState(engine.parameters().dup(), updaterState == null ? null : updaterState.dup(),
                    normalizer.copy());
        } else {
            good.params.assign(engine.parameters());
            if (updaterState != null) {
                good.updater.assign(updaterState);
            }
        }
        good.iteration = engine.iteration();
        good.epoch = engine.epoch();
        good.normalizer.copyFrom(normalizer);
        // the configuration carries the learning-rate adjustments in force: a checkpoint of this state needs them.
        // As text: a clone shares the updaters' schedules, which later adjustments change in place
        good.configuration = engine.configuration().toJson();
    }

    /**
     * The state {@link #saveGood()} remembered, as a {@link Capture} (what a checkpoint of it holds): its
     * configuration (with the learning-rate adjustments and step counters then), parameters, optimizer state and
     * normaliser. Array copies, quick enough for the training thread; close it to free its native memory.
     */
    public Capture captureGood() {
        if (good == null) {
            throw new IllegalStateException("no good state has been saved");
        }
        // clone() leaves out the counters, and the iteration count drives Adam's bias correction and schedules
        ComputationGraphConfiguration configuration = ComputationGraphConfiguration.fromJson(good.configuration);
        configuration.setIterationCount(good.iteration);
        configuration.setEpochCount(good.epoch);
        return new Capture(configuration, good.params.dup(), good.updater == null ? null : good.updater.dup(),
                good.normalizer.toBytes());
    }

    /**
     * Puts back the state {@link #saveGood()} remembered: parameters and optimizer state (Adam's moments etc.),
     * step counters and normaliser. The learning-rate adjustments made since are kept. Returns the iteration
     * count it went back to.
     */
    public int restoreGood() {
        if (good == null) {
            throw new IllegalStateException("no good state has been saved");
        }
        engine.parameters().assign(good.params);
        INDArray updaterState = engine.updaterState();
        if (updaterState != null && good.updater != null) {
            updaterState.assign(good.updater);
        }
        engine.setCounters(good.iteration, good.epoch);
        normalizer.copyFrom(good.normalizer);
        return good.iteration;
    }

    /**
     * The loss of each row of a raw (not yet normalised) mini-batch under the current state, in inference mode,
     * with nothing learnt from it (the normaliser is applied, not updated): how a batch is judged on the last good
     * state after a step on it was not finite. A loss the arithmetic cannot hold is NaN or infinite.
     */
    public double[] rowLosses(MiniBatch raw) {
        int n = raw.size();
        float[] x = Arrays.copyOf(raw.features(), n * spec.inputs());
        if (spec.normalize()) {
            normalizer.apply(x, n);
        }
        float[] out = engine.output(x, n, null);
        double[] losses = new double[n];
        for (int i = 0; i < n; i++) {
            losses[i] = scorer.loss(out, raw.labels(), i);
        }
        return losses;
    }

    /**
     * The largest share of a ReLU layer's units that fire for no row of the raw batch (0 without ReLU layers), and
     * that layer: a layer whose units have all but died passes almost no signal and no gradient, so the network can
     * no longer learn from such rows. Scored as {@link #rowLosses} does, without training.
     */
    public Map.Entry<String, Double> deadestLayer(MiniBatch raw) {
        int n = raw.size();
        float[] x = Arrays.copyOf(raw.features(), n * spec.inputs());
        if (spec.normalize()) {
            normalizer.apply(x, n);
        }
        Map<String, INDArray> activations = new HashMap<>();
        engine.output(x, n, activations);
        Map.Entry<String, Double> deadest = Map.entry("", 0.0);
        for (LayerHealth layer : layerHealth(activations, Map.of())) {
            if (layer.deadFraction() > deadest.getValue()) {
                deadest = Map.entry(layer.layer(), layer.deadFraction());
            }
        }
        return deadest;
    }

    /** Whether every parameter is finite (one pass over them). */
    public boolean parametersFinite() {
        return Double.isFinite(engine.parameters().sumNumber().doubleValue());
    }

    /**
     * Whether every parameter and every value of the optimizer's state is finite (a pass over each). An
     * overflowing gradient can leave the weights finite and Adam's second moment infinite, which freezes the
     * weights for good: both are checked.
     */
    public boolean stateFinite() {
        INDArray updaterState = engine.updaterState();
        return parametersFinite()
                && (updaterState == null || Double.isFinite(updaterState.sumNumber().doubleValue()));
    }

    /**
     * How many times the learning rate or the optimizer state has been changed from outside the steps
     * (back-offs, warm restarts, resets, {@link #setLearningRate}): a caller that keeps a good state to go back
     * to saves a new one when this moves, so that going back never undoes such a change.
     */
    public long adjustments() {
        return adjustments;
    }

    private static final class GoodState {
        final INDArray params;
        final INDArray updater;
        int iteration;
        int epoch;
        String configuration;
        final OnlineNormalizer normalizer;

        GoodState(INDArray params, INDArray updater, OnlineNormalizer normalizer) {
            this.params = params;
            this.updater = updater;
            this.normalizer = normalizer;
        }
    }

    /**
     * What the normaliser has learned of the inputs (a live view, read on the training thread): the statistics
     * a new example is judged against before it may change them. Nothing learned when the spec does not normalise.
     */
    public FeatureRange featureRange() {
        return new FeatureRange(normalizer);
    }

    public long parameterCount() {
        return engine.parameters().length();
    }

    public ModelSpec spec() {
        return spec;
    }

    /** The parameters as a flat copy, for comparisons (tests, checkpoints). */
    public float[] parameters() {
        return engine.parameters().dup().data().asFloat();
    }

    /** The optimizer's state (Adam's moments etc.) as a flat copy, for comparisons; empty for plain SGD. */
    public float[] optimizerState() {
        INDArray state = engine.updaterState();
        return state == null ? new float[0] : state.dup().data().asFloat();
    }
}
