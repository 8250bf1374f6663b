package dev.streamtrain.model.spec;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;

import dev.streamtrain.model.spec.ModelSpec.AugmentationSpec;
import dev.streamtrain.model.spec.ModelSpec.ClippingSpec;
import dev.streamtrain.model.spec.ModelSpec.LossKind;
import dev.streamtrain.model.spec.ModelSpec.OptimizerSpec;
import dev.streamtrain.model.spec.ModelSpec.ScheduleSpec;
import dev.streamtrain.model.spec.ModelSpec.Task;

/**
 * Reads a model spec (YAML, or JSON which is YAML too) and validates every field, so that a wrong spec is
 * refused at start with a message naming the field and what is allowed.
 */
public final class ModelSpecParser {

    /** The spec bundled with the service: the digits classifier of the demo. */
    public static final String BUNDLED_SPEC = "specs/digits.yaml";

    static final List<String> OPTIMIZERS = List.of(
            "sgd", "adam", "adamw", "nadam", "amsgrad", "adamax", "rmsprop", "adagrad", "adadelta");
    static final List<String> SCHEDULES = List.of("constant", "step", "exponential", "warmup-cosine");
    static final List<String> CLIPPING = List.of("none", "global-norm", "layer-norm", "value");
    static final List<String> NORMS = List.of("none", "batch", "layer");

    private static final Set<String> TOP_LEVEL = Set.of("name", "inputs", "task", "outputs", "normalize", "seed",
            "layers", "loss", "optimizer", "schedule", "gradient-clipping", "batch-size",
            "augmentation");
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    private ModelSpecParser() {
    }

    /** Reads the spec at {@code location}, or the bundled digits spec when the location is empty. */
    public static ModelSpec load(String location) {
        return parse(text(location));
    }

