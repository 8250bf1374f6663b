package dev.streamtrain.model.spec;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import dev.streamtrain.model.spec.ModelSpec.AugmentationSpec;
import dev.streamtrain.model.spec.ModelSpec.BatchNorm;
import dev.streamtrain.model.spec.ModelSpec.ClippingSpec;
import dev.streamtrain.model.spec.ModelSpec.Dense;
import dev.streamtrain.model.spec.ModelSpec.Dropout;
import dev.streamtrain.model.spec.ModelSpec.LayerNorm;
import dev.streamtrain.model.spec.ModelSpec.LossKind;
import dev.streamtrain.model.spec.ModelSpec.OptimizerSpec;
import dev.streamtrain.model.spec.ModelSpec.Residual;
import dev.streamtrain.model.spec.ModelSpec.ScheduleSpec;
import dev.streamtrain.model.spec.ModelSpec.Task;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/** The model spec parser accepts every documented field and refuses wrong specs naming the field and what is allowed. */
class ModelSpecParserTest {

    /** A small valid spec as top-level key to flow-style YAML value; tests override or remove keys. */
    private static Map<String, String> base() {
        Map<String, String> spec = new LinkedHashMap<>();
        spec.put("name", "test-model");
        spec.put("inputs", "4");
        spec.put("task", "classification");
        spec.put("outputs", "3");
        spec.put("layers", "[{dense: {units: 8, activation: relu}}]");
        return spec;
    }

    /** The base spec with {@code overrides} applied pairwise (key, value); a null value removes the key. */
    static String yaml(String... overrides) {
        Map<String, String> spec = base();
        for (int i = 0; i < overrides.length; i += 2) {
            if (overrides[i + 1] == null) {
                spec.remove(overrides[i]);
            } else {
                spec.put(overrides[i], overrides[i + 1]);
            }
        }
        StringBuilder text = new StringBuilder();
        spec.forEach((key, value) -> text.append(key).append(": ").append(value).append('\n'));
        return text.toString();
    }

    @Test
    void bundledSpecParsesWithTheDigitsModel() {
        ModelSpec spec = ModelSpecParser.load(null);

        assertThat(spec.name()).isEqualTo("digits");
        assertThat(spec.inputs()).isEqualTo(64);
        assertThat(spec.task()).isEqualTo(Task.CLASSIFICATION);
        assertThat(spec.isClassification()).isTrue();
        assertThat(spec.outputs()).isEqualTo(10);
        assertThat(spec.labelWidth()).isEqualTo(10);
        assertThat(spec.normalize()).isTrue();
        assertThat(spec.seed()).isEqualTo(7L);
        assertThat(spec.layers()).containsExactly(new Dense(128, "relu", "auto", false));
        assertThat(spec.loss()).isEqualTo(LossKind.CROSS_ENTROPY);
        assertThat(spec.optimizer().type()).isEqualTo("adam");
        assertThat(spec.optimizer().learningRate()).isEqualTo(0.01);
        assertThat(spec.optimizer().beta1()).isNaN();
        assertThat(spec.schedule().type()).isEqualTo("constant");
        assertThat(spec.clipping()).isEqualTo(new ClippingSpec("global-norm", 5.0));
        assertThat(spec.clipping().enabled()).isTrue();
        assertThat(spec.batchSize()).isEqualTo(32);
        assertThat(spec.augmentation()).isEqualTo(AugmentationSpec.none());
        assertThat(spec.source()).contains("name: digits");
        assertThat(ModelSpecParser.load("bundled:digits")).isEqualTo(spec);
    }

