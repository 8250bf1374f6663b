package dev.streamtrain.tuning;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import dev.streamtrain.model.ComputeSettings;
import dev.streamtrain.model.MiniBatch;
import dev.streamtrain.model.spec.ModelSpec;
import dev.streamtrain.model.spec.ModelSpecParser;
import dev.streamtrain.model.Network;
import dev.streamtrain.tuning.TunerStreams.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.offset;

/** The population's mechanics on the digits: exploit copies the whole state, restores continue exactly. */
class PopulationTunerTest {

    static Stream digits;

    @BeforeAll
    static void load() {
        ComputeSettings.apply(Optional.of(1), null);
        digits = TunerStreams.digits(0);
    }

    /**
     * Two members, one at a rate far too small: at the first decision it becomes a copy of the other. The copy
     * carries the optimizer state (Adam's moments), the step count and the normaliser, not only the weights (the bug
     * Ray Tune's PBT once had): given the donor's rate, the copy takes the very same next step as the donor.
     */
    @Test
    void exploitCopiesWeightsOptimizerStateAndCounters() {
        ModelSpec spec = digits.spec(1e-2, 7);
        TunerSettings settings = new TunerSettings(2, 1e-3, 1, 3, 2, 0.5, 2, 1e-4, 10, 5);
        PopulationTuner tuner = PopulationTuner.create(spec, settings);
        float[] before = tuner.member(0).optimizerState();
        List<Exploit> exploits = new ArrayList<>();
        int b = 0;
        while (exploits.isEmpty()) {
            assertThat(b).as("an exploit within the first decisions").isLessThan(12);
            exploits.addAll(tuner.step(batch(b++, spec)).exploits());
        }
        Exploit exploit = exploits.get(0);
        assertThat(exploit.member()).isEqualTo(0);
        assertThat(exploit.donor()).isEqualTo(1);
        assertThat(exploit.reason()).isEqualTo("ranked");
        Network copy = tuner.member(0);
        Network donor = tuner.member(1);
        assertThat(copy.parameters()).isEqualTo(donor.parameters());
        assertThat(copy.optimizerState()).isEqualTo(donor.optimizerState()).isNotEqualTo(before);
        assertThat(exploit.rate()).isIn(donor.learningRate() * 2, donor.learningRate() / 2);
        MiniBatch next = batch(b, spec);
        assertThat(copy.rowLosses(next)).isEqualTo(donor.rowLosses(next));

        copy.setLearningRate(donor.learningRate());
        MiniBatch forCopy = batch(b, spec);
        MiniBatch forDonor = batch(b, spec);
        copy.step(forCopy, false, b);
        donor.step(forDonor, false, b);
        assertThat(copy.parameters()).isEqualTo(donor.parameters());
        assertThat(copy.optimizerState()).isEqualTo(donor.optimizerState());
    }

    /** A tuner restored from its state mid-stream takes exactly the steps and moves the uninterrupted one takes. */
    @Test
    void restoredTunerContinuesBitForBit() throws IOException {
        ModelSpec spec = digits.spec(1e-3, 7);
        TunerSettings settings = TunerSettings.defaults(3);
        PopulationTuner whole = PopulationTuner.create(spec, settings);
        PopulationTuner first = PopulationTuner.create(spec, settings);
        for (int b = 0; b < 22; b++) {
            whole.step(batch(b, spec));
            first.step(batch(b, spec));
        }
        PopulationTuner restored = PopulationTuner.restore(spec, first.saved());
        List<Exploit> wholeMoves = new ArrayList<>();
        List<Exploit> restoredMoves = new ArrayList<>();
        for (int b = 22; b < 50; b++) {
            TunerStep a = whole.step(batch(b, spec));
            TunerStep c = restored.step(batch(b, spec));
            assertThat(c.served()).isEqualTo(a.served());
            wholeMoves.addAll(a.exploits());
            restoredMoves.addAll(c.exploits());
        }
        assertThat(wholeMoves).as("the run makes moves after the restore").isNotEmpty();
        assertThat(restoredMoves).isEqualTo(wholeMoves);
        assertThat(restored.leaderId()).isEqualTo(whole.leaderId());
        assertThat(restored.rates()).isEqualTo(whole.rates());
        for (int m = 0; m < settings.population(); m++) {
            assertThat(restored.member(m).parameters()).isEqualTo(whole.member(m).parameters());
            assertThat(restored.member(m).optimizerState()).isEqualTo(whole.member(m).optimizerState());
        }
    }

