package dev.streamtrain.model;

/**
 * Snapshots made by {@link ModelSnapshot#of} (the plain-Java pass for dense stacks) from those {@link Network}
 * makes, so that tests outside this package serve through the factory.
 */
public final class FactorySnapshots {

    private FactorySnapshots() {
    }

    /** A snapshot of the same parameters, normaliser, step and time as {@code snapshot}, made by the factory. */
    public static ModelSnapshot of(ModelSnapshot snapshot) {
        return ModelSnapshot.of(snapshot.spec(), snapshot.graph().params(), snapshot.normalizer().copy(),
                snapshot.step(), snapshot.createdAt());
    }
}
