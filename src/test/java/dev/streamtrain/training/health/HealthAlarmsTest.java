package dev.streamtrain.training.health;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

import dev.streamtrain.training.TrainingEvent;

/**
 * The key cases of {@link HealthConfusionBenchmarkTest}, with the production default health settings: a healthy
 * model that fits its data raises no alarm and keeps its learning rate; an operator's ×1000 is caught on the first
 * step after it; a ReLU layer initialised to zeros is reported dead; plain SGD at 10 is caught at once.
 */
class HealthAlarmsTest {

    @Test
    void wineWithAdamAtOneHundredthFor150PassesRaisesNoAlarmAndKeepsItsLearningRate() throws Exception {
        HealthScenarios.Outcome wine = HealthScenarios.healthy("wine", "{type: adam, learning-rate: 0.01}", 16, 150);
        // 150 passes of 178 rows (5 % held out) in batches of 16: the model fits and one misclassified example
        // then dominates a batch's gradient, and a converged model's updates are small; neither is a fault
        assertThat(wine.steps()).isGreaterThan(1600);
        assertThat(wine.alarms()).isEmpty();
        assertThat(wine.scale()).isEqualTo(1.0);
        assertThat(wine.recentAccuracy()).isGreaterThan(0.95);
    }

    @Test
    void aLearningRateSetThousandTimesTooHighIsCaughtOnTheFirstStepAfter() throws Exception {
        HealthScenarios.Outcome outcome = HealthScenarios.adamTimesThousand();
        List<TrainingEvent> explosions = outcome.of("exploding-gradient");
        assertThat(explosions).isNotEmpty();
        assertThat(explosions.get(0).step()).isEqualTo(outcome.faultStep());
        assertThat(explosions.get(0).detail()).containsEntry("reason", "update-ratio-spike-after-raise");
        assertThat(explosions.get(0).detail().get("answer").toString()).startsWith("learning rate x0.5");
        assertThat(outcome.events()).filteredOn(e -> e.step() < outcome.faultStep())
                .noneMatch(e -> List.of("exploding-gradient", "vanishing-gradient", "non-finite-loss")
                        .contains(e.type()));
    }

    @Test
    void aReluLayerInitialisedToZerosIsReportedDead() throws Exception {
        HealthScenarios.Outcome outcome = HealthScenarios.zeroedLayer();
        List<TrainingEvent> vanishing = outcome.of("vanishing-gradient");
        assertThat(vanishing).hasSize(1);
        // sampled every 10 steps, the first 3 samples in a row
        assertThat(vanishing.get(0).step()).isEqualTo(30);
        assertThat(vanishing.get(0).detail()).containsEntry("reason", "relu-layer-dead")
                .containsEntry("layer", "layer1_dense").containsEntry("dead-fraction", 1.0);
        assertThat(outcome.of("exploding-gradient")).isEmpty();
        // it does not learn: chance is 0.1
        assertThat(outcome.recentAccuracy()).isLessThan(0.3);
    }

    @Test
    void plainSgdAtTenIsCaughtAtOnce() throws Exception {
        HealthScenarios.Outcome outcome = HealthScenarios.sgdAtTen();
        assertThat(outcome.alarms()).isNotEmpty();
        assertThat(outcome.alarms().get(0).step()).isLessThanOrEqualTo(10);
        assertThat(outcome.scale()).isLessThan(1.0);
    }
}
