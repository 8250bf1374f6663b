package dev.streamtrain.support;

import io.quarkus.arc.Unremovable;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Alternative;
import org.eclipse.microprofile.config.ConfigProvider;

import java.util.concurrent.atomic.AtomicInteger;

import dev.streamtrain.model.ModelSnapshot;
import dev.streamtrain.training.ServedModel;

/**
 * The served model, checked at every publish: each snapshot that would serve answers every row of the data set
 * named by {@code test.probe-dataset} (see {@link TabularDataset}), and any non-finite output is counted. Enabled
 * by a test profile's {@code getEnabledAlternatives()}.
 */
@Alternative
@ApplicationScoped
@Unremovable
public class CheckedServedModel extends ServedModel {

    private final AtomicInteger published = new AtomicInteger();
    private final AtomicInteger nonFinite = new AtomicInteger();
    private volatile float[] probe;
    private volatile int rows;

    @Override
    public void publish(ModelSnapshot snapshot) {
        published.incrementAndGet();
        if (!outputsFinite(snapshot)) {
            nonFinite.incrementAndGet();
        }
        super.publish(snapshot);
    }

    private boolean outputsFinite(ModelSnapshot snapshot) {
        if (probe == null) {
            TabularDataset data = TabularDataset.load(ConfigProvider.getConfig()
                    .getValue("test.probe-dataset", String.class));
            float[] x = new float[data.size() * data.inputs()];
            for (int i = 0; i < data.size(); i++) {
                System.arraycopy(data.features()[i], 0, x, i * data.inputs(), data.inputs());
            }
            rows = data.size();
            probe = x;
        }
        for (float v : snapshot.predict(probe, rows)) {
            if (!Float.isFinite(v)) {
                return false;
            }
        }
        return true;
    }

    /** Snapshots published so far. */
    public int published() {
        return published.get();
    }

    /** Published snapshots that answered a non-finite output on the probe rows. */
    public int nonFinite() {
        return nonFinite.get();
    }
}
