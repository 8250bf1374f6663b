package dev.streamtrain.model;

import org.junit.jupiter.api.Test;

import dev.streamtrain.model.explain.Explanation;
import dev.streamtrain.model.spec.ModelSpec;
import dev.streamtrain.model.spec.NetworkBuilder;

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

    @Test
    void theFactoryPredictsADenseStackWithoutALockAsTheGraphDoes() {
        ModelSpec spec = DigitsNetworks.spec("[{dense: {units: 64, activation: relu}}, {dense: {units: 32, activation: tanh}}]");
        Network network = DigitsNetworks.trained(spec, 1);
        // the network's own snapshots are the factory's; the graph is the reference
        ModelSnapshot served = network.snapshot(7);
        GraphSnapshot graph = new GraphSnapshot(spec, network.parameters(), served.normalizer().copy());
        assertThat(served.predictsWithoutLock()).isTrue();
        ModelSnapshot plain = ModelSnapshot.of(spec, network.parameters(), graph.normalizer().copy(), 7, served.createdAt());
        assertThat(plain.predictsWithoutLock()).isTrue();
        assertThat(plain.multiplyAdds(3)).isEqualTo(3L * (64 * 64 + 64 * 32 + 32 * 10));
        float[] x = DigitsNetworks.rows(0, 500);
        assertClose(graph.predict(x, 500), plain.predict(x, 500));
        assertThat(plain.parametersFinite()).isTrue();
        MiniBatch batch = new MiniBatch(4, spec.inputs(), spec.outputs());
        for (int i = 0; i < 4; i++) {
            batch.add(DigitsNetworks.DATA.features()[i], new float[spec.outputs()], 1f, 0);
        }
        assertThat(plain.outputsFinite(batch)).isTrue();

        // explanations differentiate the plain pass: the same attributions as the graph's, and no graph is built
        float[] rows = DigitsNetworks.rows(10, 3);
        Explanation expected = graph.explain(rows, 3, null, null, 16);
        Explanation actual = plain.explain(rows, 3, null, null, 16);
        for (int row = 0; row < 3; row++) {
            assertThat(actual.rows().get(row).target()).isEqualTo(expected.rows().get(row).target());
            assertClose(expected.rows().get(row).attributions(), actual.rows().get(row).attributions());
        }

        // a copy: training on does not change what the snapshot answers
        float[] before = plain.predict(x, 500);
        for (int i = 0; i < 3; i++) {
            network.trainStep(TestNetworks.randomBatch(spec, i));
        }
        assertThat(plain.predict(x, 500)).containsExactly(before);
    }

    /**
     * Batch norm too: its running statistics (trained by the lean engine) become one scale and shift per feature in the
     * plain pass, which predicts and explains as DL4J's graph does in inference, with no graph built.
     */
    @Test
    void theFactoryCoversBatchNormWithoutAGraph() {
        ModelSpec spec = DigitsNetworks.spec("[{dense: {units: 32, activation: tanh}}, {batch-norm: {}},"
                + " {residual: {units: 32, activation: relu, norm: batch}}]");
        Network network = DigitsNetworks.trained(spec, 1);
        ModelSnapshot plain = network.snapshot(3);
        GraphSnapshot graph = FactorySnapshots.onGraph(plain);
        assertThat(plain.predictsWithoutLock()).isTrue();
        assertPredictsAndExplainsAsTheGraph(plain, graph);
    }

    /**
     * Layer norm and residual blocks predict and explain in plain Java too: no graph, no lock, the graph's answers; the
     * health checks the trainer runs on a snapshot read the plain pass.
     */
    @Test
    void theFactoryCoversLayerNormAndResidualBlocksWithoutAGraph() {
        ModelSpec spec = DigitsNetworks.spec("[{dense: {units: 32, activation: relu, norm: layer}}, {dropout: {rate: 0.1}},"
                + " {residual: {units: 32, activation: tanh, norm: layer}}, {residual: {units: 16, activation: relu, depth: 1}}]");
        Network network = DigitsNetworks.trained(spec, 1);
        ModelSnapshot plain = network.snapshot(3);
        GraphSnapshot graph = FactorySnapshots.onGraph(plain);
        assertThat(plain.predictsWithoutLock()).isTrue();
        assertThat(plain.multiplyAdds(1)).isEqualTo(64 * 32 + 2 * 32 * 32 + 32 * 16 + 16 * 16 + 16 * 10);
        assertPredictsAndExplainsAsTheGraph(plain, graph);
        assertThat(plain.parametersFinite()).isTrue();
        MiniBatch batch = new MiniBatch(4, spec.inputs(), spec.outputs());
        for (int i = 0; i < 4; i++) {
            batch.add(DigitsNetworks.DATA.features()[i], new float[spec.outputs()], 1f, 0);
        }
        assertThat(plain.outputsFinite(batch)).isTrue();
        float[] parameters = plain.parameters();
        // the output layer's last bias (the flat layout ends with it): the logits, and so the softmax, are not finite
        parameters[parameters.length - 1] = Float.POSITIVE_INFINITY;
        ModelSnapshot broken = ModelSnapshot.of(spec, parameters, plain.normalizer().copy(), 4, plain.createdAt());
        assertThat(broken.parametersFinite()).isFalse();
        assertThat(broken.outputsFinite(batch)).isFalse();
    }

    @Test
    void theFactoryCoversDropoutEntriesInARowWithoutAGraph() {
        // two dropout entries in a row: the last shape the plain pass once left to a graph
        ModelSpec spec = TestNetworks.spec("[{dense: {units: 16}}, {dropout: {rate: 0.2}}, {dropout: {rate: 0.1}}]",
                "{type: adam, learning-rate: 0.05}", null, null, true);
        Network network = new Network(spec);
        for (int i = 0; i < 5; i++) {
            network.trainStep(TestNetworks.randomBatch(spec, i));
        }
        ModelSnapshot plain = network.snapshot(5);
        assertThat(plain.predictsWithoutLock()).isTrue();
        GraphSnapshot graph = FactorySnapshots.onGraph(plain);
        float[] x = TestNetworks.randomBatch(spec, 100).featureRows();
        assertClose(graph.predict(x, TestNetworks.BATCH), plain.predict(x, TestNetworks.BATCH));
    }

    @Test
    void nonFiniteParametersAreReportedByTheFactorysSnapshot() {
        ModelSpec spec = DigitsNetworks.spec("[{dense: {units: 16, activation: relu}}]");
        float[] parameters = new Network(spec).parameters();
        OnlineNormalizer normalizer = new OnlineNormalizer(spec.inputs());
        assertThat(ModelSnapshot.of(spec, parameters, normalizer, 1, java.time.Instant.now()).parametersFinite()).isTrue();
        parameters[parameters.length - 1] = Float.NaN;
        ModelSnapshot broken = ModelSnapshot.of(spec, parameters, normalizer, 1, java.time.Instant.now());
        assertThat(broken.predictsWithoutLock()).isTrue();
        assertThat(broken.parametersFinite()).isFalse();
    }

    /** The plain snapshot's predictions and explanations are the graph's, and answering them built no graph. */
    private static void assertPredictsAndExplainsAsTheGraph(ModelSnapshot plain, GraphSnapshot graph) {
        float[] x = DigitsNetworks.rows(0, 500);
        assertClose(graph.predict(x, 500), plain.predict(x, 500));
        float[] rows = DigitsNetworks.rows(20, 3);
        Explanation expected = graph.explain(rows, 3, null, null, 32);
        Explanation actual = plain.explain(rows, 3, null, null, 32);
        for (int row = 0; row < 3; row++) {
            assertThat(actual.rows().get(row).target()).isEqualTo(expected.rows().get(row).target());
            assertClose(expected.rows().get(row).attributions(), actual.rows().get(row).attributions());
        }
    }

    /** Within 1e-5 of the largest value: the plain pass sums in another order than BLAS. */
    private static void assertClose(float[] expected, float[] actual) {
        assertThat(actual).hasSameSizeAs(expected);
        float largest = 0;
        for (float v : expected) {
            largest = Math.max(largest, Math.abs(v));
        }
        for (int i = 0; i < expected.length; i++) {
            assertThat(actual[i]).as("value %d", i).isCloseTo(expected[i], org.assertj.core.data.Offset.offset(1e-5f * largest));
        }
    }
}
