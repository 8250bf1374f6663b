package dev.streamtrain.support;

import io.quarkus.test.junit.QuarkusTestProfile;

import java.util.Set;

/** Serves snapshots made by {@code ModelSnapshot.of} ({@link FactoryServedModel}). */
public class FactorySnapshotProfile implements QuarkusTestProfile {

    @Override
    public Set<Class<?>> getEnabledAlternatives() {
        return Set.of(FactoryServedModel.class);
    }
}
