package dev.streamtrain.cluster;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;

import dev.streamtrain.model.MiniBatch;
import dev.streamtrain.model.Network;
import dev.streamtrain.model.OnlineNormalizer;
import dev.streamtrain.model.spec.ModelSpec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

class ModelAveragingTest {

    private static final LocalSgdRun.Stream DIGITS = LocalSgdRun.Stream.of("digits", 1);
    private static final ModelSpec SPEC = DIGITS.spec(32, 16, 5);

    @Test
    void theNormalisersMergeIntoThoseOfAllTheExamplesAndCountTheSharedHistoryOnce() {
        int features = DIGITS.features()[0].length;
        OnlineNormalizer all = new OnlineNormalizer(features);
        OnlineNormalizer base = new OnlineNormalizer(features);
        feed(all, 0, 300);
        feed(base, 0, 300);
        OnlineNormalizer first = base.copy();
        OnlineNormalizer second = base.copy();
        feed(first, 300, 700);
        feed(second, 700, 760);
        feed(all, 300, 760);
        Network.Replica start = replica(base);
        Network.Replica averaged = ModelAveraging.average(start, List.of(
                new Contribution("a", 400, 1, replica(first)), new Contribution("b", 60, 1, replica(second))));
        OnlineNormalizer merged = averaged.normalizer();
        assertThat(merged.count()).isEqualTo(760);
        for (int j = 0; j < features; j++) {
            assertThat(merged.meanAt(j)).isCloseTo(all.meanAt(j), within(1e-9 * (1 + Math.abs(all.meanAt(j)))));
            assertThat(merged.stdAt(j)).isCloseTo(all.stdAt(j), within(1e-9 * (1 + all.stdAt(j))));
        }
        // what a plain average of the members' statistics would give is measurably wrong (the test can fail)
        assertThat(Math.abs(first.meanAt(20) - all.meanAt(20)) + Math.abs(second.meanAt(20) - all.meanAt(20)))
                .isGreaterThan(1e-3);
    }

    @Test
    void parametersAndOptimizerStateAreTheExampleWeightedMeanInAnyOrder() {
        Network a = new Network(SPEC);
        Network b = new Network(SPEC);
        Network idle = new Network(SPEC);
        Network.Replica start = a.replica();
        train(a, 0, 6);
        train(b, 6, 8);
        Network.Replica ra = a.replica();
        Network.Replica rb = b.replica();
        List<Contribution> contributions = new ArrayList<>(List.of(new Contribution("a", 96, 6, ra),
                new Contribution("b", 32, 2, rb), new Contribution("idle", 0, 0, idle.replica())));
        Network.Replica averaged = ModelAveraging.average(start, contributions);
        for (int k = 0; k < ra.parameters().length; k += 97) {
            assertThat(averaged.parameters()[k]).isEqualTo((float) (0.75 * ra.parameters()[k] + 0.25 * rb.parameters()[k]));
        }
        for (int k = 0; k < ra.optimizerState().length; k += 101) {
            assertThat(averaged.optimizerState()[k])
                    .isEqualTo((float) (0.75 * ra.optimizerState()[k] + 0.25 * rb.optimizerState()[k]));
        }
        assertThat(averaged.iteration()).isEqualTo(start.iteration() + 6);
        // the members' replicas moved (the weighted mean is not the start or one of them)
        assertThat(averaged.parameters()).isNotEqualTo(start.parameters()).isNotEqualTo(ra.parameters());
        Collections.shuffle(contributions, new Random(3));
        Network.Replica again = ModelAveraging.average(start, contributions);
        assertThat(again.parameters()).isEqualTo(averaged.parameters());
        assertThat(again.optimizerState()).isEqualTo(averaged.optimizerState());
    }

    @Test
    void aNetworkGivenTheAverageAnswersAsAnyOtherGivenIt() {
        Network a = new Network(SPEC);
        train(a, 0, 5);
        Network b = new Network(DIGITS.spec(32, 16, 99));
        b.assign(a.replica());
        assertThat(b.parameters()).isEqualTo(a.parameters());
        assertThat(b.optimizerState()).isEqualTo(a.optimizerState());
        // both train on alike from there: same batches, same bits
        train(a, 5, 8);
        train(b, 5, 8);
        assertThat(b.parameters()).isEqualTo(a.parameters());
    }

    @Test
    void aRoundWithNothingTrainedKeepsTheStartAndAStrangerIsRefused() {
        Network a = new Network(SPEC);
        Network.Replica start = a.replica();
        Network.Replica same = ModelAveraging.average(start, List.of(new Contribution("a", 0, 0, a.replica())));
        assertThat(same.parameters()).isEqualTo(start.parameters());
        Network other = new Network(DIGITS.spec(16, 16, 5));
        assertThatThrownBy(() -> ModelAveraging.average(start, List.of(new Contribution("x", 16, 1, other.replica()))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("member x");
        assertThatThrownBy(() -> ModelAveraging.average(start, List.of(new Contribution("a", 16, 1, a.replica()),
                new Contribution("a", 16, 1, a.replica())))).hasMessageContaining("two contributions");
        assertThatThrownBy(() -> a.assign(other.replica())).hasMessageContaining("parameters");
    }

    @Test
    void adaptiveOptimizersTrainAtTheSquareRootRuleAndSgdAtItsRate() {
        assertThat(GroupRate.factor("adam", 1)).isEqualTo(1.0);
        assertThat(GroupRate.factor("adam", 4)).isEqualTo(2.0);
        assertThat(GroupRate.factor("rmsprop", 9)).isEqualTo(3.0);
        assertThat(GroupRate.factor("sgd", 4)).isEqualTo(1.0);
        assertThatThrownBy(() -> GroupRate.factor("adam", 0)).isInstanceOf(IllegalArgumentException.class);
    }

    private static Network.Replica replica(OnlineNormalizer normalizer) {
        return new Network.Replica(new float[3], new float[0], 0, normalizer);
    }

    private static void feed(OnlineNormalizer normalizer, int from, int to) {
        int features = normalizer.features();
        // uneven slices on purpose: the merge must not depend on how the rows were cut
        for (int row = from; row < to; row += 37) {
            int rows = Math.min(37, to - row);
            float[] x = new float[rows * features];
            for (int i = 0; i < rows; i++) {
                System.arraycopy(DIGITS.features()[row + i], 0, x, i * features, features);
            }
            normalizer.update(x, rows);
        }
    }

    private static void train(Network network, int fromBatch, int toBatch) {
        MiniBatch batch = new MiniBatch(SPEC.batchSize(), SPEC.inputs(), SPEC.outputs());
        float[] y = new float[DIGITS.classes()];
        for (int b = fromBatch; b < toBatch; b++) {
            batch.clear();
            for (int row = b * SPEC.batchSize(); row < (b + 1) * SPEC.batchSize(); row++) {
                Arrays.fill(y, 0f);
                y[DIGITS.labels()[row]] = 1f;
                batch.add(DIGITS.features()[row], y, 1f, 0);
            }
            network.step(batch, false, 0);
        }
    }
}
