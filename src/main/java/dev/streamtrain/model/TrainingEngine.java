package dev.streamtrain.model;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.schedule.ISchedule;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * What trains a {@link Network}'s parameters: the lean engine ({@link LeanEngine}), or DL4J's computation graph
 * ({@link Dl4jEngine}), the reference, when configured by name. Both keep the parameters and the optimizer
 * state in DL4J's flat layout and describe themselves by a DL4J configuration (layers, updater with the schedule in
 * force, step counters), so a checkpoint of either restores into either. Owned by the training thread.
 */
interface TrainingEngine extends AutoCloseable {

    /** Which engine this is, as the log, the status route and the gauge name it. */
    EngineKind kind();

    /**
     * The configuration the engine trains by, with the step counters and the learning-rate schedule in force: what a
     * checkpoint stores. A live object: serialise or clone it before the next step.
     */
    ComputationGraphConfiguration configuration();

    /**
     * The outputs (row-major) of {@code rows} normalised row-major rows in inference mode. With {@code activations}
     * non-null, each layer's activations (by layer name, detached copies) are put into it as well.
     */
    float[] output(float[] x, int rows, Map<String, INDArray> activations);

    /**
     * One optimizer step on {@code rows} rows, each row's loss and gradient times its weight ({@code weights} null:
     * unweighted); with {@code sample}, the per-layer gradient norm (before clipping) and update ratio are measured.
     */
    Fit fit(float[] x, float[] y, float[] weights, int rows, boolean sample);

    /**
     * Whether the engine can score a batch and train on it from one forward pass ({@link #outputForFit}, then
     * {@link #fitOutput}): only where the training forward pass computes what the inference pass does (no dropout).
     */
    default boolean fusesScoring() {
        return false;
    }

    /** The outputs {@link #output} gives of the rows, from a training forward pass kept for {@link #fitOutput}. */
    default float[] outputForFit(float[] x, int rows) {
        throw new UnsupportedOperationException(kind() + " does not score from its training forward pass");
    }

    /** The step {@link #fit} takes on the rows of the last {@link #outputForFit}, without another forward pass. */
    default Fit fitOutput(float[] y, float[] weights, int rows, boolean sample) {
        throw new UnsupportedOperationException(kind() + " does not score from its training forward pass");
    }

    /** The flat parameters, DL4J's layout: a live view. */
    INDArray parameters();

    /** The optimizer's state, DL4J's layout: a live view; null when the optimizer keeps none (plain SGD). */
    INDArray updaterState();

    /** The optimizer steps taken: they drive bias corrections and schedules. */
    int iteration();

    int epoch();

    /** Puts the step counters back (a rolled-back state). */
    void setCounters(int iteration, int epoch);

    /** Replaces the learning-rate schedule from the next step on; the optimizer state and counters are kept. */
    void setSchedule(ISchedule schedule);

    /** The learning rate of the next step; NaN for an optimizer without one. */
    double learningRate();

    @Override
    void close();

    /**
     * One step's outcome: the loss DL4J's {@code score()} reports (mean over the rows plus the regularisation penalty,
     * before the step), when the backward pass and the update ended, and on sampled steps, per layer in order,
     * {gradient norm, update ratio}.
     */
    record Fit(double score, long backwardDoneNanos, long updateDoneNanos, Map<String, double[]> norms) {
    }

    /**
     * The names of the layers with parameters, input to output, as the configuration names them: in its topological
     * order once a graph has computed it, else in the order the vertices were added (each after its inputs).
     */
    static List<String> trainableLayers(ComputationGraphConfiguration configuration) {
        List<String> names = new ArrayList<>();
        List<String> order = configuration.getTopologicalOrderStr() != null ? configuration.getTopologicalOrderStr()
                : List.copyOf(configuration.getVertices().keySet());
        for (String name : order) {
            if (configuration.getVertices().get(name) instanceof LayerVertex vertex
                    && vertex.getLayerConf().getLayer().initializer().numParams(vertex.getLayerConf()) > 0) {
                names.add(name);
            }
        }
        return List.copyOf(names);
    }
}
