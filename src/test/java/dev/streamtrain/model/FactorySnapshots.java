package dev.streamtrain.model;

import dev.streamtrain.model.explain.GradientGraph;

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
     * The reference for {@code snapshot}: its parameters and normaliser on DL4J's graph of its spec, which predicts
     * with the graph and explains with {@link GradientGraph}, as every snapshot did before the plain-Java pass covered
     * the spec.
     */
    static GraphSnapshot onGraph(ModelSnapshot snapshot) {
        return new GraphSnapshot(snapshot.spec(), snapshot.parameters(), snapshot.normalizer().copy());
    }
}