    @Test
    void fullSpecWithEveryLayerKindParses() {
        ModelSpec spec = ModelSpecParser.parse("""
                name: full.spec_1
                inputs: 12
                task: classification
                outputs: 4
                normalize: false
                seed: 1234567890123
                layers:
                  - dense: {units: 16, activation: tanh, init: xavier-uniform, norm: layer}
                  - batch-norm: {decay: 0.95, eps: 0.001}
                  - dense: {units: 16, activation: gelu, init: he}
                  - layer-norm: {}
                  - dropout: {rate: 0.2}
                  - residual: {units: 16, activation: elu, depth: 3, norm: batch}
                  - residual: {units: 8, activation: swish, norm: layer, init: lecun-normal}
                  - batch-norm:
                  - dropout: {}
                loss: binary-cross-entropy
                optimizer: {type: adamw, learning-rate: 0.003, beta1: 0.8, beta2: 0.99, epsilon: 1e-7,
                            weight-decay: 0.02, l1: 0.001}
                schedule: {type: warmup-cosine, warmup-steps: 10, total-steps: 100, min-learning-rate: 0.0001}
                gradient-clipping: {type: value, threshold: 0.5}
                batch-size: 16
                augmentation: {gaussian-noise: 0.1, mixup: 0.2}
                """);

        assertThat(spec.name()).isEqualTo("full.spec_1");
        assertThat(spec.inputs()).isEqualTo(12);
        assertThat(spec.outputs()).isEqualTo(4);
        assertThat(spec.normalize()).isFalse();
        assertThat(spec.seed()).isEqualTo(1234567890123L);
        assertThat(spec.layers()).containsExactly(
                new Dense(16, "tanh", "xavier-uniform", true),
                new BatchNorm(0.95, 0.001),
                new Dense(16, "gelu", "he", false),
                new LayerNorm(),
                new Dropout(0.2),
                new Residual(16, "elu", 3, "batch", "auto"),
                new Residual(8, "swish", 2, "layer", "lecun-normal"),
                new BatchNorm(0.9, 1e-5),
                new Dropout(0.5));
        assertThat(spec.loss()).isEqualTo(LossKind.BINARY_CROSS_ENTROPY);
        assertThat(spec.optimizer()).isEqualTo(
                new OptimizerSpec("adamw", 0.003, 0.8, 0.99, 1e-7, Double.NaN, true, Double.NaN, 0.02, 0.001, 0.0));
        assertThat(spec.schedule()).isEqualTo(new ScheduleSpec("warmup-cosine", 0.5, 1000, 1.0, 10, 100, 0.0001));
        assertThat(spec.clipping()).isEqualTo(new ClippingSpec("value", 0.5));
        assertThat(spec.batchSize()).isEqualTo(16);
        assertThat(spec.augmentation()).isEqualTo(new AugmentationSpec(0.1, 0.2));
        assertThat(spec.augmentation().enabled()).isTrue();
    }

    @Test
    void l2AndWeightDecayAreRefusedTogetherBecauseDl4jKeepsOnlyOne() {
        assertThatThrownBy(() -> ModelSpecParser.parse(yaml("optimizer", "{type: adamw, l2: 0.001}")))
                .isInstanceOf(InvalidSpecException.class)
                .hasMessageContaining("optimizer.l2").hasMessageContaining("adamw's default");
        assertThatThrownBy(() -> ModelSpecParser.parse(yaml("optimizer", "{type: adam, l2: 0.001, weight-decay: 0.01}")))
                .isInstanceOf(InvalidSpecException.class).hasMessageContaining("optimizer.l2");
        assertThatThrownBy(() -> ModelSpecParser.parse(yaml("optimizer", "{type: adam, learning-rate: 0.01}",
                "schedule", "{type: warmup-cosine, total-steps: 100, min-learning-rate: 0.1}")))
                .isInstanceOf(InvalidSpecException.class).hasMessageContaining("schedule.min-learning-rate");
        assertThat(ModelSpecParser.parse(yaml("optimizer", "{type: adam, l2: 0.001}")).optimizer().l2()).isEqualTo(0.001);
    }

    @Test
    void autoLearningRateIsAcceptedWithEveryOptimizerThatHasARateAndScalesItsDefault() {
        for (String type : List.of("sgd", "adam", "adamw", "nadam", "amsgrad", "adamax", "rmsprop", "adagrad")) {
            ModelSpec spec = ModelSpecParser.parse(yaml("optimizer", "{type: " + type + ", learning-rate: auto}",
                    "schedule", "{type: step, factor: 0.5, every: 100}"));
            assertThat(spec.optimizer().autoLearningRate()).as(type).isTrue();
            // the tuner's multiples are taken of the optimizer's default: what the spec gives when it names none
            assertThat(spec.optimizer().learningRate()).as(type)
                    .isEqualTo(ModelSpecParser.parse(yaml("optimizer", "{type: " + type + "}")).optimizer().learningRate());
        }
        assertThat(ModelSpecParser.parse(yaml("optimizer", "{type: adam, learning-rate: 0.01}")).optimizer()
                .autoLearningRate()).isFalse();
    }

