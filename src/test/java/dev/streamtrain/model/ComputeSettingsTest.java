package dev.streamtrain.model;

import org.junit.jupiter.api.Test;

import java.util.Optional;

import dev.streamtrain.model.spec.ModelSpec;
import dev.streamtrain.model.spec.ModelSpecParser;

import static org.assertj.core.api.Assertions.assertThat;

/** The default thread count follows the model's size and the cores the process may use. */
class ComputeSettingsTest {

    private static ModelSpec spec(int inputs, int units, int batch) {
        return ModelSpecParser.parse("name: t\ninputs: " + inputs + "\ntask: classification\noutputs: 10\n"
                + "layers:\n  - dense: {units: " + units + "}\n  - dense: {units: " + units + "}\nbatch-size: " + batch + "\n");
    }

    @Test
    void smallModelsTrainOnOneThreadWideOnesLeaveOneCoreForIngest() {
        assertThat(ComputeSettings.choose(spec(64, 128, 32), 8)).isEqualTo(1);
        assertThat(ComputeSettings.choose(spec(512, 1024, 256), 8)).isEqualTo(7);
        assertThat(ComputeSettings.choose(spec(512, 1024, 256), 2)).isEqualTo(1);
        assertThat(ComputeSettings.choose(spec(512, 1024, 256), 1)).isEqualTo(1);
    }

    @Test
    void estimatesSixFlopsPerWeightPerExample() {
        // 64*128 + 128*128 + 128*10 weights, batch 32
        assertThat(ComputeSettings.estimatedStepFlops(spec(64, 128, 32))).isEqualTo(6.0 * (8192 + 16384 + 1280) * 32);
    }

    @Test
    void aConfiguredCountWins() {
        assertThat(ComputeSettings.resolve(Optional.of(3), spec(64, 128, 32))).isEqualTo(3);
    }
}
