package dev.streamtrain.cluster;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

import dev.streamtrain.model.MiniBatch;
import dev.streamtrain.model.Network;
import dev.streamtrain.model.spec.ModelSpec;
import dev.streamtrain.model.spec.ModelSpecParser;
import dev.streamtrain.support.TabularDataset;

/**
 * One pass of a stream, test-then-train, by N trainers of one model in lockstep, as the group would run it with
 * an even load: the stream's rows are spread over {@value #PARTITIONS} partitions in turn (as keyless records
 * are), each member owns the partitions the group gives it (partition p to member p mod N) and reads them in
 * offset order, every member takes one mini-batch of its own per tick, and every {@code period} ticks the members'
 * replicas are averaged ({@link ModelAveraging}) and every member continues from the average. N = 1 is one trainer.
 * Accuracy is prequential: each member scores a batch before it trains on it.
 */
final class LocalSgdRun {

    static final int PARTITIONS = 6;

    private LocalSgdRun() {
    }

    /** A data set in a shuffled order, learnt by one hidden ReLU layer at Adam's rate 0.01 and the given batch. */
    record Stream(String name, float[][] features, int[] labels, int classes) {

        static Stream of(String name, long shuffleSeed) {
            TabularDataset data = TabularDataset.load(name);
            int[] order = data.shuffledOrder(shuffleSeed);
            float[][] x = new float[order.length][];
            int[] y = new int[order.length];
            for (int i = 0; i < order.length; i++) {
                x[i] = data.features()[order[i]];
                y[i] = data.labels()[order[i]];
            }
            return new Stream(name, x, y, data.classes());
        }

        ModelSpec spec(int units, int batch, long seed) {
            return spec(units, batch, seed, "{type: adam, learning-rate: 0.01}");
        }

        ModelSpec spec(int units, int batch, long seed, String optimizer) {
            return ModelSpecParser.parse(String.format(Locale.ROOT, "name: %s\ninputs: %d\ntask: classification\n"
                    + "outputs: %d\nnormalize: true\nseed: %d\nlayers: [{dense: {units: %d, activation: relu}}]\n"
                    + "loss: cross-entropy\noptimizer: %s\nbatch-size: %d\n",
                    name, features[0].length, classes, seed, units, optimizer, batch));
        }
    }

    /** Prequential result: correct and scored examples over the pass, and the number of averaging rounds. */
    record Result(long correct, long examples, int rounds) {
        double accuracy() {
            return (double) correct / examples;
        }
    }

    /** One pass with the members at the group's rate ({@link GroupRate}). */
    static Result run(Stream stream, ModelSpec spec, int members, int period) {
        return run(stream, spec, members, period, GroupRate.factor(spec.optimizer().type(), members));
    }

    /** One pass with the members' rates scaled by {@code rateFactor}. */
    static Result run(Stream stream, ModelSpec spec, int members, int period, double rateFactor) {
        List<List<Integer>> rows = new ArrayList<>();
        for (int m = 0; m < members; m++) {
            rows.add(new ArrayList<>());
        }
        for (int i = 0; i < stream.labels().length; i++) {
            rows.get((i % PARTITIONS) % members).add(i);
        }
        Network[] nets = new Network[members];
        for (int m = 0; m < members; m++) {
            nets[m] = new Network(spec);
            if (rateFactor != 1.0) {
                nets[m].scaleLearningRate(rateFactor);
            }
        }
        Network.Replica base = nets[0].replica();
        long[] examplesInRound = new long[members];
        int[] stepsInRound = new int[members];
        int[] next = new int[members];
        MiniBatch batch = new MiniBatch(spec.batchSize(), spec.inputs(), spec.outputs());
        float[] y = new float[stream.classes()];
        long correct = 0;
        long examples = 0;
        int rounds = 0;
        int tick = 0;
        boolean more = true;
        while (more) {
            more = false;
            for (int m = 0; m < members; m++) {
                List<Integer> mine = rows.get(m);
                if (next[m] >= mine.size()) {
                    continue;
                }
                batch.clear();
                int end = Math.min(mine.size(), next[m] + spec.batchSize());
                for (int k = next[m]; k < end; k++) {
                    int row = mine.get(k);
                    Arrays.fill(y, 0f);
                    y[stream.labels()[row]] = 1f;
                    batch.add(stream.features()[row], y, 1f, 0);
                }
                next[m] = end;
                correct += nets[m].step(batch, false, 0).train().correct();
                examples += batch.size();
                examplesInRound[m] += batch.size();
                stepsInRound[m]++;
                more |= next[m] < mine.size();
            }
            tick++;
            if (members > 1 && (tick % period == 0 || !more)) {
                List<Contribution> contributions = new ArrayList<>();
                for (int m = 0; m < members; m++) {
                    contributions.add(new Contribution("member-" + m, examplesInRound[m], stepsInRound[m],
                            nets[m].replica()));
                }
                base = ModelAveraging.average(base, contributions);
                for (int m = 0; m < members; m++) {
                    nets[m].assign(base);
                }
                Arrays.fill(examplesInRound, 0);
                Arrays.fill(stepsInRound, 0);
                rounds++;
            }
        }
        return new Result(correct, examples, rounds);
    }
}
