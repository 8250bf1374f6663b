package dev.streamtrain.model;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;

import dev.streamtrain.model.spec.ModelSpec;
import dev.streamtrain.model.spec.ModelSpecParser;

import static org.assertj.core.api.Assertions.assertThat;

/** Held-out rows are scored and never trained on: not by the optimizer, not by the normaliser. */
class HeldOutRowsTest {

    static final String SPEC = """
            name: held
            inputs: 4
            task: classification
            outputs: 3
            seed: 2
            layers:
              - dense: {units: 8}
              - batch-norm: {}
            batch-size: 6
            """;

    @Test
    void heldOutRowsMoveLastKeepingTheirOrder() {
        MiniBatch batch = new MiniBatch(5, 1, 1);
        for (int i = 0; i < 5; i++) {
            batch.add(new float[] {i}, new float[] {10 + i}, 1f + i, 0, i % 2 == 1);
        }
        assertThat(batch.holdOutLast()).isEqualTo(3);
        assertThat(Arrays.copyOf(batch.features(), 5)).containsExactly(0f, 2f, 4f, 1f, 3f);
        assertThat(Arrays.copyOf(batch.labels(), 5)).containsExactly(10f, 12f, 14f, 11f, 13f);
        assertThat(Arrays.copyOf(batch.weights(), 5)).containsExactly(1f, 3f, 5f, 2f, 4f);
        assertThat(Arrays.copyOf(batch.holdout(), 5)).containsExactly(false, false, false, true, true);
    }

    @Test
    void aStepWithHeldOutRowsTrainsExactlyAsOneWithoutThem() {
        ModelSpec spec = ModelSpecParser.parse(SPEC);
        Network withHeldOut = new Network(spec);
        Network without = new Network(spec);
        Random random = new Random(3);
        for (int step = 1; step <= 5; step++) {
            MiniBatch mixed = new MiniBatch(6, 4, 3);
            MiniBatch trainedOnly = new MiniBatch(6, 4, 3);
            for (int i = 0; i < 6; i++) {
                float[] x = {random.nextFloat(), random.nextFloat() * 10, random.nextFloat() - 5, random.nextFloat()};
                float[] y = new float[3];
                y[random.nextInt(3)] = 1f;
                boolean heldOut = i == 1 || i == 4;
                if (heldOut) {
                    // far from the others: it would move the normaliser and batch norm if they saw it
                    x[1] += 1000;
                }
                mixed.add(x, y, 1f, 0, heldOut);
                if (!heldOut) {
                    trainedOnly.add(x, y, 1f, 0);
                }
            }
            StepResult a = withHeldOut.step(mixed, false, step);
            StepResult b = without.step(trainedOnly, false, step);
            assertThat(a.holdout().examples()).isEqualTo(2);
            assertThat(a.train().examples()).isEqualTo(4);
            assertThat(a.train().lossSum()).isCloseTo(b.train().lossSum(), org.assertj.core.data.Offset.offset(1e-4));
        }
        assertThat(withHeldOut.parameters()).containsExactly(without.parameters());
        assertThat(withHeldOut.optimizerState()).containsExactly(without.optimizerState());
    }
}
