package dev.streamtrain.engine;

import org.jboss.logging.Logger;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.schedule.ISchedule;

import java.util.Map;
import org.deeplearning4j.util.NetworkUtils;

import dev.streamtrain.model.AdjustedSchedule;
import dev.streamtrain.model.spec.ModelSpec;
import dev.streamtrain.model.spec.NetworkBuilder;
import dev.streamtrain.model.WarmupCosineSchedule;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The lean engine against DL4J's graph, the reference: the same spec, the same initial parameters, the same
 * batches, {@value #STEPS} steps each; every step's loss, the parameters after the steps and the outputs of rows
 * not trained on must agree within a relative {@value #TOLERANCE} (float32).
 */
class LeanEngineMatchesDl4jTest {

    private static final Logger LOG = Logger.getLogger(LeanEngineMatchesDl4jTest.class);

    private static final int STEPS = 50;
    private static final int BATCH = 32;
    private static final double TOLERANCE = 1e-5;
    private static final String ADAM = "{type: adam, learning-rate: 0.01}";
    private static final String SGD = "{type: sgd, learning-rate: 0.1}";
    private static final Map<String, String> OPTIMIZERS = Map.of("adam", ADAM, "sgd", SGD,
            "rmsprop", "{type: rmsprop, learning-rate: 0.005}", "saturating", "{type: adam, learning-rate: 0.1}");

    @ParameterizedTest(name = "digits, {0}, {1}, init {2}")
    @CsvSource(delimiter = '|', value = {
        "relu | adam | auto", "tanh | adam | auto", "sigmoid | adam | auto", "identity | adam | auto",
        "leaky-relu | adam | auto", "elu | adam | auto", "gelu | adam | auto", "selu | adam | auto",
        "softplus | adam | auto", "swish | adam | auto", "mish | adam | auto", "relu6 | adam | auto",
        "relu | sgd | auto", "tanh | sgd | auto", "sigmoid | sgd | auto", "leaky-relu | sgd | auto",
        "relu | adam | he-uniform", "tanh | adam | xavier-uniform", "tanh | adam | lecun-normal",
        "sigmoid | adam | lecun-uniform", "relu | adam | xavier"})
    void classificationMatches(String activation, String optimizer, String init) {
        String layer = "{dense: {units: 32, activation: " + activation + ", init: " + init + "}}";
        ModelSpec spec = ReferenceRun.spec("classification", 64, 10, "cross-entropy",
                "[" + layer + ", " + layer.replace("32", "16") + "]", optimizer.equals("adam") ? ADAM : SGD);
        assertSameTraining(spec, ReferenceRun.digits());
    }

    @ParameterizedTest(name = "wine alcohol, {0}, {1}")
    @CsvSource(delimiter = '|', value = {"relu | adam", "tanh | adam", "identity | sgd", "sigmoid | sgd"})
    void regressionMatches(String activation, String optimizer) {
        ModelSpec spec = ReferenceRun.spec("regression", 12, 1, "mse",
                "[{dense: {units: 24, activation: " + activation + "}}]",
                optimizer.equals("adam") ? ADAM : "{type: sgd, learning-rate: 0.05}");
        assertSameTraining(spec, ReferenceRun.wineAlcohol());
    }

    @ParameterizedTest(name = "digits, relu, {0}")
    @ValueSource(strings = {
        "{type: sgd, learning-rate: 0.05, momentum: 0.9}", "{type: nadam, learning-rate: 0.002}",
        "{type: amsgrad, learning-rate: 0.01}", "{type: adamax, learning-rate: 0.01}",
        "{type: adam, learning-rate: 0.01, beta1: 0.8, beta2: 0.99, epsilon: 1e-6}",
        "{type: rmsprop, learning-rate: 0.005, rho: 0.9}", "{type: adagrad, learning-rate: 0.05}",
        "{type: adadelta}", "{type: adadelta, rho: 0.9, epsilon: 1e-5}"})
    void optimizerMatches(String optimizer) {
        assertSameTraining(digitsSpec("relu", optimizer, ""), ReferenceRun.digits());
    }

    @ParameterizedTest(name = "digits, tanh, {0}, schedule {1}")
    @CsvSource(delimiter = '|', value = {
        "{type: sgd, learning-rate: 0.2} | {type: step, factor: 0.5, every: 10}",
        "{type: sgd, learning-rate: 0.1, momentum: 0.9} | {type: exponential, gamma: 0.95}",
        "{type: adam, learning-rate: 0.01} | {type: exponential, gamma: 0.95}",
        "{type: adam, learning-rate: 0.01} | {type: warmup-cosine, warmup-steps: 10, total-steps: 40, min-learning-rate: 0.001}",
        "{type: adagrad, learning-rate: 0.05} | {type: warmup-cosine, warmup-steps: 5, total-steps: 30}",
        "{type: rmsprop, learning-rate: 0.005} | {type: step, factor: 0.5, every: 10}"})
    void scheduleMatches(String optimizer, String schedule) {
        assertSameTraining(digitsSpec("tanh", optimizer, "schedule: " + schedule + "\n"), ReferenceRun.digits());
    }

    /** L1 and L2 go into the gradient before the updater, weight decay into the update after it (times the rate). */
    @ParameterizedTest(name = "digits, relu, {0}")
    @ValueSource(strings = {
        "{type: adam, learning-rate: 0.01, l2: 0.01}", "{type: sgd, learning-rate: 0.1, l1: 0.001, l2: 0.01}",
        "{type: adamw, learning-rate: 0.01}", "{type: adamw, learning-rate: 0.01, weight-decay: 0.1, l1: 0.001}",
        "{type: sgd, learning-rate: 0.05, momentum: 0.9, weight-decay: 0.05}", "{type: rmsprop, learning-rate: 0.005, l1: 0.005}",
        "{type: adadelta, weight-decay: 0.01}"})
    void regularisationMatches(String optimizer) {
        assertSameTraining(digitsSpec("relu", optimizer, ""), ReferenceRun.digits());
    }

    @Test
    void weightDecayFollowsTheSchedule() {
        assertSameTraining(digitsSpec("tanh", "{type: adamw, learning-rate: 0.01, weight-decay: 0.1}",
                "schedule: {type: warmup-cosine, warmup-steps: 10, total-steps: 40}\n"), ReferenceRun.digits());
    }

    /** Thresholds at which the gradients of these runs are clipped on some steps at least (without it they fail). */
    @ParameterizedTest(name = "digits, relu, {0}, clipping {1}")
    @CsvSource(delimiter = '|', value = {
        "{type: sgd, learning-rate: 0.1} | {type: global-norm, threshold: 0.5}",
        "{type: adam, learning-rate: 0.01} | {type: global-norm, threshold: 0.2}",
        "{type: sgd, learning-rate: 0.1} | {type: layer-norm, threshold: 0.2}",
        "{type: adam, learning-rate: 0.01, l2: 0.01} | {type: layer-norm, threshold: 0.1}",
        "{type: sgd, learning-rate: 0.1} | {type: value, threshold: 0.02}",
        "{type: rmsprop, learning-rate: 0.005} | {type: value, threshold: 0.01}"})
    void clippingMatches(String optimizer, String clipping) {
        assertSameTraining(digitsSpec("relu", optimizer, "gradient-clipping: " + clipping + "\n"),
                ReferenceRun.digits());
    }

    /** The health monitors' back-off and warm restart, set on both mid-run as the trainer sets it on the graph. */
    @Test
    void adjustedScheduleMatches() {
        ModelSpec spec = digitsSpec("relu", ADAM,
                "schedule: {type: warmup-cosine, warmup-steps: 10, total-steps: 40, min-learning-rate: 0.001}\n");
        ISchedule adjusted = new AdjustedSchedule(new WarmupCosineSchedule(0.01, 10, 40, 0.001), 0.5, 3.0, 20, 10,
                1.0, 20);
        assertSameTraining(spec, ReferenceRun.digits(), (step, graph, lean) -> {
            if (step == 20) {
                NetworkUtils.setLearningRate(graph, adjusted);
                lean.setLearningRate(adjusted);
            }
        });
    }

    /** "saturating": a rate that drives some sigmoids past DL4J's 1e-5 clip, where the gradient is not p - y. */
    @ParameterizedTest(name = "digits, binary cross-entropy, {0}, {1}")
    @CsvSource(delimiter = '|', value = {"relu | adam", "tanh | sgd", "sigmoid | adam", "elu | rmsprop",
        "relu | saturating"})
    void binaryCrossEntropyMatches(String activation, String optimizer) {
        String layer = "{dense: {units: 32, activation: " + activation + "}}";
        ModelSpec spec = ReferenceRun.spec("classification", 64, 10, "binary-cross-entropy",
                "[" + layer + ", " + layer.replace("32", "16") + "]", OPTIMIZERS.get(optimizer));
        assertSameTraining(spec, ReferenceRun.digits());
    }

    @ParameterizedTest(name = "wine alcohol, mae, {0}, {1}")
    @CsvSource(delimiter = '|', value = {"relu | adam", "tanh | adam", "identity | sgd", "sigmoid | rmsprop"})
    void meanAbsoluteErrorMatches(String activation, String optimizer) {
        ModelSpec spec = ReferenceRun.spec("regression", 12, 1, "mae",
                "[{dense: {units: 24, activation: " + activation + "}}]", OPTIMIZERS.get(optimizer));
        assertSameTraining(spec, ReferenceRun.wineAlcohol());
    }

    /**
     * Layer norm on dense layers, set on the layer ({@code norm: layer}) or as a {@code layer-norm} entry after it:
     * DL4J standardises x·W per row, multiplies by a gain (a parameter after the bias, regularised as a weight),
     * then adds the bias.
     */
    @ParameterizedTest(name = "digits, layer norm, {0}, {1}, {2}")
    @CsvSource(delimiter = '|', value = {
        "relu | adam | on the layer", "tanh | sgd | on the layer", "sigmoid | rmsprop | as an entry",
        "gelu | {type: adamw, learning-rate: 0.01, weight-decay: 0.1} | on the layer",
        "relu | {type: adam, learning-rate: 0.01, l2: 0.01, l1: 0.001} | as an entry",
        "elu | {type: sgd, learning-rate: 0.05, momentum: 0.9} | on the layer"})
    void layerNormMatches(String activation, String optimizer, String where) {
        String layer = where.equals("on the layer")
                ? "{dense: {units: 32, activation: " + activation + ", norm: layer}}"
                : "{dense: {units: 32, activation: " + activation + "}}, {layer-norm: {}}";
        ModelSpec spec = ReferenceRun.spec("classification", 64, 10, "cross-entropy",
                "[" + layer + ", " + layer.replace("32", "16") + "]", OPTIMIZERS.getOrDefault(optimizer, optimizer));
        assertSameTraining(spec, ReferenceRun.digits());
    }

    @ParameterizedTest(name = "wine alcohol, layer norm, {0}, {1}, {2}")
    @CsvSource(delimiter = '|', value = {"relu | adam | mse |", "tanh | sgd | mae |",
        "relu | {type: adam, learning-rate: 0.01} | mse | {type: layer-norm, threshold: 0.5}"})
    void layerNormRegressionMatches(String activation, String optimizer, String loss, String clipping) {
        ModelSpec spec = ReferenceRun.spec("regression", 12, 1, loss,
                "[{dense: {units: 24, activation: " + activation + ", norm: layer}}, {dense: {units: 8, activation: "
                        + activation + ", norm: layer}}]",
                OPTIMIZERS.getOrDefault(optimizer, optimizer),
                clipping == null ? "" : "gradient-clipping: " + clipping + "\n");
        assertSameTraining(spec, ReferenceRun.wineAlcohol());
    }

    /**
     * Dropout entries (DL4J's DropoutLayer): in training an inverted mask drawn by the same op from the same
     * generator state as DL4J's, so the steps agree as closely as without dropout; at inference the identity (the
     * outputs of unseen rows). Also on the input itself, and before a layer-normalised layer.
     */
    @ParameterizedTest(name = "digits, dropout, {0}, {1}")
    @CsvSource(delimiter = '|', value = {
        "[{dense: {units: 32, activation: relu}}, {dropout: {rate: 0.2}}, {dense: {units: 16, activation: relu}}, {dropout: {rate: 0.5}}] | adam",
        "[{dropout: {rate: 0.1}}, {dense: {units: 32, activation: tanh}}, {dense: {units: 16, activation: tanh}}] | sgd",
        "[{dense: {units: 32, activation: elu}}, {dropout: {rate: 0.3}}, {dense: {units: 16, activation: elu, norm: layer}}] | rmsprop",
        "[{dense: {units: 32, activation: relu}}, {dropout: {rate: 0.2}}, {dense: {units: 16, activation: relu}}] | {type: adamw, learning-rate: 0.01, weight-decay: 0.1}"})
    void dropoutMatches(String layers, String optimizer) {
        ModelSpec spec = ReferenceRun.spec("classification", 64, 10, "cross-entropy", layers,
                OPTIMIZERS.getOrDefault(optimizer, optimizer));
        assertSameTraining(spec, ReferenceRun.digits());
    }

    @ParameterizedTest(name = "wine alcohol, dropout, {0}, {1}, {2}")
    @CsvSource(delimiter = '|', value = {"relu | adam | mse", "tanh | sgd | mae"})
    void dropoutRegressionMatches(String activation, String optimizer, String loss) {
        ModelSpec spec = ReferenceRun.spec("regression", 12, 1, loss, "[{dense: {units: 24, activation: "
                + activation + "}}, {dropout: {rate: 0.25}}, {dense: {units: 8, activation: " + activation + "}}]",
                OPTIMIZERS.get(optimizer));
        assertSameTraining(spec, ReferenceRun.wineAlcohol());
    }

    /**
     * Dropout entries in a row (DL4J's DropoutLayers one after the other): each draws its own mask over the previous
     * one's output, in the order of the forward pass, and backward the error goes through the last mask first. Two
     * and three in a row, on the input and between layers, around layer norm and residual blocks (the skip is the
     * last entry's output), before batch norm and right before the output layer, with every loss.
     */
    @ParameterizedTest(name = "dropouts in a row, {0}, {1}, {2}, {3}")
    @CsvSource(delimiter = '|', value = {
        "digits | [{dense: {units: 32, activation: relu}}, {dropout: {rate: 0.2}}, {dropout: {rate: 0.3}}, {dense: {units: 16, activation: relu}}] | adam | cross-entropy",
        "digits | [{dropout: {rate: 0.1}}, {dropout: {rate: 0.2}}, {dropout: {rate: 0.1}}, {dense: {units: 32, activation: tanh}}, {dense: {units: 16, activation: tanh}}] | sgd | cross-entropy",
        "digits | [{dense: {units: 32, activation: elu, norm: layer}}, {dropout: {rate: 0.3}}, {dropout: {rate: 0.3}}, {dense: {units: 16, activation: elu}}, {layer-norm: {}}] | rmsprop | cross-entropy",
        "digits | [{dense: {units: 32, activation: relu}}, {dropout: {rate: 0.2}}, {dropout: {rate: 0.4}}, {residual: {units: 32, activation: relu, depth: 2}}] | {type: adamw, learning-rate: 0.01, weight-decay: 0.1} | cross-entropy",
        "digits | [{residual: {units: 32, activation: tanh, depth: 2, norm: layer}}, {dropout: {rate: 0.1}}, {dropout: {rate: 0.2}}, {dropout: {rate: 0.3}}, {residual: {units: 32, activation: tanh, depth: 1}}] | {type: sgd, learning-rate: 0.05, momentum: 0.9} | cross-entropy",
        "digits | [{dense: {units: 32, activation: sigmoid}}, {dense: {units: 16, activation: relu}}, {dropout: {rate: 0.5}}, {dropout: {rate: 0.5}}] | adam | binary-cross-entropy",
        "digits | [{dense: {units: 32, activation: tanh}}, {dropout: {rate: 0.2}}, {dropout: {rate: 0.2}}, {batch-norm: {}}, {dense: {units: 16, activation: tanh}}] | {type: adam, learning-rate: 0.01, l2: 0.01} | binary-cross-entropy",
        "wine | [{dense: {units: 24, activation: relu}}, {dropout: {rate: 0.25}}, {dropout: {rate: 0.25}}, {dense: {units: 8, activation: relu}}] | adam | mse",
        "wine | [{dropout: {rate: 0.1}}, {dropout: {rate: 0.1}}, {residual: {units: 12, activation: tanh, depth: 2, norm: layer}}, {dropout: {rate: 0.2}}, {dropout: {rate: 0.2}}, {dropout: {rate: 0.2}}] | sgd | mae",
        "wine | [{dense: {units: 24, activation: tanh, norm: layer}}, {dropout: {rate: 0.3}}, {dropout: {rate: 0.1}}, {dropout: {rate: 0.2}}, {dense: {units: 8, activation: tanh}}] | {type: adam, learning-rate: 0.01} | mae"})
    void consecutiveDropoutsMatch(String data, String layers, String optimizer, String loss) {
        boolean wine = data.equals("wine");
        ModelSpec spec = ReferenceRun.spec(wine ? "regression" : "classification", wine ? 12 : 64, wine ? 1 : 10, loss,
                layers, OPTIMIZERS.getOrDefault(optimizer, optimizer));
        assertSameTraining(spec, wine ? ReferenceRun.wineAlcohol() : ReferenceRun.digits(), NOTHING,
                layers.contains("batch-norm"));
    }

    /**
     * Residual blocks: x + F(x) then the block's activation, F being {@code depth} dense layers (the last linear),
     * after a projection when the width changes; the skip's gradient adds to the gradient through F. With the skip
     * from the input itself, from a dense layer, from a dropout entry and from the previous block.
     */
    @ParameterizedTest(name = "digits, residual, {0}, {1}")
    @CsvSource(delimiter = '|', value = {
        "[{dense: {units: 32, activation: relu}}, {residual: {units: 32, activation: relu, depth: 2}}] | adam |",
        "[{residual: {units: 32, activation: tanh, depth: 1}}] | sgd |",
        "[{residual: {units: 32, activation: relu, depth: 2, norm: layer}}, {residual: {units: 32, activation: relu, depth: 2}}] | rmsprop |",
        "[{dense: {units: 32, activation: relu}}, {dropout: {rate: 0.2}}, {residual: {units: 32, activation: relu, depth: 2}}] | {type: adamw, learning-rate: 0.01, weight-decay: 0.1} |",
        "[{dense: {units: 32, activation: elu}}, {residual: {units: 32, activation: elu, depth: 3}}] | {type: adam, learning-rate: 0.01, l2: 0.01, l1: 0.001} | {type: layer-norm, threshold: 0.2}"})
    void residualMatches(String layers, String optimizer, String clipping) {
        ModelSpec spec = ReferenceRun.spec("classification", 64, 10, "cross-entropy", layers,
                OPTIMIZERS.getOrDefault(optimizer, optimizer),
                clipping == null ? "" : "gradient-clipping: " + clipping + "\n");
        assertSameTraining(spec, ReferenceRun.digits());
    }

    @ParameterizedTest(name = "wine alcohol, residual, {0}, {1}")
    @CsvSource(delimiter = '|', value = {
        "[{residual: {units: 12, activation: relu, depth: 2}}] | adam | mse",
        "[{residual: {units: 16, activation: tanh, depth: 2, norm: layer}}] | sgd | mae"})
    void residualRegressionMatches(String layers, String optimizer, String loss) {
        ModelSpec spec = ReferenceRun.spec("regression", 12, 1, loss, layers, OPTIMIZERS.get(optimizer));
        assertSameTraining(spec, ReferenceRun.wineAlcohol());
    }

    /**
     * Batch norm (DL4J's BatchNormalization after the layer's activation, or closing a residual block's last linear
     * layer with {@code norm: batch}): training on the batch's statistics and backward through them, the running mean
     * and log10 std moved by DL4J's rule (their NoOp updater block splitting the optimizer state), inference on the
     * running statistics (the outputs of unseen rows), with every optimizer family, clipping mode, dropout and layer
     * norm around it. Besides the parameters (running statistics included), the optimizer state must agree: its
     * layout is DL4J's blocks.
     */
    @ParameterizedTest(name = "digits, batch norm, {0}, {1}, {2}")
    @CsvSource(delimiter = '|', value = {
        "[{dense: {units: 32, activation: tanh}}, {batch-norm: {}}, {dense: {units: 16, activation: tanh}}] | adam |",
        "[{dense: {units: 32, activation: tanh}}, {batch-norm: {}}, {dense: {units: 16, activation: tanh}}, {batch-norm: {}}] | sgd |",
        "[{dense: {units: 32, activation: relu}}, {batch-norm: {decay: 0.8, eps: 0.01}}, {dense: {units: 16, activation: relu}}, {batch-norm: {decay: 0.5}}] | rmsprop |",
        "[{dense: {units: 32, activation: sigmoid}}, {batch-norm: {}}, {dense: {units: 16, activation: tanh}}] | {type: amsgrad, learning-rate: 0.01} |",
        "[{dense: {units: 32, activation: tanh}}, {batch-norm: {}}, {dense: {units: 16, activation: tanh}}] | {type: adadelta} |",
        "[{dense: {units: 32, activation: tanh}}, {batch-norm: {}}, {dense: {units: 16, activation: relu}}] | {type: sgd, learning-rate: 0.05, momentum: 0.9} | {type: global-norm, threshold: 0.5}",
        "[{dense: {units: 32, activation: tanh}}, {batch-norm: {}}, {dense: {units: 16, activation: tanh}}] | {type: adam, learning-rate: 0.01, l2: 0.01} | {type: layer-norm, threshold: 0.2}",
        "[{dense: {units: 32, activation: relu}}, {batch-norm: {}}, {dense: {units: 16, activation: relu}}] | sgd | {type: value, threshold: 0.02}",
        "[{dense: {units: 32, activation: tanh}}, {dropout: {rate: 0.2}}, {batch-norm: {}}, {dense: {units: 16, activation: tanh}}, {batch-norm: {}}, {dropout: {rate: 0.3}}] | {type: adamw, learning-rate: 0.01, weight-decay: 0.1} |",
        "[{dense: {units: 32, activation: tanh, norm: layer}}, {batch-norm: {}}, {dense: {units: 16, activation: gelu}}, {layer-norm: {}}] | {type: sgd, learning-rate: 0.1, l1: 0.001} |",
        "[{batch-norm: {}}, {dense: {units: 32, activation: tanh}}, {dense: {units: 16, activation: tanh}}] | {type: sgd, learning-rate: 0.05, momentum: 0.9} |",
        "[{dense: {units: 32, activation: relu}}, {residual: {units: 32, activation: tanh, depth: 2, norm: batch}}] | {type: sgd, learning-rate: 0.05, momentum: 0.9} |",
        "[{residual: {units: 32, activation: tanh, depth: 1, norm: batch}}, {batch-norm: {}}] | sgd | {type: layer-norm, threshold: 0.5}"})
    void batchNormMatches(String layers, String optimizer, String clipping) {
        ModelSpec spec = ReferenceRun.spec("classification", 64, 10, "cross-entropy", layers,
                OPTIMIZERS.getOrDefault(optimizer, optimizer),
                clipping == null ? "" : "gradient-clipping: " + clipping + "\n");
        assertSameTraining(spec, ReferenceRun.digits(), NOTHING, true);
    }

    @ParameterizedTest(name = "batch norm, {0}, {1}, {2}")
    @CsvSource(delimiter = '|', value = {
        "wine | [{dense: {units: 24, activation: relu}}, {batch-norm: {}}, {dense: {units: 8, activation: relu}}] | adam | mse",
        "wine | [{dense: {units: 24, activation: tanh}}, {batch-norm: {}}, {dropout: {rate: 0.25}}, {dense: {units: 8, activation: tanh}}] | sgd | mae",
        "wine | [{residual: {units: 16, activation: tanh, depth: 2, norm: batch}}] | sgd | mse",
        "digits | [{dense: {units: 32, activation: tanh}}, {batch-norm: {}}, {dense: {units: 16, activation: sigmoid}}, {batch-norm: {}}] | adam | binary-cross-entropy"})
    void batchNormOtherLossesMatch(String data, String layers, String optimizer, String loss) {
        boolean wine = data.equals("wine");
        ModelSpec spec = ReferenceRun.spec(wine ? "regression" : "classification", wine ? 12 : 64, wine ? 1 : 10, loss,
                layers, OPTIMIZERS.get(optimizer));
        assertSameTraining(spec, wine ? ReferenceRun.wineAlcohol() : ReferenceRun.digits(), NOTHING, true);
    }

    /**
     * Without re-seeding between steps: DL4J's graph trains alone first, then the lean engine, each from its own
     * creation (which seeds the generator with the spec's seed and draws the initial parameters): the engine's masks
     * continue the generator's sequence as DL4J's do, step after step.
     */
    @ParameterizedTest(name = "dropout continues DL4J's random sequence, {0}")
    @ValueSource(strings = {
        "[{dense: {units: 32, activation: relu}}, {dropout: {rate: 0.5}}, {dense: {units: 16, activation: relu}}]",
        "[{dropout: {rate: 0.2}}, {dropout: {rate: 0.3}}, {dense: {units: 32, activation: relu}}, {dropout: {rate: 0.5}}, {dropout: {rate: 0.1}}, {dropout: {rate: 0.4}}, {dense: {units: 16, activation: relu}}]"})
    void dropoutContinuesDl4jsRandomSequence(String layers) {
        ModelSpec spec = ReferenceRun.spec("classification", 64, 10, "cross-entropy", layers, ADAM);
        ReferenceRun data = ReferenceRun.digits();
        double[] expected = new double[STEPS];
        ComputationGraph graph = ReferenceRun.graph(spec);
        for (int step = 0; step < STEPS; step++) {
            float[][] batch = data.batch(step, BATCH);
            graph.fit(new INDArray[] {ReferenceRun.matrix(batch[0], BATCH)},
                    new INDArray[] {ReferenceRun.matrix(batch[1], BATCH)});
            expected[step] = graph.score();
        }
        try (LeanNetwork lean = LeanNetwork.create(spec)) {
            for (int step = 0; step < STEPS; step++) {
                float[][] batch = data.batch(step, BATCH);
                double actual = lean.fit(batch[0], batch[1], BATCH);
                assertThat(Math.abs(actual - expected[step]))
                        .as("loss of step %d: lean %s, DL4J %s", step, actual, expected[step])
                        .isLessThanOrEqualTo(TOLERANCE * Math.abs(expected[step]));
            }
            assertNormClose("parameters after " + STEPS + " steps", lean.parameters(), graph.params());
        }
    }

    @Test
    void refusesWhatItDoesNotCompute() {
        // the plan without batch norm (the plain-Java forward pass's) still refuses it by name
        assertThatThrownBy(() -> EnginePlan.of(ReferenceRun.spec("classification", 64, 10, "cross-entropy",
                "[{residual: {units: 16, depth: 2, norm: batch}}]", ADAM)))
                .isInstanceOf(UnsupportedSpecException.class).hasMessageContaining("BatchNormalization");
        assertThatThrownBy(() -> EnginePlan.of(ReferenceRun.spec("regression", 64, 1, "mae",
                "[{dense: {units: 16}}, {batch-norm: {}}]", ADAM)))
                .isInstanceOf(UnsupportedSpecException.class).hasMessageContaining("BatchNormalization");
    }

    private static ModelSpec digitsSpec(String activation, String optimizer, String more) {
        String layer = "{dense: {units: 32, activation: " + activation + "}}";
        return ReferenceRun.spec("classification", 64, 10, "cross-entropy",
                "[" + layer + ", " + layer.replace("32", "16") + "]", optimizer, more);
    }

    /** Something done to both before a step (a changed learning rate, say). */
    interface BeforeStep {
        void accept(int step, ComputationGraph graph, LeanNetwork lean);
    }

    private static final BeforeStep NOTHING = (step, graph, lean) -> { };

    private static void assertSameTraining(ModelSpec spec, ReferenceRun data) {
        assertSameTraining(spec, data, NOTHING);
    }

    private static void assertSameTraining(ModelSpec spec, ReferenceRun data, BeforeStep beforeStep) {
        assertSameTraining(spec, data, beforeStep, false);
    }

    /** {@code optimizerState}: also the optimizer's state after the steps (its length and layout are DL4J's). */
    private static void assertSameTraining(ModelSpec spec, ReferenceRun data, BeforeStep beforeStep,
                                           boolean optimizerState) {
        ComputationGraph graph = ReferenceRun.graph(spec);
        try (LeanNetwork lean = LeanNetwork.create(spec)) {
            // the engine draws DL4J's initial parameters itself: the same seed, initialisers and order
            assertClose("initial parameters", lean.parameters(), graph.params(), 0.0);
            for (int step = 0; step < STEPS; step++) {
                beforeStep.accept(step, graph, lean);
                // the schedules see the same counters: DL4J's iteration count, and its epoch count that a batch
                // fit never advances
                assertThat(lean.iterations()).as("iterations before step %d", step)
                        .isEqualTo(graph.getIterationCount());
                assertThat(graph.getEpochCount()).as("DL4J's epoch count").isZero();
                Double rate = graph.getLearningRate(NetworkBuilder.OUTPUT);
                assertThat(Double.compare(lean.learningRate(), rate == null ? Double.NaN : rate))
                        .as("learning rate of step %d: lean %s, DL4J %s", step, lean.learningRate(), rate).isZero();
                float[][] batch = data.batch(step, BATCH);
                // both draw their dropout masks from the thread's generator: the same state for both
                Nd4j.getRandom().setSeed(spec.seed() + step);
                graph.fit(new INDArray[] {ReferenceRun.matrix(batch[0], BATCH)},
                        new INDArray[] {ReferenceRun.matrix(batch[1], BATCH)});
                double expected = graph.score();
                Nd4j.getRandom().setSeed(spec.seed() + step);
                double actual = lean.fit(batch[0], batch[1], BATCH);
                assertThat(Math.abs(actual - expected))
                        .as("loss of step %d: lean %s, DL4J %s", step, actual, expected)
                        .isLessThanOrEqualTo(TOLERANCE * Math.abs(expected));
            }
            // the vector's norm: Adam turns one-ulp differences of a nearly cancelling gradient into an update's size,
            // so single parameters drift by up to ~2e-5 of the largest one over 50 steps (tanh, softplus)
            assertNormClose("parameters after " + STEPS + " steps", lean.parameters(), graph.params());
            if (optimizerState) {
                INDArray state = graph.getUpdater().getStateViewArray();
                if (state == null) {
                    assertThat(lean.updaterState()).as("optimizer state").isNull();
                } else {
                    assertThat(lean.updaterState().length()).as("optimizer state length").isEqualTo(state.length());
                    assertNormClose("optimizer state after " + STEPS + " steps", lean.updaterState(), state);
                }
            }
            float[][] unseen = data.batch(1_000, 100);
            INDArray expected = graph.outputSingle(false, ReferenceRun.matrix(unseen[0], 100));
            INDArray actual = ReferenceRun.matrix(lean.output(unseen[0], 100), 100);
            assertClose("outputs of 100 rows", actual, expected, TOLERANCE);
        }
    }

    private static void assertNormClose(String what, INDArray actual, INDArray expected) {
        double difference = actual.reshape(expected.shape()).sub(expected).norm2Number().doubleValue();
        double norm = expected.norm2Number().doubleValue();
        LOG.infof("%s: |lean - DL4J| / |DL4J| = %.3g", what, difference / norm);
        assertThat(difference).as("%s: |lean - DL4J| = %s, |DL4J| = %s", what, difference, norm)
                .isLessThanOrEqualTo(TOLERANCE * norm);
        assertClose(what, actual, expected, 1e-4);
    }

    /** Relative to the largest magnitude of the reference: a per-element ratio would blow up near zero. */
    private static void assertClose(String what, INDArray actual, INDArray expected, double tolerance) {
        float[] a = actual.dup().data().asFloat();
        float[] e = expected.dup().data().asFloat();
        assertThat(a).as(what).hasSameSizeAs(e);
        double scale = 0;
        double worst = 0;
        int at = -1;
        for (int i = 0; i < e.length; i++) {
            scale = Math.max(scale, Math.abs(e[i]));
            if (Math.abs(a[i] - e[i]) > worst) {
                worst = Math.abs(a[i] - e[i]);
                at = i;
            }
        }
        LOG.infof("%s: max |lean - DL4J| = %.3g, relative to max |DL4J| = %.3g", what, worst, worst / scale);
        assertThat(worst).as("%s: element %d is %s in the lean engine, %s in DL4J", what, at,
                at < 0 ? 0 : a[at], at < 0 ? 0 : e[at]).isLessThanOrEqualTo(tolerance * scale);
    }
}
