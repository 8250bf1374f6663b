package dev.streamtrain.training.health;

import org.jboss.logging.Logger;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The health rules' confusion table, with the production default settings: healthy streams (six data sets, three
 * optimizers at sensible rates, many passes) must raise no exploding, vanishing or non-finite alarm and end with
 * the learning rate at the spec's (scale 1); each fault must be caught. Takes a few minutes: run it with
 * {@code ./mvnw -B -o test -Pbenchmark -Dtest=HealthConfusionBenchmarkTest}.
 */
@Tag("benchmark")
class HealthConfusionBenchmarkTest {

    private static final Logger LOG = Logger.getLogger(HealthConfusionBenchmarkTest.class);

    static final List<String> OPTIMIZERS = List.of("{type: adam, learning-rate: 0.01}",
            "{type: adam, learning-rate: 0.001}", "{type: sgd, learning-rate: 0.05, momentum: 0.9}");

    @Test
    void healthyStreamsRaiseNoAlarmAndEveryFaultIsCaught() throws Exception {
        List<HealthScenarios.Outcome> outcomes = new ArrayList<>();
        for (String optimizer : OPTIMIZERS) {
            outcomes.add(HealthScenarios.healthy("wine", optimizer, 16, 150));
            outcomes.add(HealthScenarios.healthy("digits", optimizer, 32, 10));
            outcomes.add(HealthScenarios.healthy("breast-cancer", optimizer, 32, 40));
            outcomes.add(HealthScenarios.healthy("waveform", optimizer, 32, 2));
            outcomes.add(HealthScenarios.healthy("rbf", optimizer, 32, 2));
            outcomes.add(HealthScenarios.healthy("sea-drift", optimizer, 32, 2));
        }
        outcomes.add(HealthScenarios.sgdAtTen());
        outcomes.add(HealthScenarios.adamTimesThousand());
        outcomes.add(HealthScenarios.zeroedLayer());
        outcomes.add(HealthScenarios.deepSigmoid());
        LOG.info(table(outcomes));

        for (HealthScenarios.Outcome outcome : outcomes) {
            if (outcome.fault()) {
                assertThat(outcome.alarms()).as(outcome.name()).isNotEmpty();
            } else {
                assertThat(outcome.alarms()).as(outcome.name()).isEmpty();
                assertThat(outcome.scale()).as(outcome.name()).isEqualTo(1.0);
            }
        }
    }

    static String table(List<HealthScenarios.Outcome> outcomes) {
        StringBuilder table = new StringBuilder(String.format("%nHealthConfusionBenchmarkTest: production default"
                + " health settings, 5 %% held out%n| stream | steps | exploding | vanishing | non-finite | first alarm"
                + " | overfitting | drift | final lr scale | recent accuracy |%n|---|---|---|---|---|---|---|---|---|---|%n"));
        int[][] confusion = new int[2][2];
        for (HealthScenarios.Outcome o : outcomes) {
            table.append(String.format("| %s%s | %d | %d | %d | %d | %s | %d | %d | %.3g | %.3f |%n",
                    o.fault() ? "FAULT: " : "", o.name(), o.steps(), o.of("exploding-gradient").size(),
                    o.of("vanishing-gradient").size(), o.of("non-finite-loss").size(), o.firstAlarm(),
                    o.of("overfitting-detected").size(), o.of("drift-detected").size(), o.scale(),
                    o.recentAccuracy()));
            confusion[o.fault() ? 1 : 0][o.alarms().isEmpty() ? 0 : 1]++;
        }
        table.append(String.format("%n| | no alarm | alarm |%n|---|---|---|%n| healthy | %d | %d |%n| fault | %d | %d |%n",
                confusion[0][0], confusion[0][1], confusion[1][0], confusion[1][1]));
        return table.toString();
    }
}
