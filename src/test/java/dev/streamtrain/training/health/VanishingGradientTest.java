package dev.streamtrain.training.health;

import org.jboss.logging.Logger;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.streamtrain.model.LayerHealth;
import dev.streamtrain.model.spec.ModelSpecParser;
import dev.streamtrain.training.TrainingEvent;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Twelve dense sigmoid layers without normalisation or skip connections: the gradient that reaches the first
 * layer is tens of millions of times smaller than the output layer's, the vanishing-gradient detector reports
 * it and keeps its alarm on, and the network learns nothing in three passes over the digits. The same depth
 * built from residual blocks with layer normalisation learns the digits on the same stream without an alarm.
 * Deep tanh (Xavier) and ReLU (He) stacks of the same depth are measured alongside. The figures are printed
 * as the table of the README's "When to reach for normalisation and residual blocks".
 */
class VanishingGradientTest {

    private static final Logger LOG = Logger.getLogger(VanishingGradientTest.class);

    static final int PASSES = 3;
    /** Dense layers below the output layer, in every spec. */
    static final int DEPTH = 12;
    static final int SAMPLE_EVERY_STEPS = 5;

    static final Map<String, Run> RUNS = new LinkedHashMap<>();

    static String spec(String name, String layer, int times) {
        return """
                name: %s
                inputs: 64
                task: classification
                outputs: 10
                seed: 11
                layers:
                %soptimizer: {type: adam, learning-rate: 0.001}
                batch-size: 32
                """.formatted(name, ("  - " + layer + "\n").repeat(times));
    }

    static final String SIGMOID = spec("deep-sigmoid", "dense: {units: 64, activation: sigmoid}", DEPTH);
    static final String TANH = spec("deep-tanh", "dense: {units: 64, activation: tanh}", DEPTH);
    static final String RELU = spec("deep-relu", "dense: {units: 64, activation: relu, init: he}", DEPTH);
    static final String RESIDUAL = spec("deep-residual",
            "residual: {units: 64, activation: relu, depth: 2, norm: layer}", DEPTH / 2);

    /** The default thresholds, sampled every few steps; no drift answer to change the learning rate. */
    static HealthSettings settings() {
        HealthSettings d = HealthSettings.defaults();
        return new HealthSettings(SAMPLE_EVERY_STEPS, d.goodStateEverySteps(), d.gradients(), d.backoffFactor(),
                d.minLearningRateScale(), d.holdoutHalfLife(), d.overfitting(),
                new HealthSettings.Drift("none", 0.002, 30, 0.005, 50, 0.9999, "none", 1, 1, 100));
    }

    record Run(String structure, HealthHarness harness) {

        List<LayerHealth> layers() {
            return harness.trainer.health().view().layers();
        }

        /** The first layer's gradient norm over the output layer's, on the last sampled step. */
        double firstToOutput() {
            List<LayerHealth> layers = layers();
            return layers.get(0).gradientNorm() / layers.get(layers.size() - 1).gradientNorm();
        }

        double accuracy() {
            return harness.trainer.stats().accuracy();
        }

        double recentAccuracy() {
            return harness.trainer.stats().recentAccuracy();
        }

        List<TrainingEvent> vanishing() {
            return harness.events("vanishing-gradient");
        }

        boolean alarm() {
            return harness.trainer.health().view().alarms().get("vanishing-gradient");
        }
    }

    @BeforeAll
    static void train() throws Exception {
        measure("sigmoid", "12 × dense 64 sigmoid (Xavier), plain", SIGMOID);
        measure("tanh", "12 × dense 64 tanh (Xavier), plain", TANH);
        measure("relu", "12 × dense 64 relu (He), plain", RELU);
        measure("residual", "6 × residual {64, relu, depth 2, norm: layer} (12 dense)", RESIDUAL);
        StringBuilder table = new StringBuilder(String.format("%nVanishingGradientTest: digits, %d shuffled passes"
                + " (%d examples), batch 32, adam 0.001, seed 11, sampled every %d steps%n", PASSES, PASSES * 1797,
                SAMPLE_EVERY_STEPS));
        table.append("| spec | prequential accuracy (all passes / recent) | first layer / output gradient norm"
                + " | `vanishing-gradient` |\n|---|---|---|---|\n");
        for (Run run : RUNS.values()) {
            table.append(String.format("| %s | %.2f / %.2f | %.1e | %s |%n", run.structure(), run.accuracy(),
                    run.recentAccuracy(), run.firstToOutput(),
                    run.vanishing().isEmpty() ? "no" : "yes, at step " + run.vanishing().get(0).step()));
        }
        for (Map.Entry<String, Run> run : RUNS.entrySet()) {
            table.append(String.format("%s, step %d, gradient norms input to output:", run.getKey(),
                    run.getValue().harness().trainer.health().view().layersStep()));
            run.getValue().layers().forEach(l -> table.append(String.format(" %.2e", l.gradientNorm())));
            table.append('\n');
        }
        LOG.info(table);
    }

