package dev.streamtrain.cluster;

import org.jboss.logging.Logger;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Random;

import dev.streamtrain.model.ComputeSettings;
import dev.streamtrain.model.MiniBatch;
import dev.streamtrain.model.Network;
import dev.streamtrain.model.spec.ModelSpec;
import dev.streamtrain.model.spec.ModelSpecParser;
import dev.streamtrain.support.Measure;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Model averaging, measured (docs/scale-out.md): (1) first-pass prequential accuracy against the averaging period for
 * N = 1, 2, 3 (N = 1 at the group's total batch), on the digits (three shuffles) and the waveform stream; (2) the
 * cost of a round in one process per model size (S, M, W): copying a replica out, averaging N of them, assigning the
 * average, and the bytes a replica would travel as. Accuracies are deterministic; timings are medians and swing with
 * the machine's load. {@code -Dbench.periods=1,2,4,...}.
 */
@Tag("benchmark")
class AveragingBenchmarkTest {

    private static final Logger LOG = Logger.getLogger(AveragingBenchmarkTest.class);

    @Test
    void accuracyAgainstTheAveragingPeriod() {
        ComputeSettings.apply(Optional.of(1), null);
        int[] periods = java.util.Arrays.stream(System.getProperty("bench.periods", "1,2,4,8,16,32,64").split(","))
                .mapToInt(Integer::parseInt).toArray();
        for (String name : List.of("digits", "waveform")) {
            int seeds = name.equals("digits") ? 3 : 1;
            int units = name.equals("digits") ? 128 : 64;
            StringBuilder header = new StringBuilder("| " + name + " | one trainer at 32 N |");
            for (int period : periods) {
                header.append(" period ").append(period).append(" |");
            }
            LOG.info(header);
            for (int members = 1; members <= 3; members++) {
                double one = 0;
                double[] group = new double[periods.length];
                for (int seed = 0; seed < seeds; seed++) {
                    LocalSgdRun.Stream s = LocalSgdRun.Stream.of(name, seed);
                    one += LocalSgdRun.run(s, s.spec(units, 32 * members, 7 + seed), 1, 1).accuracy() / seeds;
                    for (int p = 0; p < periods.length && members > 1; p++) {
                        group[p] += LocalSgdRun.run(s, s.spec(units, 32, 7 + seed), members, periods[p]).accuracy()
                                / seeds;
                    }
                }
                StringBuilder row = new StringBuilder(String.format(Locale.ROOT, "| N = %d | %.1f %% |", members, 100 * one));
                for (int p = 0; p < periods.length; p++) {
                    row.append(members == 1 ? " |" : String.format(Locale.ROOT, " %.1f %% (%+.1f) |", 100 * group[p],
                            100 * (group[p] - one)));
                }
                LOG.info(row);
                assertThat(one).isGreaterThan(0.5);
            }
        }
    }

    @Test
    void costOfARoundPerModelSize() {
        ComputeSettings.apply(Optional.of(1), null);
        LOG.info("| model | parameters | replica bytes | copy out ms | average of 2 ms | average of 3 ms | assign ms |");
        for (String[] setup : new String[][] {{"S", "64", "[{dense: {units: 128}}]", "32"},
                {"M", "64", "[{dense: {units: 256}}, {dense: {units: 256}}]", "64"},
                {"W", "512", "[{dense: {units: 1024}}, {dense: {units: 1024}}]", "256"}}) {
            int inputs = Integer.parseInt(setup[1]);
            int batchSize = Integer.parseInt(setup[3]);
            ModelSpec spec = ModelSpecParser.parse("name: " + setup[0].toLowerCase() + "\ninputs: " + inputs
                    + "\ntask: classification\noutputs: 10\nnormalize: true\nseed: 1\nlayers: " + setup[2]
                    + "\nloss: cross-entropy\noptimizer: {type: adam, learning-rate: 0.001}\nbatch-size: " + batchSize + "\n");
            List<Network> members = new ArrayList<>();
            Random random = new Random(3);
            for (int m = 0; m < 3; m++) {
                Network n = new Network(spec);
                MiniBatch batch = new MiniBatch(batchSize, inputs, 10);
                float[] x = new float[inputs];
                float[] y = new float[10];
                for (int i = 0; i < batchSize; i++) {
                    for (int j = 0; j < inputs; j++) {
                        x[j] = (float) random.nextGaussian();
                    }
                    java.util.Arrays.fill(y, 0f);
                    y[random.nextInt(10)] = 1f;
                    batch.add(x, y, 1f, 0);
                }
                n.step(batch, false, 0);
                members.add(n);
            }
            Network.Replica base = new Network(spec).replica();
            List<Contribution> three = new ArrayList<>();
            for (int m = 0; m < 3; m++) {
                three.add(new Contribution("m" + m, batchSize, 1, members.get(m).replica()));
            }
            List<Contribution> two = three.subList(0, 2);
            Network.Replica avg = ModelAveraging.average(base, three);
            long bytes = 4L * (avg.parameters().length + avg.optimizerState().length) + avg.normalizer().toBytes().length;
            double copy = millis(() -> members.get(0).replica());
            double avg2 = millis(() -> ModelAveraging.average(base, two));
            double avg3 = millis(() -> ModelAveraging.average(base, three));
            double assign = millis(() -> members.get(1).assign(avg));
            LOG.info(String.format(Locale.ROOT, "| %s | %,d | %,d | %.3f | %.3f | %.3f | %.3f |", setup[0],
                    members.get(0).parameterCount(), bytes, copy, avg2, avg3, assign));
            assertThat(bytes).isPositive();
        }
    }

    private static double millis(Runnable call) {
        double[] runs = new double[9];
        for (int r = 0; r < runs.length; r++) {
            double perSecond = Measure.perSecond(i -> call.run(), 300_000_000L);
            runs[r] = 1000.0 / perSecond;
        }
        return Measure.median(runs);
    }
}
