package dev.streamtrain.model;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** Warm-up then cosine decay, against values computed by hand. */
class WarmupCosineScheduleTest {

    private static final double BASE = 0.1;
    private static final double MIN = 0.01;
    // 10 warm-up steps, then 100 steps of cosine decay ending at step 110
    private final WarmupCosineSchedule schedule = new WarmupCosineSchedule(BASE, 10, 110, MIN);

    @Test
    void warmUpRisesLinearlyToTheBaseRate() {
        assertThat(schedule.valueAt(0, 0)).isCloseTo(0.01, within(1e-12));
        assertThat(schedule.valueAt(4, 0)).isCloseTo(0.05, within(1e-12));
        assertThat(schedule.valueAt(9, 0)).isCloseTo(0.1, within(1e-12));
        for (int i = 1; i < 10; i++) {
            assertThat(schedule.valueAt(i, 0)).isGreaterThan(schedule.valueAt(i - 1, 0));
        }
    }

    @Test
    void cosineDecaysFromTheBaseRateToTheMinimum() {
        assertThat(schedule.valueAt(10, 0)).as("end of warm-up").isCloseTo(BASE, within(1e-12));
        // a quarter of the way: min + (base - min) * (1 + cos(pi/4)) / 2
        assertThat(schedule.valueAt(35, 0)).isCloseTo(0.0868198052, within(1e-9));
        assertThat(schedule.valueAt(60, 0)).as("midpoint").isCloseTo((BASE + MIN) / 2, within(1e-12));
        assertThat(schedule.valueAt(85, 0)).isCloseTo(0.0231801948, within(1e-9));
        for (int i = 11; i <= 110; i++) {
            assertThat(schedule.valueAt(i, 0)).isLessThan(schedule.valueAt(i - 1, 0));
        }
    }

    @Test
    void afterTheTotalStepsTheRateStaysAtTheMinimum() {
        assertThat(schedule.valueAt(110, 0)).isCloseTo(MIN, within(1e-12));
        assertThat(schedule.valueAt(111, 0)).isEqualTo(MIN);
        assertThat(schedule.valueAt(1_000_000, 0)).isEqualTo(MIN);
    }

    @Test
    void withoutWarmUpTheFirstStepUsesTheBaseRate() {
        WarmupCosineSchedule noWarmup = new WarmupCosineSchedule(0.2, 0, 4, 0.0);

        assertThat(noWarmup.valueAt(0, 0)).isCloseTo(0.2, within(1e-12));
        assertThat(noWarmup.valueAt(2, 0)).isCloseTo(0.1, within(1e-12));
        assertThat(noWarmup.valueAt(4, 0)).isEqualTo(0.0);
    }

    @Test
    void epochIsIgnoredAndCloneIsEquivalent() {
        var copy = schedule.clone();

        for (int i = 0; i < 120; i += 7) {
            assertThat(schedule.valueAt(i, 5)).isEqualTo(schedule.valueAt(i, 0));
            assertThat(copy.valueAt(i, 0)).isEqualTo(schedule.valueAt(i, 0));
        }
    }
}