    /**
     * A drift re-spreads the population: every member but the serving one becomes a copy of it (weights and
     * optimizer state) at its rate times 10^(k/3), k = 1..3; decisions then come every early-interval steps again, and
     * a restore in the middle of that keeps the pace. Pinned or with the answer off, a drift moves nothing.
     */
    @Test
    void driftRespreadsTheOthersUpwardsFromTheServingMember() throws IOException {
        ModelSpec spec = digits.spec(1e-3, 7);
        TunerSettings settings = new TunerSettings(4, 1, 30, 8, 8, 0.25, 2, 1e-3, 1e3, 3, 1, 6, 10);
        PopulationTuner tuner = PopulationTuner.create(spec, settings);
        for (int b = 0; b < 20; b++) {
            tuner.step(batch(b, spec));
        }
        Network serving = tuner.leader();
        double rate = serving.learningRate();
        List<Exploit> moves = tuner.respread();
        assertThat(moves).hasSize(3).allSatisfy(m -> {
            assertThat(m.reason()).isEqualTo("drift");
            assertThat(m.donor()).isEqualTo(tuner.leaderId());
        });
        List<Double> multiples = new ArrayList<>();
        for (int m = 0; m < 4; m++) {
            if (m != tuner.leaderId()) {
                assertThat(tuner.member(m).parameters()).isEqualTo(serving.parameters());
                assertThat(tuner.member(m).optimizerState()).isEqualTo(serving.optimizerState());
                multiples.add(tuner.member(m).learningRate() / rate);
            }
        }
        assertThat(multiples).zipSatisfy(List.of(Math.pow(10, 1 / 3.0), Math.pow(10, 2 / 3.0), 10.0),
                (actual, expected) -> assertThat(actual).isCloseTo(expected, offset(1e-6)));
        // early interval 1 for 6 steps: the steps after the drift (interval 8 otherwise) may each decide
        PopulationTuner restored = PopulationTuner.restore(spec, tuner.saved());
        long decided = 0;
        for (int b = 20; b < 26; b++) {
            TunerStep a = tuner.step(batch(b, spec));
            TunerStep c = restored.step(batch(b, spec));
            assertThat(c.exploits()).isEqualTo(a.exploits());
            decided += a.exploits().stream().filter(e -> e.step() % 8 != 0).count();
        }
        assertThat(decided).as("moves at steps that are not multiples of the interval").isPositive();

        tuner.pin(1e-2);
        assertThat(tuner.respread()).isEmpty();
        PopulationTuner off = PopulationTuner.create(spec, new TunerSettings(2, 1, 30, 4, 8, 0.25, 2, 1e-3, 1e3, 3));
        off.step(batch(0, spec));
        assertThat(off.respread()).isEmpty();
    }

    /** A batch no member can score (non-finite features) is reported as broken, and nothing is copied. */
    @Test
    void batchThatBreaksEveryMemberIsLeftToTheCaller() {
        ModelSpec spec = digits.spec(1e-3, 7);
        PopulationTuner tuner = PopulationTuner.create(spec, TunerSettings.defaults(1));
        MiniBatch poisoned = batch(0, spec);
        poisoned.features()[5] = Float.NaN;
        TunerStep step = tuner.step(poisoned);
        assertThat(step.broken()).isTrue();
        assertThat(step.exploits()).isEmpty();
        assertThat(tuner.step(batch(1, spec)).broken()).isFalse();
    }

    @Test
    void optimizerWithoutLearningRateIsRefused() {
        ModelSpec spec = ModelSpecParser.parse(TunerStreams.DIGITS_SPEC.replace("type: adam, learning-rate: %s",
                "type: adadelta").formatted(7L));
        assertThatThrownBy(() -> PopulationTuner.create(spec, TunerSettings.defaults(1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("adadelta has no learning rate");
    }

    /** Batch {@code b} of the shuffled digits (rows 32b to 32b + 31). */
    static MiniBatch batch(int b, ModelSpec spec) {
        MiniBatch batch = new MiniBatch(spec.batchSize(), spec.inputs(), spec.outputs());
        for (int row = b * spec.batchSize(); row < (b + 1) * spec.batchSize(); row++) {
            float[] y = new float[10];
            y[digits.labels()[row]] = 1f;
            batch.add(digits.features()[row], y, 1f, 0);
        }
        return batch;
    }
}
