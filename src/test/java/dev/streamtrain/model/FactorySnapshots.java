package dev.streamtrain.model;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.WorkspaceMode;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.factory.Nd4j;

import dev.streamtrain.model.explain.GradientGraph;
import dev.streamtrain.model.spec.NetworkBuilder;

/**
 * Snapshots made by {@link ModelSnapshot#of} (the plain-Java pass wherever it covers the spec) from those
 * {@link Network} makes, so that tests outside this package serve through the factory; and the reference for them:
 * the same parameters served and explained by a DL4J graph.
 */
public final class FactorySnapshots {

    private FactorySnapshots() {
    }

    /** A snapshot of the same parameters, normaliser, step and time as {@code snapshot}, made by the factory. */
    public static ModelSnapshot of(ModelSnapshot snapshot) {
        return ModelSnapshot.of(snapshot.spec(), snapshot.parameters(), snapshot.normalizer().copy(),
                snapshot.step(), snapshot.createdAt());
    }

    /**
     * The same snapshot on DL4J's graph of its spec: it predicts with the graph and explains with
     * {@link GradientGraph}, as every snapshot did before the plain-Java pass covered the spec.
     */
    static ModelSnapshot onGraph(ModelSnapshot snapshot) {
        ComputationGraphConfiguration configuration = NetworkBuilder.configuration(snapshot.spec());
        // as the factory builds a serving graph: no per-thread inference workspaces
        configuration.setInferenceWorkspaceMode(WorkspaceMode.NONE);
        ComputationGraph graph = new ComputationGraph(configuration);
        float[] parameters = snapshot.parameters();
        graph.init(Nd4j.createFromArray(parameters).reshape(1, parameters.length), true);
        return new ModelSnapshot(snapshot.spec(), graph, snapshot.normalizer().copy(), snapshot.step(),
                snapshot.createdAt());
    }
}
