package dev.streamtrain.training;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The not-worse rule itself: a tolerance, and no promotion of a model whose loss is not a number. */
class PromotionRuleTest {

    @Test
    void notWorseWithinTheTolerance() {
        Promotion rule = new Promotion(true, 0.1, 10, 100);
        assertThat(rule.allows(1.0, 1.0)).isTrue();
        assertThat(rule.allows(0.5, 1.0)).isTrue();
        assertThat(rule.allows(1.09, 1.0)).isTrue();
        assertThat(rule.allows(1.11, 1.0)).isFalse();
        assertThat(new Promotion(true, 0, 10, 100).allows(1.0000001, 1.0)).isFalse();
    }

    @Test
    void aCandidateWhoseLossIsNotANumberIsNeverPromoted() {
        Promotion rule = new Promotion(true, 0.1, 10, 100);
        assertThat(rule.allows(Double.NaN, 1.0)).isFalse();
        assertThat(rule.allows(Double.POSITIVE_INFINITY, 1.0)).isFalse();
        assertThat(rule.allows(Double.NaN, Double.NaN)).isFalse();
        // a serving model whose loss is not a number does not stand in the way of a sound one
        assertThat(rule.allows(2.0, Double.NaN)).isTrue();
        assertThat(rule.allows(2.0, Double.POSITIVE_INFINITY)).isTrue();
    }
}
