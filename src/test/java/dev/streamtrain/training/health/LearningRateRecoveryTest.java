package dev.streamtrain.training.health;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

import dev.streamtrain.model.Network;
import dev.streamtrain.training.StepReport;
import dev.streamtrain.training.ExampleBlock;
import dev.streamtrain.training.TrainingEvent;

/**
 * A backed-off learning rate climbs back: after {@code recover-steps} (500) steps without an explosion or a
 * non-finite step, × {@code recover-factor} (2) per climb, each a {@code hyperparameters-changed} event with reason
 * {@code recovered}, up to the spec's rate, or the rate an operator last set, and never above it. The first step
 * after a climb has its layers measured. The count is part of the health state that checkpoints carry.
 */
class LearningRateRecoveryTest {

    static final String ADAM = "{type: adam, learning-rate: 0.01}";

    /** Wine, Adam at 0.01: trains {@code passes} passes step by step, calling {@code between} before each step. */
    static HealthHarness run(Network network, int passes, java.util.function.LongConsumer between) throws Exception {
        HealthHarness harness = new HealthHarness(network, HealthSettings.defaults());
        for (ExampleBlock block : HealthScenarios.stream(harness, HealthScenarios.Data.of("wine"), passes, true)) {
            harness.batcher.submit(block);
        }
        do {
            between.accept(harness.trainer.step());
        } while (harness.trainer.trainOnce(0));
        return harness;
    }

    static Network wine() {
        return new Network(HealthScenarios.spec(HealthScenarios.Data.of("wine"), ADAM, 16));
    }

    static List<TrainingEvent> recoveries(HealthHarness harness) {
        return harness.events("hyperparameters-changed").stream()
                .filter(e -> "recovered".equals(e.detail().get("reason"))).toList();
    }

    @Test
    void aBackedOffRateClimbsBackToTheSpecsAndNoFurther() throws Exception {
        Network network = wine();
        // three back-offs' worth (x0.5 each) at step 100, as an explosion answered three times would leave it
        HealthHarness harness = run(network, 160, step -> {
            if (step == 100) {
                network.scaleLearningRate(0.125);
            }
        });
        List<TrainingEvent> climbs = recoveries(harness);
        assertThat(harness.trainer.step()).isGreaterThan(1700);
        assertThat(climbs).extracting(TrainingEvent::step).containsExactly(601L, 1101L, 1601L);
        assertThat(climbs).extracting(e -> e.detail().get("learning-rate-scale"))
                .containsExactly(java.util.Map.of("from", 0.125, "to", 0.25), java.util.Map.of("from", 0.25, "to", 0.5),
                        java.util.Map.of("from", 0.5, "to", 1.0));
        assertThat(network.learningRateScale()).isEqualTo(1.0);
        assertThat(harness.steps).allMatch(s -> s.learningRate() <= 0.01 * (1 + 1e-6));
        // the step after each climb is measured, whatever the sampling interval (every 10 steps)
        for (TrainingEvent climb : climbs) {
            StepReport after = harness.steps.get((int) climb.step());
            assertThat(after.step()).isEqualTo(climb.step() + 1);
            assertThat(after.result().layers()).as("layers of step %d", after.step()).isNotNull();
        }
        assertThat(harness.events("exploding-gradient")).isEmpty();
        assertThat(harness.events("vanishing-gradient")).isEmpty();
    }

    @Test
    void aClimbNeverGoesAboveTheRateAnOperatorSet() throws Exception {
        Network network = wine();
        HealthHarness harness = run(network, 150, step -> {
            if (step == 100) {
                network.setLearningRate(0.004);
            } else if (step == 200) {
                // a back-off of the operator's rate (x0.25): climbs back to 0.004, not to the spec's 0.01
                network.scaleLearningRate(0.25);
            }
        });
        List<TrainingEvent> climbs = recoveries(harness);
        assertThat(climbs).extracting(TrainingEvent::step).containsExactly(701L, 1201L);
        assertThat(network.learningRateCeiling()).isEqualTo(0.4, org.assertj.core.data.Offset.offset(1e-12));
        assertThat(network.learningRate()).isEqualTo(0.004, org.assertj.core.data.Offset.offset(1e-12));
        assertThat(harness.steps.subList(100, harness.steps.size()))
                .allMatch(s -> s.learningRate() <= 0.004 * (1 + 1e-6));
    }

    @Test
    void theCountTowardsTheNextClimbTravelsWithTheHealthState() throws Exception {
        Network network = wine();
        HealthHarness harness = run(network, 80, step -> {
            if (step == 100) {
                network.scaleLearningRate(0.25);
            }
        });
        TrainingHealth.State state = harness.trainer.health().state();
        assertThat(state.lastRateChangeStep()).isEqualTo(601L);
        assertThat(network.learningRateScale()).isEqualTo(0.5);
        // as a checkpoint stores it (JSON) and a restored trainer reads it back
        ObjectMapper json = new ObjectMapper();
        TrainingHealth.State read = json.readValue(json.writeValueAsString(state), TrainingHealth.State.class);
        TrainingHealth restored = new TrainingHealth(HealthSettings.defaults(), dev.streamtrain.training.TrainingEvents.NONE);
        restored.restore(read);
        assertThat(json.writeValueAsString(restored.state())).isEqualTo(json.writeValueAsString(state));
    }
}