    static void measure(String key, String structure, String spec) throws Exception {
        long start = System.nanoTime();
        HealthHarness harness = new HealthHarness(ModelSpecParser.parse(spec), settings());
        harness.train(ExplodingGradientTest.digits(harness, PASSES));
        LOG.infof("%s: trained in %.1f s", key, (System.nanoTime() - start) / 1e9);
        RUNS.put(key, new Run(structure, harness));
    }

    @Test
    void aDeepPlainSigmoidStackIsReportedAsVanishingAndDoesNotLearn() {
        Run sigmoid = RUNS.get("sigmoid");
        List<TrainingEvent> events = sigmoid.vanishing();
        // reported once per episode, after `patience` (3) collapsed samples at steps 5, 10, 15
        assertThat(events).hasSize(1);
        TrainingEvent event = events.get(0);
        assertThat(event.step()).isLessThanOrEqualTo(5L * SAMPLE_EVERY_STEPS);
        assertThat(event.detail())
                .containsEntry("reason", "early-gradients-collapsed")
                .containsEntry("first-layer", "layer0_dense")
                .containsEntry("layer", "layer0_dense")
                .containsEntry("threshold", 1e-4);
        assertThat((double) event.detail().get("first-to-output-norm-ratio")).isLessThan(1e-5);
        assertThat(event.detail().get("answer").toString()).startsWith("none");
        assertThat(sigmoid.alarm()).isTrue();
        assertThat(sigmoid.harness().events("exploding-gradient")).isEmpty();

        // the collapse is in the per-layer view: the norm shrinks layer by layer toward the input
        List<LayerHealth> layers = sigmoid.layers();
        assertThat(layers).hasSize(DEPTH + 1);
        assertThat(layers.get(DEPTH).layer()).isEqualTo("output");
        for (int i = 0; i < DEPTH; i++) {
            assertThat(layers.get(i).gradientNorm()).as(layers.get(i).layer())
                    .isLessThan(layers.get(i + 1).gradientNorm());
        }
        assertThat(sigmoid.firstToOutput()).isLessThan(1e-5);
        assertThat(layers.get(DEPTH).gradientNorm()).isGreaterThan(0.1);

        // chance is 0.1
        assertThat(sigmoid.accuracy()).isLessThan(0.2);
        assertThat(sigmoid.recentAccuracy()).isLessThan(0.2);
        assertThat(sigmoid.harness().publishedNonFinite).isZero();
        assertThat(sigmoid.harness().published).isPositive();
    }

    @Test
    void residualBlocksWithLayerNormOfTheSameDepthLearnWithoutAlarm() {
        Run residual = RUNS.get("residual");
        Run sigmoid = RUNS.get("sigmoid");
        assertThat(residual.vanishing()).isEmpty();
        assertThat(residual.alarm()).isFalse();
        List<LayerHealth> layers = residual.layers();
        // as many layers with weights as the plain stack: 12 dense and the output layer, no projection
        assertThat(layers).hasSize(DEPTH + 1);
        assertThat(layers.get(0).layer()).isEqualTo("layer0_dense0");
        assertThat(residual.firstToOutput()).isGreaterThan(0.1);
        assertThat(residual.accuracy()).isGreaterThan(0.7).isGreaterThan(sigmoid.accuracy() + 0.5);
        assertThat(residual.recentAccuracy()).isGreaterThan(0.85);
        assertThat(residual.harness().publishedNonFinite).isZero();
    }

    @Test
    void deepTanhAndHeInitialisedReluStacksKeepTheirGradientsToo() {
        for (String key : List.of("tanh", "relu")) {
            Run run = RUNS.get(key);
            assertThat(run.vanishing()).as(key).isEmpty();
            assertThat(run.alarm()).as(key).isFalse();
            assertThat(run.firstToOutput()).as(key).isGreaterThan(0.1);
            assertThat(run.accuracy()).as(key).isGreaterThan(0.5);
            assertThat(run.harness().publishedNonFinite).as(key).isZero();
        }
    }
}
