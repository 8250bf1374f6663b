package dev.streamtrain.model;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.WorkspaceMode;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.MultiDataSet;
import org.nd4j.linalg.factory.Nd4j;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.Arrays;

/**
 * The network being trained: a DL4J computation graph built from the spec, its online input normaliser and
 * its optimizer state. Owned by the training thread alone; serving reads {@link ModelSnapshot}s of it.
 */
public final class Network {

    private final ModelSpec spec;
    private final ComputationGraph graph;
    private final OnlineNormalizer normalizer;
    private final ExampleScorer scorer;
    private final GlobalNormClipping clipping;
    private final INDArray fullFeatures;
    private final INDArray fullLabels;

    public Network(ModelSpec spec) {
        this(spec, newGraph(spec), new OnlineNormalizer(spec.inputs()));
    }

    private Network(ModelSpec spec, ComputationGraph graph, OnlineNormalizer normalizer) {
        this.spec = spec;
        this.graph = graph;
        this.normalizer = normalizer;
        this.scorer = new ExampleScorer(spec.loss(), spec.outputs());
        this.clipping = spec.clipping().type().equals("global-norm")
                ? new GlobalNormClipping(spec.clipping().threshold()) : null;
        if (clipping != null) {
            graph.addListeners(clipping);
        }
        this.fullFeatures = Nd4j.create(DataType.FLOAT, spec.batchSize(), spec.inputs());
        this.fullLabels = Nd4j.create(DataType.FLOAT, spec.batchSize(), spec.outputs());
    }

    /**
     * Test-then-train on one mini-batch: normalise it (after folding it into the running statistics), score
     * it with the current weights in inference mode, then take one optimizer step on it.
     */
    public BatchScore trainStep(MiniBatch batch) {
        int n = batch.size();
        float[] x = batch.features();
        if (spec.normalize()) {
            normalizer.update(x, n);
            normalizer.apply(x, n);
        }
        INDArray features = toArray(x, n, spec.inputs(), fullFeatures);
        INDArray labels = toArray(batch.labels(), n, spec.outputs(), fullLabels);
        float[] out = graph.outputSingle(false, features).data().asFloat();

        double lossSum = 0;
        double weightSum = 0;
        int correct = 0;
        float[] y = batch.labels();
        float[] w = batch.weights();
        for (int i = 0; i < n; i++) {
            lossSum += w[i] * scorer.loss(out, y, i);
            weightSum += w[i];
            if (spec.isClassification() && scorer.correct(out, y, i)) {
                correct++;
            }
        }
        INDArray[] masks = batch.weighted()
                ? new INDArray[] {Nd4j.createFromArray(Arrays.copyOf(w, n)).reshape(n, 1)} : null;
        graph.fit(new MultiDataSet(new INDArray[] {features}, new INDArray[] {labels}, null, masks));
        return new BatchScore(lossSum, weightSum, correct, n, graph.score());
    }

    /**
     * Copies the current weights (batch-norm statistics included) and normaliser into an immutable snapshot
     * for serving. Unlike {@code ComputationGraph.clone()} it leaves the optimizer state and the training
     * listeners behind: serving needs neither, and Adam's state is twice the size of the weights.
     */
    public ModelSnapshot snapshot(long step) {
        ComputationGraphConfiguration configuration = graph.getConfiguration().clone();
        // serving runs on many HTTP threads: per-thread workspaces would each keep the largest request's memory
        configuration.setInferenceWorkspaceMode(WorkspaceMode.NONE);
        ComputationGraph copy = new ComputationGraph(configuration);
        copy.init(graph.params().dup(), false);
        return new ModelSnapshot(spec, copy, normalizer.copy(), step);
    }

    private static ComputationGraph newGraph(ModelSpec spec) {
        ComputationGraph graph = new ComputationGraph(NetworkBuilder.configuration(spec));
        graph.init();
        return graph;
    }

    /**
     * Copies the network's whole state, for a checkpoint, without serialising it: the configuration (which
     * carries the step count that drives the schedules), the parameters, the optimizer state (Adam's moments
     * etc.) and the normaliser. Quick enough for the training thread (array copies); the returned capture
     * is serialised elsewhere and must be closed to free its native memory.
     */
    public Capture capture() {
        INDArray updaterState = graph.getUpdater().getStateViewArray();
        ComputationGraphConfiguration configuration = graph.getConfiguration().clone();
        // clone() leaves out the counters, and the iteration count drives Adam's bias correction and schedules
        configuration.setIterationCount(graph.getConfiguration().getIterationCount());
        configuration.setEpochCount(graph.getConfiguration().getEpochCount());
        return new Capture(configuration, graph.params().dup(),
                updaterState == null ? null : updaterState.dup(), normalizer.toBytes());
    }

    /** The network's whole state, serialised at once (see {@link #capture()}). */
    public State state() {
        try (Capture capture = capture()) {
            return capture.serialize();
        }
    }

    /** Rebuilds a network from a serialised state: training continues exactly where it stopped. */
    public static Network restore(ModelSpec spec, State state) throws IOException {
        ComputationGraph graph;
        try {
            graph = ModelSerializer.restoreComputationGraph(new ByteArrayInputStream(state.graph()), true);
        } catch (RuntimeException e) {
            throw new IOException("the saved network cannot be read: " + e.getMessage(), e);
        }
        if (graph.getNumInputArrays() != 1 || graph.numParams() != countParams(spec)) {
            throw new IOException("the saved network does not have the shape of the spec '" + spec.name() + "'");
        }
        return new Network(spec, graph, OnlineNormalizer.fromBytes(state.normalizer(), spec.inputs()));
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
        // DL4J answers null, not NaN, for an updater without a learning rate
        Double rate = graph.getLearningRate(NetworkBuilder.OUTPUT);
        return rate == null ? Double.NaN : rate;
    }

    public long parameterCount() {
        return graph.numParams();
    }

    public ModelSpec spec() {
        return spec;
    }

    /** The parameters as a flat copy, for comparisons (tests, checkpoints). */
    public float[] parameters() {
        return graph.params().dup().data().asFloat();
    }

    /** The optimizer's state (Adam's moments etc.) as a flat copy, for comparisons; empty for plain SGD. */
    public float[] optimizerState() {
        INDArray state = graph.getUpdater().getStateViewArray();
        return state == null ? new float[0] : state.dup().data().asFloat();
    }

    private static INDArray toArray(float[] data, int rows, int cols, INDArray full) {
        if (rows == full.rows()) {
            full.data().setData(data);
            return full;
        }
        return Nd4j.create(Arrays.copyOf(data, rows * cols), new long[] {rows, cols}, DataType.FLOAT);
    }
}
