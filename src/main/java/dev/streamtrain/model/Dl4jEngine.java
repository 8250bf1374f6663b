package dev.streamtrain.model;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.NetworkUtils;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.MultiDataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.schedule.ISchedule;

import java.util.Arrays;
import java.util.Map;

import dev.streamtrain.model.spec.ModelSpec;
import dev.streamtrain.model.spec.NetworkBuilder;

/**
 * DL4J's computation graph as a {@link TrainingEngine}: the reference engine, chosen by name
 * ({@code streamtrain.compute.engine=dl4j}). Global-norm clipping is a listener ({@link GlobalNormClipping}); the
 * health signals come from a {@link GradientProbe} registered before it, so that it sees the gradient before clipping.
 */
final class Dl4jEngine implements TrainingEngine {

    private final ComputationGraph graph;
    private final GradientProbe probe = new GradientProbe();
    private final INDArray fullFeatures;
    private final INDArray fullLabels;

    Dl4jEngine(ModelSpec spec, ComputationGraph graph) {
        this.graph = graph;
        graph.addListeners(probe);
        if (spec.clipping().type().equals("global-norm")) {
            graph.addListeners(new GlobalNormClipping(spec.clipping().threshold()));
        }
        this.fullFeatures = Nd4j.create(DataType.FLOAT, spec.batchSize(), spec.inputs());
        this.fullLabels = Nd4j.create(DataType.FLOAT, spec.batchSize(), spec.outputs());
    }

    static Dl4jEngine create(ModelSpec spec) {
        ComputationGraph graph = new ComputationGraph(NetworkBuilder.configuration(spec));
        graph.init();
        return new Dl4jEngine(spec, graph);
    }

    @Override
    public EngineKind kind() {
        return EngineKind.DL4J;
    }

    @Override
    public ComputationGraphConfiguration configuration() {
        return graph.getConfiguration();
    }

    @Override
    public float[] output(float[] x, int rows, Map<String, INDArray> activations) {
        INDArray features = toArray(x, rows, fullFeatures);
        if (activations == null) {
            return graph.outputSingle(false, features).data().asFloat();
        }
        Map<String, INDArray> all = graph.feedForward(features, false);
        activations.putAll(all);
        return all.get(NetworkBuilder.OUTPUT).data().asFloat();
    }

    @Override
    public Fit fit(float[] x, float[] y, float[] weights, int rows, boolean sample) {
        INDArray features = toArray(x, rows, fullFeatures);
        INDArray labels = toArray(y, rows, fullLabels);
        // a per-example label mask multiplies each row's loss and gradient by its weight
        INDArray[] masks = weights == null ? null
                : new INDArray[] {Nd4j.createFromArray(Arrays.copyOf(weights, rows)).reshape(rows, 1)};
        probe.arm(sample);
        try {
            graph.fit(new MultiDataSet(new INDArray[] {features}, new INDArray[] {labels}, null, masks));
            return new Fit(graph.score(), probe.backwardDoneNanos(), probe.updateDoneNanos(),
                    sample ? probe.norms() : null);
        } finally {
            probe.arm(false);
        }
    }

    @Override
    public INDArray parameters() {
        return graph.params();
    }

    @Override
    public INDArray updaterState() {
        return graph.getUpdater().getStateViewArray();
    }

    @Override
    public int iteration() {
        return graph.getIterationCount();
    }

    @Override
    public int epoch() {
        return graph.getEpochCount();
    }

    @Override
    public void setCounters(int iteration, int epoch) {
        graph.getConfiguration().setIterationCount(iteration);
        graph.getConfiguration().setEpochCount(epoch);
    }

    @Override
    public void setSchedule(ISchedule schedule) {
        NetworkUtils.setLearningRate(graph, schedule);
    }

    @Override
    public double learningRate() {
        // DL4J answers null, not NaN, for an updater without a learning rate
        Double rate = graph.getLearningRate(NetworkBuilder.OUTPUT);
        return rate == null ? Double.NaN : rate;
    }

    @Override
    public void close() {
        fullFeatures.close();
        fullLabels.close();
    }

    /** The first {@code rows} rows of {@code data} as an array: the preallocated full one when the batch is full. */
    private static INDArray toArray(float[] data, int rows, INDArray full) {
        int cols = (int) full.columns();
        if (rows == full.rows() && data.length == rows * cols) {
            full.data().setData(data);
            return full;
        }
        return Nd4j.create(Arrays.copyOf(data, rows * cols), new long[] {rows, cols}, DataType.FLOAT);
    }
}
