package dev.streamtrain.model;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.WorkspaceMode;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import dev.streamtrain.model.explain.Baseline;
import dev.streamtrain.model.explain.Explanation;
import dev.streamtrain.model.explain.GradientGraph;
import dev.streamtrain.model.explain.IntegratedGradients;
import dev.streamtrain.model.spec.ModelSpec;
import dev.streamtrain.model.spec.NetworkBuilder;

/**
 * The reference a {@link ModelSnapshot} is held to: the same parameters and normaliser predicted by DL4J's graph of the
 * spec (one request at a time: a graph keeps per-call state) and explained by differentiating an inference-mode copy
 * of it ({@link GradientGraph}), as snapshots answered before the plain-Java pass covered every spec.
 */
final class GraphSnapshot {

    private final ModelSpec spec;
    private final ComputationGraph graph;
    private final OnlineNormalizer normalizer;
    private GradientGraph gradients;

    GraphSnapshot(ModelSpec spec, float[] parameters, OnlineNormalizer normalizer) {
        this.spec = spec;
        ComputationGraphConfiguration configuration = NetworkBuilder.configuration(spec);
        // as serving built its graphs: no per-thread inference workspaces
        configuration.setInferenceWorkspaceMode(WorkspaceMode.NONE);
        this.graph = new ComputationGraph(configuration);
        graph.init(Nd4j.createFromArray(parameters).reshape(1, parameters.length), true);
        this.normalizer = normalizer;
    }

    /** The row-major outputs of {@code rows} raw rows, as {@link ModelSnapshot#predict}. */
    float[] predict(float[] features, int rows) {
        float[] x = features.clone();
        if (spec.normalize()) {
            normalizer.apply(x, rows);
        }
        INDArray input = Nd4j.create(x, new long[] {rows, spec.inputs()}, DataType.FLOAT);
        synchronized (graph) {
            return graph.outputSingle(false, input).data().asFloat();
        }
    }

    /** Integrated gradients over the graph copy's input gradient, as {@link ModelSnapshot#explain}. */
    Explanation explain(float[] features, int rows, int[] targets, Baseline baseline, int steps) {
        return IntegratedGradients.explain(gradientGraph(), spec, normalizer, features, rows, targets, baseline, steps);
    }

    /** The inference-mode copy of the graph that explanations differentiate, built on first use. */
    synchronized GradientGraph gradientGraph() {
        if (gradients == null) {
            gradients = GradientGraph.of(graph);
        }
        return gradients;
    }

    GradientGraph inputGradients() {
        return gradientGraph();
    }

    OnlineNormalizer normalizer() {
        return normalizer;
    }
}