    @Test
    void aLearningRateThatIsNeitherANumberNorAutoIsRefusedByName() {
        assertThatThrownBy(() -> ModelSpecParser.parse(yaml("optimizer", "{type: adam, learning-rate: fast}")))
                .isInstanceOf(InvalidSpecException.class)
                .hasMessageContaining("optimizer.learning-rate").hasMessageContaining("or auto")
                .hasMessageContaining("'fast'");
        assertThatThrownBy(() -> ModelSpecParser.parse(yaml("optimizer", "{type: adadelta, learning-rate: auto}")))
                .isInstanceOf(InvalidSpecException.class)
                .hasMessageContaining("optimizer.learning-rate").hasMessageContaining("adadelta has none");
    }

    @Test
    void regressionDefaultsToMseAndAcceptsOneOutput() {
        ModelSpec spec = ModelSpecParser.parse(yaml("task", "regression", "outputs", "1"));

        assertThat(spec.task()).isEqualTo(Task.REGRESSION);
        assertThat(spec.isClassification()).isFalse();
        assertThat(spec.outputs()).isEqualTo(1);
        assertThat(spec.loss()).isEqualTo(LossKind.MSE);
        assertThat(ModelSpecParser.parse(yaml("task", "regression", "loss", "mae")).loss()).isEqualTo(LossKind.MAE);
    }

    @Test
    void omittedOptionalFieldsTakeTheirDefaults() {
        ModelSpec spec = ModelSpecParser.parse(yaml());

        assertThat(spec.normalize()).isTrue();
        assertThat(spec.seed()).isEqualTo(7L);
        assertThat(spec.loss()).isEqualTo(LossKind.CROSS_ENTROPY);
        assertThat(spec.optimizer().type()).isEqualTo("adam");
        assertThat(spec.optimizer().learningRate()).isEqualTo(0.001);
        assertThat(spec.schedule().type()).isEqualTo("constant");
        assertThat(spec.clipping()).isEqualTo(ClippingSpec.none());
        assertThat(spec.clipping().enabled()).isFalse();
        assertThat(spec.batchSize()).isEqualTo(32);
        assertThat(spec.augmentation()).isEqualTo(AugmentationSpec.none());
        assertThat(spec.augmentation().enabled()).isFalse();
    }

