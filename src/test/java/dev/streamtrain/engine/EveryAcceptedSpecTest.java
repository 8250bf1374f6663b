package dev.streamtrain.engine;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.jboss.logging.Logger;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;

import dev.streamtrain.model.spec.ModelSpec;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The lean engine covers the whole spec grammar: {@value #SPECS} specs drawn by a seeded generator over every layer
 * kind (dense with every activation, initialiser and norm, layer-norm entries, batch norm, dropout, several dropout
 * entries in a row, residual blocks of every norm and depth), every loss, optimizer, schedule and clipping mode, all
 * accepted by the spec parser, are each planned by {@link EnginePlan}, built by {@link LeanNetwork#create} and by the
 * plain-Java {@link DenseForward}, and compute what DL4J's graph of the same spec computes: the same initial
 * parameters, the same outputs in inference and the same loss on the first two training steps. So no spec falls
 * back to DL4J.
 */
class EveryAcceptedSpecTest {

    private static final int SPECS = 150;
    private static final int ROWS = 16;
    private static final double TOLERANCE = 1e-5;
    /**
     * The second step's loss follows from the first update, which adaptive optimizers (Adam's first step is about the
     * learning rate times the gradient's sign) and near-degenerate random architectures (dropout keeping 5 % twice in
     * a row, deep blocks with layer and batch norm) make sensitive to the last bit of a nearly cancelling gradient:
     * measured up to 5e-5 on some generated specs. Multi-step agreement of chosen specs is
     * {@link LeanEngineMatchesDl4jTest}'s.
     */
    private static final double SECOND_STEP_TOLERANCE = 1e-3;
    private static final List<String> ACTIVATIONS = List.of("relu", "leaky-relu", "elu", "gelu", "selu", "tanh",
            "sigmoid", "softplus", "swish", "mish", "relu6", "identity");
    private static final List<String> INITS = List.of("auto", "he", "he-uniform", "xavier", "xavier-uniform",
            "lecun-normal", "lecun-uniform");
    private static final List<String> OPTIMIZERS = List.of("sgd", "adam", "adamw", "nadam", "amsgrad", "adamax",
            "rmsprop", "adagrad", "adadelta");

    private static final Logger LOG = Logger.getLogger(EveryAcceptedSpecTest.class);

    private final Random random = new Random(20261203L);
    /** The largest relative difference of the loss of step 0 and of step 1 over the specs. */
    private final double[] worst = new double[2];

    @Test
    void everyGeneratedSpecRunsOnTheLeanEngineAsOnDl4j() {
        ReferenceRun digits = ReferenceRun.digits();
        ReferenceRun wine = ReferenceRun.wineAlcohol();
        int consecutiveDropouts = 0;
        int batchNorms = 0;
        for (int i = 0; i < SPECS; i++) {
            boolean regression = random.nextBoolean();
            String layers = layers();
            String yaml = "layers: " + layers + ", optimizer: " + optimizer() + ", more: " + more();
            ModelSpec spec = regression
                    ? ReferenceRun.spec("regression", 12, 1, pick(List.of("mse", "mae")), layers, lastOptimizer,
                            lastMore)
                    : ReferenceRun.spec("classification", 64, 10, pick(List.of("cross-entropy",
                            "binary-cross-entropy")), layers, lastOptimizer, lastMore);
            consecutiveDropouts += layers.matches(".*\\{dropout: [^}]*}}, \\{dropout.*") ? 1 : 0;
            batchNorms += layers.contains("batch") ? 1 : 0;
            assertRunsAlike(spec, regression ? wine : digits, "spec " + i + ": " + yaml + ", loss " + spec.loss());
        }
        LOG.infof("%d specs: worst relative difference of the loss, step 0 %.3g, step 1 %.3g", SPECS, worst[0],
                worst[1]);
        // the generator reaches the shapes that once fell back, and the batch-norm ones
        assertThat(consecutiveDropouts).as("specs with dropout entries in a row").isGreaterThan(10);
        assertThat(batchNorms).as("specs with batch norm").isGreaterThan(10);
    }

    private void assertRunsAlike(ModelSpec spec, ReferenceRun data, String what) {
        EnginePlan.of(spec, true);
        ComputationGraph graph = ReferenceRun.graph(spec);
        try (LeanNetwork lean = LeanNetwork.create(spec)) {
            float[] initial = graph.params().dup().data().asFloat();
            assertThat(lean.parameters().dup().data().asFloat()).as("%s: initial parameters", what)
                    .containsExactly(initial);
            float[][] unseen = data.batch(1_000, ROWS);
            float[] expected = graph.outputSingle(false, ReferenceRun.matrix(unseen[0], ROWS)).dup().data().asFloat();
            assertClose(what + ": outputs of the lean engine", lean.output(unseen[0], ROWS), expected);
            assertClose(what + ": outputs of the plain-Java pass", DenseForward.of(spec, initial)
                    .output(unseen[0], ROWS), expected);
            for (int step = 0; step < 2; step++) {
                float[][] batch = data.batch(step, ROWS);
                Nd4j.getRandom().setSeed(spec.seed() + step);
                graph.fit(new INDArray[] {ReferenceRun.matrix(batch[0], ROWS)},
                        new INDArray[] {ReferenceRun.matrix(batch[1], ROWS)});
                double dl4j = graph.score();
                Nd4j.getRandom().setSeed(spec.seed() + step);
                double actual = lean.fit(batch[0], batch[1], ROWS);
                if (!Double.isFinite(dl4j)) {
                    // a batch-norm layer over an input column that is constant in the batch can diverge in both
                    assertThat(Double.compare(actual, dl4j)).as("%s: loss of step %d, lean %s, DL4J %s", what, step, actual,
                            dl4j).isZero();
                    continue;
                }
                double relative = Math.abs(actual - dl4j) / Math.abs(dl4j);
                worst[step] = Math.max(worst[step], relative);
                assertThat(relative).as("%s: loss of step %d, lean %s, DL4J %s", what, step, actual, dl4j)
                        .isLessThanOrEqualTo(step == 0 ? TOLERANCE : SECOND_STEP_TOLERANCE);
            }
        }
    }

    /** Every element within {@value #TOLERANCE} of the reference's largest magnitude. */
    private static void assertClose(String what, float[] actual, float[] expected) {
        assertThat(actual).as(what).hasSameSizeAs(expected);
        double scale = 0;
        for (float e : expected) {
            scale = Math.max(scale, Math.abs(e));
        }
        for (int i = 0; i < expected.length; i++) {
            assertThat((double) Math.abs(actual[i] - expected[i])).as("%s: element %d, %s against DL4J's %s", what, i,
                    actual[i], expected[i]).isLessThanOrEqualTo(TOLERANCE * scale);
        }
    }

    private String lastOptimizer;
    private String lastMore;

    /** 1 to 6 entries of every kind; a layer-norm entry only after a dense one, as the parser requires. */
    private String layers() {
        List<String> entries = new ArrayList<>();
        int count = 1 + random.nextInt(6);
        for (int i = 0; i < count; i++) {
            switch (random.nextInt(5)) {
                case 0 -> {
                    entries.add("{dense: {units: " + (4 + random.nextInt(24)) + ", activation: " + pick(ACTIVATIONS)
                            + ", init: " + pick(INITS) + ", norm: " + pick(List.of("none", "layer")) + "}}");
                    if (random.nextInt(4) == 0) {
                        entries.add("{layer-norm: {}}");
                    }
                }
                case 1 -> entries.add("{batch-norm: {decay: " + pick(List.of("0.9", "0.5", "0.99", "1.0"))
                        + ", eps: " + pick(List.of("1e-5", "0.001", "0.1")) + "}}");
                case 2 -> {
                    // one to three dropout entries in a row
                    int run = 1 + random.nextInt(3);
                    for (int k = 0; k < run; k++) {
                        entries.add("{dropout: {rate: " + pick(List.of("0.0", "0.1", "0.3", "0.5", "0.95")) + "}}");
                    }
                }
                default -> entries.add("{residual: {units: " + (4 + random.nextInt(24)) + ", activation: "
                        + pick(ACTIVATIONS) + ", depth: " + (1 + random.nextInt(3)) + ", norm: "
                        + pick(List.of("none", "batch", "layer")) + ", init: " + pick(INITS) + "}}");
            }
        }
        return "[" + String.join(", ", entries) + "]";
    }

    /** Any optimizer with its settings, moderate rates, and L1, L2 or weight decay (never L2 with decay). */
    private String optimizer() {
        String type = pick(OPTIMIZERS);
        StringBuilder o = new StringBuilder("{type: " + type);
        if (!type.equals("adadelta")) {
            o.append(", learning-rate: ").append(number(0.001, 0.05));
        }
        if (type.equals("sgd") && random.nextBoolean()) {
            o.append(", momentum: ").append(number(0.5, 0.95));
        }
        if (type.startsWith("adam") || type.equals("nadam") || type.equals("amsgrad")) {
            if (random.nextBoolean()) {
                o.append(", beta1: ").append(number(0.8, 0.95)).append(", beta2: ").append(number(0.99, 0.9999))
                        .append(", epsilon: 1e-7");
            }
        }
        if ((type.equals("rmsprop") || type.equals("adadelta")) && random.nextBoolean()) {
            o.append(", rho: ").append(number(0.8, 0.99));
        }
        switch (random.nextInt(4)) {
            case 0 -> o.append(", l1: ").append(number(0.0001, 0.01));
            case 1 -> o.append(type.equals("adamw") ? ", weight-decay: " : ", l2: ").append(number(0.0001, 0.01));
            case 2 -> o.append(", weight-decay: ").append(number(0.0001, 0.1));
            default -> {
            }
        }
        lastOptimizer = o.append("}").toString();
        return lastOptimizer;
    }

    /** A schedule and a clipping mode. */
    private String more() {
        String schedule = switch (random.nextInt(4)) {
            case 0 -> "{type: constant}";
            case 1 -> "{type: step, factor: 0.5, every: " + (1 + random.nextInt(3)) + "}";
            case 2 -> "{type: exponential, gamma: " + number(0.5, 0.99) + "}";
            default -> "{type: warmup-cosine, warmup-steps: 1, total-steps: " + (2 + random.nextInt(5)) + "}";
        };
        String clipping = switch (random.nextInt(4)) {
            case 0 -> "{type: none}";
            case 1 -> "{type: global-norm, threshold: " + number(0.1, 5) + "}";
            case 2 -> "{type: layer-norm, threshold: " + number(0.1, 5) + "}";
            default -> "{type: value, threshold: " + number(0.01, 1) + "}";
        };
        lastMore = "schedule: " + schedule + "\ngradient-clipping: " + clipping + "\n";
        return lastMore.replace('\n', ' ');
    }

    private String number(double from, double to) {
        return String.format(Locale.ROOT, "%.4g", from + random.nextDouble() * (to - from));
    }

    private <T> T pick(List<T> values) {
        return values.get(random.nextInt(values.size()));
    }
}
