package dev.streamtrain.model;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.WorkspaceMode;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.time.Instant;

import dev.streamtrain.engine.DenseForward;
import dev.streamtrain.engine.UnsupportedSpecException;
import dev.streamtrain.model.explain.Baseline;
import dev.streamtrain.model.explain.Explanation;
import dev.streamtrain.model.explain.GradientGraph;
import dev.streamtrain.model.explain.InputGradients;
import dev.streamtrain.model.explain.IntegratedGradients;
import dev.streamtrain.model.explain.InvalidExplanationException;
import dev.streamtrain.model.spec.ModelSpec;
import dev.streamtrain.model.spec.NetworkBuilder;

/**
 * An immutable copy of the model at one training step: what serving answers from. The trainer never touches
 * it after publishing, so a request is answered wholly by one version of the weights.
 * <p>
 * A snapshot made by {@link #of} of a spec {@link DenseForward} covers (dense layers with layer norm, dropout and
 * residual blocks) predicts and explains with it: plain Java over a float[] copy, without a lock and without a DL4J
 * graph, so any number of requests predict and explain at once, on any thread. Other specs (batch norm) predict
 * with a DL4J graph, one request at a time, and explain by differentiating an inference-mode copy of it
 * ({@link GradientGraph}), built on the first explanation.
 */
public final class ModelSnapshot {

    private final ModelSpec spec;
    /** The lock-free pass, or null when the graph predicts. */
    private final DenseForward forward;
    /** DL4J's flat parameters {@link #forward} was built from; null when the graph predicts. */
    private final float[] parameters;
    /** Predicts and is explained when {@link #forward} is null; null otherwise. */
    private final ComputationGraph graph;
    private final OnlineNormalizer normalizer;
    private final long step;
    private final Instant createdAt;
    /** The inference-mode copy of {@link #graph} explanations differentiate; built on first use, under its lock. */
    private GradientGraph gradients;
    private final Object gradientsLock = new Object();

    ModelSnapshot(ModelSpec spec, ComputationGraph graph, OnlineNormalizer normalizer, long step, Instant createdAt) {
        this(spec, null, null, graph, normalizer, step, createdAt);
    }

    private ModelSnapshot(ModelSpec spec, DenseForward forward, float[] parameters, ComputationGraph graph,
                          OnlineNormalizer normalizer, long step, Instant createdAt) {
        this.spec = spec;
        this.forward = forward;
        this.parameters = parameters;
        this.graph = graph;
        this.normalizer = normalizer;
        this.step = step;
        this.createdAt = createdAt;
    }

    /**
     * A snapshot of {@code parameters} (a graph's {@code params()} of {@code spec}, DL4J's flat layout), copied: the
     * caller may go on changing them. {@code normalizer} is kept as it is: pass a copy. A spec that
     * {@link DenseForward} covers predicts without a lock; any other with a DL4J graph built here.
     */
    public static ModelSnapshot of(ModelSpec spec, INDArray parameters, OnlineNormalizer normalizer, long step,
                                   Instant createdAt) {
        // toFloatVector copies: the snapshot owns that copy
        return owning(spec, parameters.castTo(DataType.FLOAT).reshape(parameters.length()).toFloatVector(), normalizer,
                step, createdAt);
    }

    /** As {@link #of(ModelSpec, INDArray, OnlineNormalizer, long, Instant)}, from a float[] (copied). */
    public static ModelSnapshot of(ModelSpec spec, float[] parameters, OnlineNormalizer normalizer, long step,
                                   Instant createdAt) {
        return owning(spec, parameters.clone(), normalizer, step, createdAt);
    }

    /** A snapshot that keeps {@code copy} itself: nobody else may hold it. */
    private static ModelSnapshot owning(ModelSpec spec, float[] copy, OnlineNormalizer normalizer, long step,
                                        Instant createdAt) {
        DenseForward forward;
        try {
            forward = DenseForward.of(spec, copy);
        } catch (UnsupportedSpecException e) {
            return new ModelSnapshot(spec, null, null, graphOf(spec, copy), normalizer, step, createdAt);
        }
        return new ModelSnapshot(spec, forward, copy, null, normalizer, step, createdAt);
    }

    private static ComputationGraph graphOf(ModelSpec spec, float[] parameters) {
        ComputationGraphConfiguration configuration = NetworkBuilder.configuration(spec);
        // serving runs on many HTTP threads: per-thread workspaces would each keep the largest request's memory
        configuration.setInferenceWorkspaceMode(WorkspaceMode.NONE);
        ComputationGraph graph = new ComputationGraph(configuration);
        graph.init(Nd4j.create(parameters, new long[] {1, parameters.length}, 'c'), false);
        return graph;
    }

    /** A copy of the flat parameters, DL4J's layout, whichever pass predicts. */
    float[] parameters() {
        if (forward != null) {
            return parameters.clone();
        }
        synchronized (graph) {
            return graph.params().castTo(DataType.FLOAT).reshape(graph.numParams()).toFloatVector();
        }
    }

    /** Whether this snapshot holds a DL4J graph: only for a spec {@link DenseForward} does not cover. */
    boolean holdsGraph() {
        return graph != null;
    }

    /** The normaliser (raw features to the network's inputs) this snapshot applies. */
    OnlineNormalizer normalizer() {
        return normalizer;
    }

    /**
     * Whether {@link #predict} runs without a lock or native code ({@link DenseForward}): cheap enough, for a few rows,
     * to run on the thread that received the request.
     */
    public boolean predictsWithoutLock() {
        return forward != null;
    }

    /** Multiply-adds of a forward pass over {@code rows} rows through the dense layers: the measure of its cost. */
    public long multiplyAdds(int rows) {
        if (forward != null) {
            return forward.multiplyAddsPerRow() * rows;
        }
        return graph.numParams() * rows;
    }

