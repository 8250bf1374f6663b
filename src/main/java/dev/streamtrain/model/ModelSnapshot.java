package dev.streamtrain.model;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.time.Instant;

import dev.streamtrain.engine.DenseForward;
import dev.streamtrain.model.explain.Baseline;
import dev.streamtrain.model.explain.Explanation;
import dev.streamtrain.model.explain.InputGradients;
import dev.streamtrain.model.explain.IntegratedGradients;
import dev.streamtrain.model.explain.InvalidExplanationException;
import dev.streamtrain.model.spec.ModelSpec;

/**
 * An immutable copy of the model at one training step: what serving answers from. The trainer never touches
 * it after publishing, so a request is answered wholly by one version of the weights.
 * <p>
 * It predicts and explains with {@link DenseForward}, which covers every spec the service accepts (dense layers with
 * layer norm, batch norm, dropout and residual blocks): plain Java over a float[] copy, without a lock and without a
 * DL4J graph, so any number of requests predict and explain at once, on any thread. DL4J's graph is the reference
 * the tests hold it to (their {@code GraphSnapshot}); no production path builds one.
 */
public final class ModelSnapshot {

    private final ModelSpec spec;
    /** The lock-free pass. */
    private final DenseForward forward;
    /** DL4J's flat parameters {@link #forward} was built from. */
    private final float[] parameters;
    private final OnlineNormalizer normalizer;
    private final long step;
    private final Instant createdAt;

    private ModelSnapshot(ModelSpec spec, DenseForward forward, float[] parameters, OnlineNormalizer normalizer,
                          long step, Instant createdAt) {
        this.spec = spec;
        this.forward = forward;
        this.parameters = parameters;
        this.normalizer = normalizer;
        this.step = step;
        this.createdAt = createdAt;
    }

    /**
     * A snapshot of {@code parameters} (a graph's {@code params()} of {@code spec}, DL4J's flat layout), copied: the
     * caller may go on changing them. {@code normalizer} is kept as it is: pass a copy.
     *
     * @throws dev.streamtrain.engine.UnsupportedSpecException for a spec {@link DenseForward} does not cover (none that
     *                                                         the spec parser accepts: {@code EveryAcceptedSpecTest})
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
        return new ModelSnapshot(spec, DenseForward.of(spec, copy), copy, normalizer, step, createdAt);
    }

    /** A copy of the flat parameters, DL4J's layout. */
    float[] parameters() {
        return parameters.clone();
    }

    /** The normaliser (raw features to the network's inputs) this snapshot applies. */
    OnlineNormalizer normalizer() {
        return normalizer;
    }

    /**
     * Whether {@link #predict} runs without a lock or native code ({@link DenseForward}): cheap enough, for a few rows,
     * to run on the thread that received the request. Always true since every spec predicts in plain Java; kept for
     * its callers.
     */
    public boolean predictsWithoutLock() {
        return true;
    }

    /** Multiply-adds of a forward pass over {@code rows} rows through the dense layers: the measure of its cost. */
    public long multiplyAdds(int rows) {
        return forward.multiplyAddsPerRow() * rows;
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
        return forward.output(x, rows);
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
     * before any work and refused with an {@link InvalidExplanationException}. Thread-safe; nothing waits.
     */
    public Explanation explain(float[] features, int rows, int[] targets, Baseline baseline, int steps) {
        if (rows < 1 || features.length != rows * spec.inputs()) {
            throw new IllegalArgumentException(features.length + " values are not " + rows + " rows of "
                    + spec.inputs() + " features");
        }
        return IntegratedGradients.explain(inputGradients(), spec, normalizer, features, rows, targets, baseline, steps);
    }

    /** What explanations differentiate: the plain-Java pass. */
    InputGradients inputGradients() {
        return InputGradients.of(forward);
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
        for (float p : parameters) {
            if (!Float.isFinite(p)) {
                return false;
            }
        }
        return true;
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