    static Stream<Arguments> augmentations() {
        return Stream.of(
                Arguments.of("{gaussian-noise: 0.1, mixup: 0.2}", new AugmentationSpec(0.1, 0.2)),
                Arguments.of("{gaussian-noise: 0.05}", new AugmentationSpec(0.05, 0.0)),
                Arguments.of("{mixup: 1}", new AugmentationSpec(0.0, 1.0)),
                Arguments.of("{gaussian-noise: 0, mixup: 0.0}", AugmentationSpec.none()),
                Arguments.of("{}", AugmentationSpec.none()),
                Arguments.of("null", AugmentationSpec.none()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("augmentations")
    void augmentationParsesWithEachTransformOffByDefault(String augmentation, AugmentationSpec expected) {
        AugmentationSpec spec = ModelSpecParser.parse(yaml("augmentation", augmentation)).augmentation();

        assertThat(spec).isEqualTo(expected);
        assertThat(spec.enabled()).isEqualTo(expected.gaussianNoise() > 0 || expected.mixup() > 0);
    }

    static Stream<Arguments> optimizers() {
        return Stream.of(
                Arguments.of("sgd", 0.01),
                Arguments.of("adam", 0.001),
                Arguments.of("adamw", 0.001),
                Arguments.of("nadam", 0.001),
                Arguments.of("amsgrad", 0.001),
                Arguments.of("adamax", 0.001),
                Arguments.of("rmsprop", 0.001),
                Arguments.of("adagrad", 0.01),
                Arguments.of("adadelta", 1.0));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("optimizers")
    void everyOptimizerTypeParsesWithItsDefaultLearningRate(String type, double defaultRate) {
        OptimizerSpec optimizer = ModelSpecParser.parse(yaml("optimizer", "{type: " + type + "}")).optimizer();

        assertThat(optimizer.type()).isEqualTo(type);
        assertThat(optimizer.learningRate()).isEqualTo(defaultRate);
        assertThat(optimizer.weightDecay()).isEqualTo(type.equals("adamw") ? 0.01 : 0.0);
    }

    @Test
    void optimizerParametersAreRead() {
        OptimizerSpec sgd = ModelSpecParser.parse(
                yaml("optimizer", "{type: sgd, learning-rate: 0.05, momentum: 0.9, nesterov: true}")).optimizer();
        OptimizerSpec rms = ModelSpecParser.parse(
                yaml("optimizer", "{type: RMSProp, rho: 0.95, epsilon: 0.0001}")).optimizer();

        assertThat(sgd.learningRate()).isEqualTo(0.05);
        assertThat(sgd.momentum()).isEqualTo(0.9);
        assertThat(sgd.nesterov()).isTrue();
        assertThat(rms.type()).isEqualTo("rmsprop");
        assertThat(rms.rho()).isEqualTo(0.95);
        assertThat(rms.epsilon()).isEqualTo(1e-4);
    }

    static Stream<Arguments> schedules() {
        return Stream.of(
                Arguments.of("{type: constant}", new ScheduleSpec("constant", 0.5, 1000, 1.0, 0, 1, 0.0)),
                Arguments.of("{type: step, factor: 0.25, every: 50}", new ScheduleSpec("step", 0.25, 50, 1.0, 0, 1, 0.0)),
                Arguments.of("{type: exponential, gamma: 0.999}",
                        new ScheduleSpec("exponential", 0.5, 1000, 0.999, 0, 1, 0.0)),
                Arguments.of("{type: warmup-cosine, warmup-steps: 5, total-steps: 500, min-learning-rate: 0.00001}",
                        new ScheduleSpec("warmup-cosine", 0.5, 1000, 1.0, 5, 500, 0.00001)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("schedules")
    void everyScheduleTypeParses(String schedule, ScheduleSpec expected) {
        assertThat(ModelSpecParser.parse(yaml("schedule", schedule)).schedule()).isEqualTo(expected);
    }

    static Stream<Arguments> clippings() {
        return Stream.of(
                Arguments.of("{type: none}", ClippingSpec.none()),
                Arguments.of("{type: global-norm, threshold: 2.5}", new ClippingSpec("global-norm", 2.5)),
                Arguments.of("{type: layer-norm, threshold: 1.0}", new ClippingSpec("layer-norm", 1.0)),
                Arguments.of("{type: value, threshold: 0.1}", new ClippingSpec("value", 0.1)),
                Arguments.of("{threshold: 3.0}", new ClippingSpec("global-norm", 3.0)),
                Arguments.of("{type: global-norm}", new ClippingSpec("global-norm", 5.0)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("clippings")
    void everyClippingTypeParses(String clipping, ClippingSpec expected) {
        assertThat(ModelSpecParser.parse(yaml("gradient-clipping", clipping)).clipping()).isEqualTo(expected);
    }

    @Test
    void jsonSpecIsAccepted() {
        ModelSpec spec = ModelSpecParser.parse("""
                {"name": "json-model", "inputs": 3, "task": "regression", "outputs": 2,
                 "layers": [{"dense": {"units": 4, "activation": "tanh"}}], "optimizer": {"type": "sgd"}}
                """);

        assertThat(spec.name()).isEqualTo("json-model");
        assertThat(spec.outputs()).isEqualTo(2);
        assertThat(spec.layers()).containsExactly(new Dense(4, "tanh", "auto", false));
        assertThat(spec.optimizer().type()).isEqualTo("sgd");
    }

    static Stream<Arguments> wrongSpecs() {
        return Stream.of(
                Arguments.of("unknown top-level key", yaml("learning-rate", "0.1"),
                        "learning-rate", "unknown field; allowed here: [augmentation, batch-size, gradient-clipping, inputs"),
                Arguments.of("missing inputs", yaml("inputs", null), "inputs", "is required (an integer from 1 to"),
                Arguments.of("zero inputs", yaml("inputs", "0"), "inputs", "must be an integer from 1 to"),
                Arguments.of("missing name", yaml("name", null), "name", "is required"),
                Arguments.of("upper-case name", yaml("name", "Digits"), "name", "a-z, 0-9"),
                Arguments.of("unknown task", yaml("task", "ranking"), "task",
                        "'ranking' is not one of [classification, regression]"),
                Arguments.of("one output for classification", yaml("outputs", "1"), "outputs", "at least 2 classes"),
                Arguments.of("missing layers", yaml("layers", null), "layers", "is required: a list"),
                Arguments.of("layers not a list", yaml("layers", "{dense: {units: 8}}"), "layers", "must be a list"),
                Arguments.of("unknown layer kind", yaml("layers", "[{conv: {filters: 8}}]"), "layers[0].conv",
                        "unknown layer kind; allowed: [batch-norm, dense, dropout, layer-norm, residual]"),
                Arguments.of("two kinds in one entry", yaml("layers", "[{dense: {units: 8}, dropout: {}}]"), "layers[0]",
                        "must be a mapping with one key"),
                Arguments.of("dense without units", yaml("layers", "[{dense: {activation: relu}}]"),
                        "layers[0].dense.units", "is required"),
                Arguments.of("unknown activation", yaml("layers", "[{dense: {units: 8, activation: relux}}]"),
                        "layers[0].dense.activation", "'relux' is not one of [elu, gelu, identity, leaky-relu, mish"),
                Arguments.of("unknown initialiser", yaml("layers", "[{dense: {units: 8, init: zeros}}]"),
                        "layers[0].dense.init", "'zeros' is not one of [auto, he, he-uniform"),
                Arguments.of("unknown field in a layer", yaml("layers", "[{dense: {units: 8, bias: false}}]"),
                        "layers[0].dense.bias", "unknown field; allowed here: [activation, init, norm, units]"),
                Arguments.of("layer-norm as first layer", yaml("layers", "[{layer-norm: {}}, {dense: {units: 8}}]"),
                        "layers[0].layer-norm", "must follow a dense layer"),
                Arguments.of("layer-norm after dropout",
                        yaml("layers", "[{dense: {units: 8}}, {dropout: {rate: 0.1}}, {layer-norm: {}}]"),
                        "layers[2].layer-norm", "must follow a dense layer"),
                Arguments.of("dropout rate 1.5", yaml("layers", "[{dense: {units: 8}}, {dropout: {rate: 1.5}}]"),
                        "layers[1].dropout.rate", "must be a number in [0.0, 0.95], got 1.5"),
                Arguments.of("residual norm unknown", yaml("layers", "[{residual: {units: 8, norm: group}}]"),
                        "layers[0].residual.norm", "'group' is not one of [none, batch, layer]"),
                Arguments.of("residual depth 0", yaml("layers", "[{residual: {units: 8, depth: 0}}]"),
                        "layers[0].residual.depth", "must be an integer from 1 to 16"),
                Arguments.of("unknown optimizer", yaml("optimizer", "{type: lion}"), "optimizer.type",
                        "'lion' is not one of [sgd, adam, adamw, nadam, amsgrad, adamax, rmsprop, adagrad, adadelta]"),
                Arguments.of("unknown optimizer field", yaml("optimizer", "{type: adam, lr: 0.1}"), "optimizer.lr",
                        "unknown field; allowed here: [beta1, beta2, epsilon, l1, l2, learning-rate, momentum"),
                Arguments.of("learning-rate a word", yaml("optimizer", "{type: adam, learning-rate: quick}"),
                        "optimizer.learning-rate", "must be a number in (0, 10] or auto"),
                Arguments.of("learning-rate zero", yaml("optimizer", "{learning-rate: 0}"), "optimizer.learning-rate",
                        "must be a number in (0.0, 10.0]"),
                Arguments.of("sgd with momentum and nesterov false",
                        yaml("optimizer", "{type: sgd, momentum: 0.9, nesterov: false}"), "optimizer.nesterov",
                        "set nesterov: true or momentum: 0"),
                Arguments.of("nesterov not a boolean", yaml("optimizer", "{type: sgd, nesterov: sometimes}"),
                        "optimizer.nesterov", "must be true or false"),
                Arguments.of("optimizer not a mapping", yaml("optimizer", "adam"), "optimizer", "must be a mapping"),
                Arguments.of("unknown schedule", yaml("schedule", "{type: cyclic}"), "schedule.type",
                        "'cyclic' is not one of [constant, step, exponential, warmup-cosine]"),
                Arguments.of("step schedule without every", yaml("schedule", "{type: step}"), "schedule.every",
                        "is required"),
                Arguments.of("exponential schedule without gamma", yaml("schedule", "{type: exponential}"),
                        "schedule.gamma", "is required for an exponential schedule (a number in (0, 1])"),
                Arguments.of("exponential gamma above 1", yaml("schedule", "{type: exponential, gamma: 1.5}"),
                        "schedule.gamma", "must be a number in (0.0, 1.0]"),
                Arguments.of("warmup-cosine without total-steps", yaml("schedule", "{type: warmup-cosine}"),
                        "schedule.total-steps", "is required"),
                Arguments.of("warmup-steps equal to total-steps",
                        yaml("schedule", "{type: warmup-cosine, warmup-steps: 100, total-steps: 100}"),
                        "schedule.warmup-steps", "must be less than total-steps (100), got 100"),
                Arguments.of("warmup-steps above total-steps",
                        yaml("schedule", "{type: warmup-cosine, warmup-steps: 200, total-steps: 100}"),
                        "schedule.warmup-steps", "must be less than total-steps (100), got 200"),
                Arguments.of("unknown clipping", yaml("gradient-clipping", "{type: norm}"), "gradient-clipping.type",
                        "'norm' is not one of [none, global-norm, layer-norm, value]"),
                Arguments.of("negative clipping threshold", yaml("gradient-clipping", "{threshold: -1}"),
                        "gradient-clipping.threshold", "must be a number in (0.0"),
                Arguments.of("loss mse for classification", yaml("loss", "mse"), "loss",
                        "'mse' is not one of [cross-entropy, binary-cross-entropy]"),
                Arguments.of("loss cross-entropy for regression", yaml("task", "regression", "loss", "cross-entropy"),
                        "loss", "'cross-entropy' is not one of [mse, mae]"),
                Arguments.of("batch-size zero", yaml("batch-size", "0"), "batch-size", "must be an integer from 1 to 65536"),
                Arguments.of("batch-size fractional", yaml("batch-size", "2.5"), "batch-size", "must be an integer"),
                Arguments.of("normalize not a boolean", yaml("normalize", "7"), "normalize", "must be true or false"),
                Arguments.of("seed not an integer", yaml("seed", "abc"), "seed", "must be an integer"),
                Arguments.of("negative mixup", yaml("augmentation", "{mixup: -0.2}"), "augmentation.mixup",
                        "must be >= 0, got -0.2"),
                Arguments.of("negative noise", yaml("augmentation", "{gaussian-noise: -1, mixup: 0.2}"),
                        "augmentation.gaussian-noise", "must be >= 0, got -1.0"),
                Arguments.of("noise not a number", yaml("augmentation", "{gaussian-noise: lots}"),
                        "augmentation.gaussian-noise", "must be a number >= 0, got \"lots\""),
                Arguments.of("infinite mixup", yaml("augmentation", "{mixup: 1e400}"), "augmentation.mixup",
                        "must be a number >= 0"),
                Arguments.of("unknown augmentation", yaml("augmentation", "{cutout: 0.1}"), "augmentation.cutout",
                        "unknown field; allowed here: [gaussian-noise, mixup]"),
                Arguments.of("augmentation not a mapping", yaml("augmentation", "0.1"), "augmentation",
                        "must be a mapping"),
                Arguments.of("not YAML", "name: [digits\ninputs: {", "(document)", "not valid YAML/JSON"),
                Arguments.of("YAML but not a mapping", "just some words", "(document)", "must be a mapping"),
                Arguments.of("empty document", "", "(document)", "must be a mapping"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("wrongSpecs")
    void wrongSpecIsRefusedNamingTheFieldAndWhatIsAllowed(String description, String text, String field,
                                                          String allowed) {
        assertThatThrownBy(() -> ModelSpecParser.parse(text))
                .isInstanceOfSatisfying(InvalidSpecException.class, e -> {
                    assertThat(e.field()).isEqualTo(field);
                    assertThat(e.getMessage()).startsWith("model spec field '" + field + "': ").contains(allowed);
                });
    }

    @ParameterizedTest
    @ValueSource(strings = {"0.0", "0.95"})
    void dropoutRateBoundsAreInclusive(String rate) {
        ModelSpec spec = ModelSpecParser.parse(yaml("layers", "[{dense: {units: 8}}, {dropout: {rate: " + rate + "}}]"));

        assertThat(((Dropout) spec.layers().get(1)).rate()).isCloseTo(Double.parseDouble(rate), within(1e-12));
    }

    @Test
    void specIsLoadedFromAFile(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("model.yaml");
        Files.writeString(file, yaml("name", "from-file"));

        assertThat(ModelSpecParser.load(file.toString()).name()).isEqualTo("from-file");
    }

    @Test
    void missingSpecFileIsRefusedNamingTheConfigurationKey(@TempDir Path dir) {
        String missing = dir.resolve("absent.yaml").toString();

        assertThatThrownBy(() -> ModelSpecParser.load(missing))
                .isInstanceOfSatisfying(InvalidSpecException.class, e -> {
                    assertThat(e.field()).isEqualTo("streamtrain.model.spec");
                    assertThat(e.getMessage()).contains("cannot read the spec file").contains("absent.yaml");
                });
    }
}
