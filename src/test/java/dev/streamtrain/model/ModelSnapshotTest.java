package dev.streamtrain.model;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** A snapshot answers like the network at its step, and keeps answering so while the network trains on. */
class ModelSnapshotTest {

    private static final String LAYERS = "[{dense: {units: 16}}, {batch-norm: {}}, {residual: {units: 16, norm: layer}}]";

    @Test
    void aSnapshotIsFrozenAtItsStepAndCarriesBatchNormStatistics() {
        ModelSpec spec = TestNetworks.spec(LAYERS, "{type: adam, learning-rate: 0.05}", null, null, true);
        Network network = new Network(spec);
        for (int i = 0; i < 5; i++) {
            network.trainStep(TestNetworks.randomBatch(spec, i));
        }
        float[] x = TestNetworks.randomBatch(spec, 100).featureRows();
        ModelSnapshot first = network.snapshot(5);
        float[] before = first.predict(x, TestNetworks.BATCH);
        assertThat(network.snapshot(5).predict(x, TestNetworks.BATCH)).containsExactly(before);

        for (int i = 5; i < 10; i++) {
            network.trainStep(TestNetworks.randomBatch(spec, i));
        }
        assertThat(first.predict(x, TestNetworks.BATCH)).containsExactly(before);
        assertThat(network.snapshot(10).predict(x, TestNetworks.BATCH)).isNotEqualTo(before);
        assertThat(first.version()).isEqualTo("5");
    }

    @Test
    void predictionsAreProbabilitiesAndLeaveTheCallersArrayAlone() {
        ModelSpec spec = TestNetworks.spec(LAYERS, null, null, null, true);
        Network network = new Network(spec);
        network.trainStep(TestNetworks.randomBatch(spec, 1));
        float[] x = TestNetworks.randomBatch(spec, 2).featureRows();
        float[] copy = x.clone();
        float[] p = network.snapshot(1).predict(x, TestNetworks.BATCH);
        assertThat(x).containsExactly(copy);
        assertThat(p).hasSize(TestNetworks.BATCH * TestNetworks.CLASSES);
        for (int row = 0; row < TestNetworks.BATCH; row++) {
            double sum = 0;
            for (int k = 0; k < TestNetworks.CLASSES; k++) {
                sum += p[row * TestNetworks.CLASSES + k];
            }
            assertThat(sum).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-5));
        }
    }

    @Test
    void explanationsRunBesidePredictionsWithoutDisturbingThem() throws Exception {
        ModelSpec spec = TestNetworks.spec(LAYERS, null, null, null, true);
        Network network = new Network(spec);
        for (int i = 0; i < 5; i++) {
            network.trainStep(TestNetworks.randomBatch(spec, i));
        }
        ModelSnapshot snapshot = network.snapshot(5);
        float[] x = TestNetworks.randomBatch(spec, 100).featureRows();
        float[] expected = snapshot.predict(x, TestNetworks.BATCH);
        Explanation alone = snapshot.explain(x, TestNetworks.BATCH, null, null, 32);
        var pool = java.util.concurrent.Executors.newFixedThreadPool(3);
        try {
            var explanations = new java.util.ArrayList<java.util.concurrent.Future<Explanation>>();
            for (int i = 0; i < 4; i++) {
                explanations.add(pool.submit(() -> snapshot.explain(x, TestNetworks.BATCH, null, null, 32)));
            }
            var predictions = pool.submit(() -> {
                for (int i = 0; i < 200; i++) {
                    assertThat(snapshot.predict(x, TestNetworks.BATCH)).containsExactly(expected);
                }
                return null;
            });
            predictions.get();
            for (var e : explanations) {
                for (int row = 0; row < TestNetworks.BATCH; row++) {
                    assertThat(e.get().rows().get(row).attributions()).containsExactly(alone.rows().get(row).attributions());
                }
            }
        } finally {
            pool.shutdown();
        }
    }
}
