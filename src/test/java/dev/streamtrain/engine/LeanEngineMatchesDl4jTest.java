package dev.streamtrain.engine;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.streamtrain.model.ModelSpec;

/**
 * The lean engine against DL4J's graph, the reference: the same spec, the same initial parameters, the same
 * batches, {@value #STEPS} steps each; every step's loss, the parameters after the steps and the outputs of rows
 * not trained on must agree within a relative {@value #TOLERANCE} (float32).
 */
class LeanEngineMatchesDl4jTest {

    private static final int STEPS = 50;
    private static final int BATCH = 32;
    private static final double TOLERANCE = 1e-5;
    private static final String ADAM = "{type: adam, learning-rate: 0.01}";
    private static final String SGD = "{type: sgd, learning-rate: 0.1}";

    @ParameterizedTest(name = "digits, {0}, {1}, init {2}")
    @CsvSource(delimiter = '|', value = {
        "relu | adam | auto", "tanh | adam | auto", "sigmoid | adam | auto", "identity | adam | auto",
        "leaky-relu | adam | auto", "elu | adam | auto", "gelu | adam | auto", "selu | adam | auto",
        "softplus | adam | auto", "swish | adam | auto", "mish | adam | auto", "relu6 | adam | auto",
        "relu | sgd | auto", "tanh | sgd | auto", "sigmoid | sgd | auto", "leaky-relu | sgd | auto",
        "relu | adam | he-uniform", "tanh | adam | xavier-uniform", "tanh | adam | lecun-normal",
        "sigmoid | adam | lecun-uniform", "relu | adam | xavier"})
    void classificationMatches(String activation, String optimizer, String init) {
        String layer = "{dense: {units: 32, activation: " + activation + ", init: " + init + "}}";
        ModelSpec spec = ReferenceRun.spec("classification", 64, 10, "cross-entropy",
                "[" + layer + ", " + layer.replace("32", "16") + "]", optimizer.equals("adam") ? ADAM : SGD);
        assertSameTraining(spec, ReferenceRun.digits());
    }

    @ParameterizedTest(name = "wine alcohol, {0}, {1}")
    @CsvSource(delimiter = '|', value = {"relu | adam", "tanh | adam", "identity | sgd", "sigmoid | sgd"})
    void regressionMatches(String activation, String optimizer) {
        ModelSpec spec = ReferenceRun.spec("regression", 12, 1, "mse",
                "[{dense: {units: 24, activation: " + activation + "}}]",
                optimizer.equals("adam") ? ADAM : "{type: sgd, learning-rate: 0.05}");
        assertSameTraining(spec, ReferenceRun.wineAlcohol());
    }

    @Test
    void refusesWhatItDoesNotCompute() {
        assertThatThrownBy(() -> LeanNetwork.create(ReferenceRun.spec("classification", 64, 10, "cross-entropy",
                "[{dense: {units: 16}}, {dropout: {rate: 0.2}}]", ADAM)))
                .isInstanceOf(UnsupportedSpecException.class).hasMessageContaining("stack of dense layers");
        assertThatThrownBy(() -> LeanNetwork.create(ReferenceRun.spec("classification", 64, 10, "cross-entropy",
                "[{dense: {units: 16}}]", "{type: rmsprop, learning-rate: 0.01}")))
                .isInstanceOf(UnsupportedSpecException.class).hasMessageContaining("optimizer rmsprop");
        assertThatThrownBy(() -> LeanNetwork.create(ReferenceRun.spec("classification", 64, 10, "cross-entropy",
                "[{dense: {units: 16, norm: layer}}]", ADAM)))
                .isInstanceOf(UnsupportedSpecException.class).hasMessageContaining("layer norm");
        assertThatThrownBy(() -> LeanNetwork.create(ReferenceRun.spec("regression", 64, 1, "mae",
                "[{dense: {units: 16}}]", ADAM)))
                .isInstanceOf(UnsupportedSpecException.class).hasMessageContaining("loss mae");
    }

    private static void assertSameTraining(ModelSpec spec, ReferenceRun data) {
        ComputationGraph graph = ReferenceRun.graph(spec);
        try (LeanNetwork lean = LeanNetwork.create(spec)) {
            // the engine draws DL4J's initial parameters itself: the same seed, initialisers and order
            assertClose("initial parameters", lean.parameters(), graph.params(), 0.0);
            for (int step = 0; step < STEPS; step++) {
                float[][] batch = data.batch(step, BATCH);
                graph.fit(new INDArray[] {ReferenceRun.matrix(batch[0], BATCH)},
                        new INDArray[] {ReferenceRun.matrix(batch[1], BATCH)});
                double expected = graph.score();
                double actual = lean.fit(batch[0], batch[1], BATCH);
                assertThat(Math.abs(actual - expected))
                        .as("loss of step %d: lean %s, DL4J %s", step, actual, expected)
                        .isLessThanOrEqualTo(TOLERANCE * Math.abs(expected));
            }
            // the vector's norm: Adam turns one-ulp differences of a nearly cancelling gradient into an update's size,
            // so single parameters drift by up to ~2e-5 of the largest one over 50 steps (tanh, softplus)
            assertNormClose("parameters after " + STEPS + " steps", lean.parameters(), graph.params());
            float[][] unseen = data.batch(1_000, 100);
            INDArray expected = graph.outputSingle(false, ReferenceRun.matrix(unseen[0], 100));
            INDArray actual = ReferenceRun.matrix(lean.output(unseen[0], 100), 100);
            assertClose("outputs of 100 rows", actual, expected, TOLERANCE);
        }
    }

    private static void assertNormClose(String what, INDArray actual, INDArray expected) {
        double difference = actual.reshape(expected.shape()).sub(expected).norm2Number().doubleValue();
        double norm = expected.norm2Number().doubleValue();
        System.out.printf("%s: |lean - DL4J| / |DL4J| = %.3g%n", what, difference / norm);
        assertThat(difference).as("%s: |lean - DL4J| = %s, |DL4J| = %s", what, difference, norm)
                .isLessThanOrEqualTo(TOLERANCE * norm);
        assertClose(what, actual, expected, 1e-4);
    }

    /** Relative to the largest magnitude of the reference: a per-element ratio would blow up near zero. */
    private static void assertClose(String what, INDArray actual, INDArray expected, double tolerance) {
        float[] a = actual.dup().data().asFloat();
        float[] e = expected.dup().data().asFloat();
        assertThat(a).as(what).hasSameSizeAs(e);
        double scale = 0;
        double worst = 0;
        int at = -1;
        for (int i = 0; i < e.length; i++) {
            scale = Math.max(scale, Math.abs(e[i]));
            if (Math.abs(a[i] - e[i]) > worst) {
                worst = Math.abs(a[i] - e[i]);
                at = i;
            }
        }
        System.out.printf("%s: max |lean - DL4J| = %.3g, relative to max |DL4J| = %.3g%n", what, worst, worst / scale);
        assertThat(worst).as("%s: element %d is %s in the lean engine, %s in DL4J", what, at,
                at < 0 ? 0 : a[at], at < 0 ? 0 : e[at]).isLessThanOrEqualTo(tolerance * scale);
    }
}