    /** The text of the spec at {@code location} (the bundled digits spec when the location is empty). */
    public static String text(String location) {
        if (location == null || location.isBlank() || location.equals("bundled:digits")) {
            try (var in = ModelSpecParser.class.getClassLoader().getResourceAsStream(BUNDLED_SPEC)) {
                if (in == null) {
                    throw new IllegalStateException("the bundled spec " + BUNDLED_SPEC + " is missing from the jar");
                }
                return new String(in.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        Path path = Path.of(location);
        if (!Files.isReadable(path)) {
            throw new InvalidSpecException("streamtrain.model.spec", "cannot read the spec file " + path.toAbsolutePath());
        }
        try {
            return Files.readString(path);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the model spec " + path, e);
        }
    }

    public static ModelSpec parse(String text) {
        JsonNode root;
        try {
            root = YAML.readTree(text);
        } catch (JsonProcessingException e) {
            throw new InvalidSpecException("(document)", "not valid YAML/JSON: " + e.getOriginalMessage());
        }
        if (root == null || !root.isObject()) {
            throw new InvalidSpecException("(document)", "must be a mapping of the spec's fields");
        }
        SpecNode spec = new SpecNode(root, "");
        spec.allowOnly(TOP_LEVEL);

        String name = spec.text("name", null);
        if (!name.matches("[a-z0-9][a-z0-9._-]{0,62}")) {
            throw new InvalidSpecException("name",
                    "'" + name + "' must be 1-63 characters of a-z, 0-9, '.', '_', '-' starting with a letter or digit");
        }
        int inputs = spec.positiveInt("inputs", null);
        Task task = Task.valueOf(spec.choice("task", null, List.of("classification", "regression")).toUpperCase());
        int outputs = spec.positiveInt("outputs", null);
        if (task == Task.CLASSIFICATION && outputs < 2) {
            throw new InvalidSpecException("outputs", "a classification needs at least 2 classes, got " + outputs);
        }
        List<ModelSpec.LayerSpec> layers = LayerSpecParser.parseLayers(spec);
        LossKind loss = parseLoss(spec, task);
        OptimizerSpec optimizer = parseOptimizer(spec.object("optimizer"));
        ScheduleSpec schedule = parseSchedule(spec.object("schedule"), optimizer.learningRate());
        ClippingSpec clipping = parseClipping(spec.object("gradient-clipping"));
        AugmentationSpec augmentation = parseAugmentation(spec.object("augmentation"));
        return new ModelSpec(name, inputs, task, outputs, spec.bool("normalize", true), spec.longValue("seed", 7L),
                layers, loss, optimizer, schedule, clipping, spec.intIn("batch-size", 32, 1, 65536), augmentation,
                text);
    }

    private static LossKind parseLoss(SpecNode spec, Task task) {
        String fallback = task == Task.CLASSIFICATION ? "cross-entropy" : "mse";
        List<String> allowed = task == Task.CLASSIFICATION
                ? List.of("cross-entropy", "binary-cross-entropy")
                : List.of("mse", "mae");
        String name = spec.choice("loss", fallback, allowed);
        for (LossKind kind : LossKind.values()) {
            if (kind.specName.equals(name)) {
                return kind;
            }
        }
        throw new IllegalStateException(name);
    }

    private static OptimizerSpec parseOptimizer(SpecNode o) {
        o.allowOnly(Set.of("type", "learning-rate", "beta1", "beta2", "epsilon", "momentum", "nesterov", "rho",
                "weight-decay", "l1", "l2"));
        String type = o.choice("type", "adam", OPTIMIZERS);
        double defaultRate = switch (type) {
            case "sgd" -> 0.01;
            case "adagrad" -> 0.01;
            case "adadelta" -> 1.0;
            default -> 0.001;
        };
        boolean auto = o.has("learning-rate") && o.raw().get("learning-rate").isTextual();
        if (auto && !o.raw().get("learning-rate").asText().equals("auto")) {
            throw new InvalidSpecException(o.path("learning-rate"), "must be a number in (0, 10] or auto (the service"
                    + " tunes it on the stream), got '" + o.raw().get("learning-rate").asText() + "'");
        }
        if (auto && type.equals("adadelta")) {
            throw new InvalidSpecException(o.path("learning-rate"), "auto tunes a learning rate, and adadelta has none;"
                    + " name another optimizer (adam, sgd, ...) or leave learning-rate out");
        }
        double momentum = o.number("momentum", type.equals("sgd") ? 0.0 : Double.NaN, 0.0, false, 0.999);
        boolean nesterov = o.bool("nesterov", true);
        if (type.equals("sgd") && momentum > 0 && !nesterov) {
            throw new InvalidSpecException(o.path("nesterov"),
                    "sgd with momentum uses Nesterov momentum (DL4J's Nesterovs updater); set nesterov: true or momentum: 0");
        }
        OptimizerSpec spec = new OptimizerSpec(type,
                auto ? defaultRate : o.number("learning-rate", defaultRate, 0.0, true, 10.0),
                o.number("beta1", Double.NaN, 0.0, false, 0.9999),
                o.number("beta2", Double.NaN, 0.0, false, 0.99999),
                o.number("epsilon", Double.NaN, 0.0, true, 1.0),
                momentum, nesterov,
                o.number("rho", Double.NaN, 0.0, false, 0.9999),
                o.number("weight-decay", type.equals("adamw") ? 0.01 : 0.0, 0.0, false, 1.0),
                o.number("l1", 0.0, 0.0, false, 1.0),
                o.number("l2", 0.0, 0.0, false, 1.0), auto);
        if (spec.l2() > 0 && spec.weightDecay() > 0) {
            // DL4J keeps only one of the two: its weight decay replaces an L2 penalty
            throw new InvalidSpecException(o.path("l2"), "cannot be combined with weight-decay (" + spec.weightDecay()
                    + (o.has("weight-decay") ? "" : ", adamw's default") + "); use one of the two");
        }
        return spec;
    }

    private static ScheduleSpec parseSchedule(SpecNode s, double learningRate) {
        s.allowOnly(Set.of("type", "factor", "every", "gamma", "warmup-steps", "total-steps", "min-learning-rate"));
        String type = s.choice("type", "constant", SCHEDULES);
        ScheduleSpec schedule = new ScheduleSpec(type,
                s.number("factor", 0.5, 0.0, true, 1.0),
                s.intIn("every", type.equals("step") ? null : 1000, 1, Integer.MAX_VALUE),
                s.number("gamma", type.equals("exponential") ? Double.NaN : 1.0, 0.0, true, 1.0),
                s.intIn("warmup-steps", 0, 0, Integer.MAX_VALUE),
                s.intIn("total-steps", type.equals("warmup-cosine") ? null : 1, 1, Integer.MAX_VALUE),
                s.number("min-learning-rate", 0.0, 0.0, false, 10.0));
        if (Double.isNaN(schedule.gamma())) {
            throw new InvalidSpecException(s.path("gamma"), "is required for an exponential schedule (a number in (0, 1])");
        }
        if (type.equals("warmup-cosine") && schedule.minLearningRate() > learningRate) {
            throw new InvalidSpecException(s.path("min-learning-rate"), "must not exceed the learning rate ("
                    + learningRate + "), got " + schedule.minLearningRate());
        }
        if (type.equals("warmup-cosine") && schedule.warmupSteps() >= schedule.totalSteps()) {
            throw new InvalidSpecException(s.path("warmup-steps"), "must be less than total-steps ("
                    + schedule.totalSteps() + "), got " + schedule.warmupSteps());
        }
        return schedule;
    }

    private static ClippingSpec parseClipping(SpecNode c) {
        c.allowOnly(Set.of("type", "threshold"));
        String type = c.choice("type", c.raw().isEmpty() ? "none" : "global-norm", CLIPPING);
        if (type.equals("none")) {
            return ClippingSpec.none();
        }
        return new ClippingSpec(type, c.number("threshold", 5.0, 0.0, true, 1e6));
    }

    private static AugmentationSpec parseAugmentation(SpecNode a) {
        a.allowOnly(Set.of("gaussian-noise", "mixup"));
        return new AugmentationSpec(a.nonNegative("gaussian-noise", 0.0), a.nonNegative("mixup", 0.0));
    }

    /** Keys of a layer entry, for the layer parser. */
    static final Map<String, Set<String>> LAYER_FIELDS = Map.of(
            "dense", Set.of("units", "activation", "init", "norm"),
            "batch-norm", Set.of("decay", "eps"),
            "layer-norm", Set.of(),
            "dropout", Set.of("rate"),
            "residual", Set.of("units", "activation", "depth", "norm", "init"));
}
