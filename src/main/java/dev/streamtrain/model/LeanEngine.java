package dev.streamtrain.model;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.schedule.ISchedule;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.streamtrain.engine.LeanNetwork;

import dev.streamtrain.model.spec.ModelSpec;
import dev.streamtrain.model.spec.NetworkBuilder;

/**
 * streamtrain's own engine ({@link LeanNetwork}) as a {@link TrainingEngine}. Beside the network it keeps the DL4J
 * configuration of the spec, with the schedule in force and the step counters, which is what a checkpoint stores:
 * its files are then the ones a DL4J-trained network writes, and either engine restores them.
 */
final class LeanEngine implements TrainingEngine {

    /** The epoch count the lean engine's schedules read: DL4J's graph only advances it in {@code fit(iterator)}. */
    private static final int EPOCH = 0;

    private final LeanNetwork network;
    private final ComputationGraphConfiguration configuration;
    private final List<String> layers;
    private final boolean fusesScoring;

    private LeanEngine(LeanNetwork network, ComputationGraphConfiguration configuration) {
        this.network = network;
        this.configuration = configuration;
        this.layers = TrainingEngine.trainableLayers(configuration);
        this.fusesScoring = network.trainingForwardIsInference();
        if (layers.size() != network.layerCount()) {
            throw new IllegalStateException("the lean engine has " + network.layerCount() + " layers, the spec's graph "
                    + layers);
        }
    }

    /**
     * A lean network for the spec, starting from the parameters a DL4J graph of it starts from.
     *
     * @throws dev.streamtrain.engine.UnsupportedSpecException when the engine does not cover the spec, naming what
     */
    static LeanEngine create(ModelSpec spec) {
        return new LeanEngine(LeanNetwork.create(spec), NetworkBuilder.configuration(spec));
    }

    /**
     * A lean network with the whole state of a restored DL4J graph: parameters, optimizer state, step counters and
     * the learning-rate schedule in force (with its back-offs and raises).
     *
     * @throws dev.streamtrain.engine.UnsupportedSpecException when the engine does not cover the spec
     * @throws IOException when the graph's state does not have the engine's layout
     */
    static LeanEngine restore(ModelSpec spec, ComputationGraph graph) throws IOException {
        LeanNetwork network = LeanNetwork.create(spec);
        try {
            INDArray state = graph.getUpdater().getStateViewArray();
            INDArray own = network.updaterState();
            long saved = state == null ? 0 : state.length();
            long expected = own == null ? 0 : own.length();
            if (graph.numParams() != network.parameters().length() || saved != expected) {
                throw new IOException("the saved network's state (" + graph.numParams() + " parameters, " + saved
                        + " optimizer values) does not fit the spec's (" + network.parameters().length() + ", "
                        + expected + ")");
            }
            network.copyParameters(graph.params());
            if (own != null) {
                own.assign(state.reshape(own.shape()));
            }
            network.setIterations(graph.getIterationCount());
            LeanEngine engine = new LeanEngine(network, graph.getConfiguration());
            ISchedule schedule = Network.scheduleOf(graph.getConfiguration());
            if (schedule != null) {
                network.setLearningRate(schedule);
            }
            return engine;
        } catch (IOException | RuntimeException e) {
            network.close();
            throw e;
        }
    }

    @Override
    public EngineKind kind() {
        return EngineKind.LEAN;
    }

    @Override
    public ComputationGraphConfiguration configuration() {
        configuration.setIterationCount(network.iterations());
        configuration.setEpochCount(EPOCH);
        return configuration;
    }

    @Override
    public float[] output(float[] x, int rows, Map<String, INDArray> activations) {
        float[] out = network.output(x, rows);
        if (activations != null) {
            for (int l = 0; l < layers.size(); l++) {
                // the engine's buffers are reused by the next pass: copies, row-major like DL4J's feedForward
                activations.put(layers.get(l), network.activations(l).dup('c'));
            }
        }
        return out;
    }

    @Override
    public boolean fusesScoring() {
        return fusesScoring;
    }

    @Override
    public float[] outputForFit(float[] x, int rows) {
        return network.outputForFit(x, rows);
    }

    @Override
    public Fit fitOutput(float[] y, float[] weights, int rows, boolean sample) {
        return fitResult(network.fitOutput(y, weights, rows, sample), sample);
    }

    @Override
    public Fit fit(float[] x, float[] y, float[] weights, int rows, boolean sample) {
        return fitResult(network.fit(x, y, weights, rows, sample), sample);
    }

    private Fit fitResult(double score, boolean sample) {
        Map<String, double[]> norms = null;
        if (sample) {
            norms = new LinkedHashMap<>();
            for (int l = 0; l < layers.size(); l++) {
                norms.put(layers.get(l), new double[] {network.gradientNorm(l), network.updateRatio(l)});
            }
        }
        return new Fit(score, network.backwardDoneNanos(), network.updateDoneNanos(), norms);
    }

    @Override
    public INDArray parameters() {
        return network.parameters();
    }

    @Override
    public INDArray updaterState() {
        return network.updaterState();
    }

    @Override
    public int iteration() {
        return network.iterations();
    }

    @Override
    public int epoch() {
        return EPOCH;
    }

    @Override
    public void setCounters(int iteration, int epoch) {
        network.setIterations(iteration);
    }

    @Override
    public void setSchedule(ISchedule schedule) {
        network.setLearningRate(schedule);
        // the configuration a checkpoint stores carries the schedule too, as a DL4J graph's does
        for (GraphVertex vertex : configuration.getVertices().values()) {
            if (vertex instanceof LayerVertex layer && layer.getLayerConf().getLayer() instanceof BaseLayer base) {
                IUpdater updater = base.getIUpdater();
                if (updater != null && updater.hasLearningRate()) {
                    updater.setLrAndSchedule(Double.NaN, schedule);
                }
            }
        }
    }

    @Override
    public double learningRate() {
        return network.learningRate();
    }

    @Override
    public void close() {
        network.close();
    }
}
