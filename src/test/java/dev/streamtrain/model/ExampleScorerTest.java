package dev.streamtrain.model;

import org.junit.jupiter.api.Test;

import dev.streamtrain.model.spec.ModelSpec.LossKind;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** Per-example loss and correctness of the test half of test-then-train, from known outputs. */
class ExampleScorerTest {

    @Test
    void crossEntropyIsSmallForAConfidentCorrectPredictionAndLargeForAWrongOne() {
        ExampleScorer scorer = new ExampleScorer(LossKind.CROSS_ENTROPY, 3);
        float[] out = {0.98f, 0.01f, 0.01f};

        double right = scorer.loss(out, new float[] {1, 0, 0}, 0);
        double wrong = scorer.loss(out, new float[] {0, 1, 0}, 0);

        assertThat(right).isCloseTo(-Math.log(0.98), within(1e-6));
        assertThat(wrong).isCloseTo(-Math.log(0.01), within(1e-5));
        assertThat(scorer.correct(out, new float[] {1, 0, 0}, 0)).isTrue();
        assertThat(scorer.correct(out, new float[] {0, 1, 0}, 0)).isFalse();
    }

    @Test
    void crossEntropyWithSoftLabelsWeighsEachClass() {
        ExampleScorer scorer = new ExampleScorer(LossKind.CROSS_ENTROPY, 2);

        double loss = scorer.loss(new float[] {0.5f, 0.5f}, new float[] {0.25f, 0.75f}, 0);

        assertThat(loss).isCloseTo(Math.log(2), within(1e-9));
    }

    @Test
    void clippingKeepsAZeroProbabilityFinite() {
        ExampleScorer crossEntropy = new ExampleScorer(LossKind.CROSS_ENTROPY, 2);
        ExampleScorer binary = new ExampleScorer(LossKind.BINARY_CROSS_ENTROPY, 2);
        double bound = -Math.log(1e-7);

        double ce = crossEntropy.loss(new float[] {0f, 1f}, new float[] {1, 0}, 0);
        double bce = binary.loss(new float[] {0f, 1f}, new float[] {1, 0}, 0);

        assertThat(ce).isFinite().isCloseTo(bound, within(1e-6));
        assertThat(bce).isFinite().isCloseTo(2 * bound, within(1e-5));
        assertThat(binary.loss(new float[] {1f, 0f}, new float[] {1, 0}, 0)).isFinite().isLessThan(1e-6);
    }

    @Test
    void binaryCrossEntropyIsSummedOverOutputs() {
        ExampleScorer scorer = new ExampleScorer(LossKind.BINARY_CROSS_ENTROPY, 3);

        double loss = scorer.loss(new float[] {0.9f, 0.2f, 0.7f}, new float[] {1, 0, 1}, 0);

        assertThat(loss).isCloseTo(-(Math.log(0.9) + Math.log(0.8) + Math.log(0.7)), within(1e-6));
    }

    @Test
    void mseAndMaeAreAveragedOverOutputsOfTheRequestedRow() {
        ExampleScorer mse = new ExampleScorer(LossKind.MSE, 3);
        ExampleScorer mae = new ExampleScorer(LossKind.MAE, 3);
        // row 0 is a decoy: the scorer must read row 1
        float[] out = {100, 100, 100, 1, 2, 3};
        float[] labels = {0, 0, 0, 0, 0, -3};

        assertThat(mse.loss(out, labels, 1)).isCloseTo((1 + 4 + 36) / 3.0, within(1e-9));
        assertThat(mae.loss(out, labels, 1)).isCloseTo((1 + 2 + 6) / 3.0, within(1e-9));
        assertThat(mse.loss(out, new float[] {0, 0, 0, 1, 2, 3}, 1)).isZero();
    }

    @Test
    void singleLabelCorrectnessIsArgmaxAgreementOnTheRequestedRow() {
        ExampleScorer scorer = new ExampleScorer(LossKind.CROSS_ENTROPY, 4);
        float[] out = {0.7f, 0.1f, 0.1f, 0.1f, 0.1f, 0.2f, 0.3f, 0.4f};
        float[] labels = {0, 0, 0, 1, 0, 0, 0, 1};

        assertThat(scorer.correct(out, labels, 0)).isFalse();
        assertThat(scorer.correct(out, labels, 1)).isTrue();
    }

    @Test
    void multiLabelCorrectnessRequiresEveryOutputOnTheRightSideOfOneHalf() {
        ExampleScorer scorer = new ExampleScorer(LossKind.BINARY_CROSS_ENTROPY, 3);
        float[] out = {0.9f, 0.2f, 0.7f};

        assertThat(scorer.correct(out, new float[] {1, 0, 1}, 0)).isTrue();
        assertThat(scorer.correct(out, new float[] {1, 1, 1}, 0)).isFalse();
        assertThat(scorer.correct(out, new float[] {0, 0, 1}, 0)).isFalse();
        assertThat(scorer.correct(new float[] {0.1f, 0.4f, 0.45f}, new float[] {0, 0, 0}, 0)).isTrue();
    }
}
