package dev.streamtrain.tuning;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Optional;

import dev.streamtrain.model.ComputeSettings;
import dev.streamtrain.model.spec.ModelSpec;
import dev.streamtrain.model.spec.ModelSpecParser;
import dev.streamtrain.tuning.TunerStreams.Curve;
import dev.streamtrain.tuning.TunerStreams.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The tuner works with every optimizer that has a learning rate, and with a schedule: on one pass of the digits
 * from a rate a hundred times too small, the population's served accuracy is far above that fixed rate's, and its
 * leader's rate has climbed.
 */
class TunerOptimizersTest {

    private static Stream digits;

    @BeforeAll
    static void load() {
        ComputeSettings.apply(Optional.of(1), null);
        digits = TunerStreams.digits(1);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            "sgd                               | 1e-4",
            "sgd, momentum: 0.9                | 1e-4",
            "adam                              | 1e-5",
            "adamw                             | 1e-5",
            "nadam                             | 1e-5",
            "amsgrad                           | 1e-5",
            "adamax                            | 2e-5",
            "rmsprop                           | 1e-5",
            "adagrad                           | 1e-4",
            "adam, schedule-step               | 1e-5"})
    void improvesOnATooSmallRate(String optimizer, double rate) {
        String type = optimizer.replace(", schedule-step", "");
        String text = TunerStreams.DIGITS_SPEC.replace("type: adam, learning-rate: %s", "type: " + type
                + ", learning-rate: " + rate).formatted(7L)
                + (optimizer.endsWith("schedule-step") ? "schedule: {type: step, factor: 0.5, every: 20}\n" : "");
        ModelSpec spec = ModelSpecParser.parse(text);
        Curve fixed = TunerStreams.fixed(digits, spec);
        // a hundred times too small: the wide span an operator configures for an optimizer whose rate may be far off
        Curve tuned = TunerStreams.tuned(digits, spec, TunerStreams.wideSpan(5));
        assertThat(tuned.accuracy()).as("served accuracy of the population vs the fixed rate %s (%s)", rate,
                fixed.accuracy()).isGreaterThan(fixed.accuracy() + 0.2);
        assertThat(tuned.exploits()).isPositive();
        assertThat(tuned.finalRate()).as("the leader's rate").isGreaterThan(10 * fixed.finalRate());
    }
}
