package dev.streamtrain.support;

import io.quarkus.arc.Unremovable;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Alternative;

import dev.streamtrain.model.FactorySnapshots;
import dev.streamtrain.model.ModelSnapshot;
import dev.streamtrain.training.ServedModel;

/**
 * The served model, with every published snapshot remade by {@code ModelSnapshot.of} (the plain-Java pass for dense
 * stacks) from the same parameters: serving tests answer through the factory whoever made the snapshot. Enabled by
 * {@link FactorySnapshotProfile}.
 */
@Alternative
@ApplicationScoped
@Unremovable
public class FactoryServedModel extends ServedModel {

    @Override
    public void publish(ModelSnapshot snapshot) {
        super.publish(FactorySnapshots.of(snapshot));
    }
}