    /**
     * Predicts {@code rows} examples given row-major in {@code features} (raw, un-normalised); returns the
     * row-major outputs (class probabilities or regression values). Thread-safe.
     */
    public float[] predict(float[] features, int rows) {
        return predictInPlace(features.clone(), rows);
    }

    /**
     * {@link #predict}, normalising {@code features} in place: for a caller that owns the array and does not read it
     * again (a request's decoded input), which saves a copy per request. Thread-safe for distinct arrays.
     */
    public float[] predictInPlace(float[] features, int rows) {
        float[] x = features;
        if (spec.normalize()) {
            normalizer.apply(x, rows);
        }
        if (forward != null) {
            return forward.output(x, rows);
        }
        INDArray input = Nd4j.create(x, new long[] {rows, spec.inputs()}, DataType.FLOAT);
        // DL4J layers keep per-call state, so one graph answers one request at a time
        synchronized (graph) {
            return graph.outputSingle(false, input).data().asFloat();
        }
    }

    /**
     * Scores the held-out rows of a raw (not yet normalised) mini-batch with this snapshot, with the same loss
     * as training's held-out figures: what serving would have lost on them.
     */
    public BatchScore scoreHeldOut(MiniBatch raw) {
        boolean[] heldOut = raw.holdout();
        int inputs = spec.inputs();
        int width = raw.labelWidth();
        int rows = 0;
        for (int i = 0; i < raw.size(); i++) {
            rows += heldOut[i] ? 1 : 0;
        }
        if (rows == 0) {
            return new BatchScore(0, 0, 0, 0, Double.NaN);
        }
        float[] x = new float[rows * inputs];
        float[] y = new float[rows * width];
        float[] w = new float[rows];
        for (int i = 0, r = 0; i < raw.size(); i++) {
            if (heldOut[i]) {
                System.arraycopy(raw.features(), i * inputs, x, r * inputs, inputs);
                System.arraycopy(raw.labels(), i * width, y, r * width, width);
                w[r++] = raw.weights()[i];
            }
        }
        float[] out = predict(x, rows);
        ExampleScorer scorer = new ExampleScorer(spec.loss(), spec.outputs());
        double lossSum = 0, weightSum = 0;
        int correct = 0;
        for (int r = 0; r < rows; r++) {
            lossSum += w[r] * scorer.loss(out, y, r);
            weightSum += w[r];
            correct += spec.isClassification() && scorer.correct(out, y, r) ? 1 : 0;
        }
        return new BatchScore(lossSum, weightSum, correct, rows, Double.NaN);
    }

    /**
     * Explains {@code rows} raw rows by integrated gradients (see {@link IntegratedGradients}) over {@code steps}
     * trapezoid intervals (1..{@value Explanation#MAX_STEPS}). {@code targets} names the explained output of
     * each row (or one for all; null: the predicted class, or the only regression output); {@code baseline} is
     * null for the default, the running mean (zeros for a model that does not normalise). Arguments are checked
     * before any work and refused with an {@link InvalidExplanationException}. Thread-safe; predictions do not wait
     * for explanations: with {@link DenseForward} nothing waits, with a graph explanations run on a copy of it.
     */
    public Explanation explain(float[] features, int rows, int[] targets, Baseline baseline, int steps) {
        if (rows < 1 || features.length != rows * spec.inputs()) {
            throw new IllegalArgumentException(features.length + " values are not " + rows + " rows of "
                    + spec.inputs() + " features");
        }
        return IntegratedGradients.explain(inputGradients(), spec, normalizer, features, rows, targets, baseline, steps);
    }

    /** What explanations differentiate: the plain-Java pass, or the graph's inference-mode copy. */
    InputGradients inputGradients() {
        return forward != null ? InputGradients.of(forward) : gradientGraph();
    }

    /**
     * The inference-mode copy of the graph explanations use when the graph predicts (tests compare its gradients with
     * finite differences).
     */
    GradientGraph gradientGraph() {
        if (graph == null) {
            throw new IllegalStateException("snapshot of '" + spec.name() + "' explains with the plain-Java pass");
        }
        // predictions never write the weights the copy reads, so they need not wait for it
        synchronized (gradientsLock) {
            if (gradients == null) {
                gradients = GradientGraph.of(graph);
            }
            return gradients;
        }
    }

    /**
     * Whether this snapshot's outputs are finite for every row of a raw (not yet normalised) mini-batch: finite
     * weights can still overflow (a wrecked model with huge weights answers infinities and NaN).
     */
    public boolean outputsFinite(MiniBatch raw) {
        if (raw.size() == 0) {
            return true;
        }
        float[] out = predict(java.util.Arrays.copyOf(raw.features(), raw.size() * spec.inputs()), raw.size());
        for (float v : out) {
            if (!Float.isFinite(v)) {
                return false;
            }
        }
        return true;
    }

    /** Whether every weight (and batch-norm statistic) of the snapshot is finite. */
    public boolean parametersFinite() {
        if (forward != null) {
            for (float p : parameters) {
                if (!Float.isFinite(p)) {
                    return false;
                }
            }
            return true;
        }
        synchronized (graph) {
            return Double.isFinite(graph.params().sumNumber().doubleValue());
        }
    }

    public ModelSpec spec() {
        return spec;
    }

    public long step() {
        return step;
    }

    /** When these weights were taken from training (for a replica: when their checkpoint was written). */
    public Instant createdAt() {
        return createdAt;
    }

    /** The version string of the V2 protocol: the training step this snapshot was taken at. */
    public String version() {
        return Long.toString(step);
    }
}
