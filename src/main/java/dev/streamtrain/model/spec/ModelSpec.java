package dev.streamtrain.model.spec;

import java.util.List;

/**
 * The declarative description of a model: its data shape, layers, loss, optimizer and training settings.
 * Built by {@link ModelSpecParser} from the YAML/JSON spec file; always valid once constructed.
 */
public record ModelSpec(
        String name,
        int inputs,
        Task task,
        int outputs,
        boolean normalize,
        long seed,
        List<LayerSpec> layers,
        LossKind loss,
        OptimizerSpec optimizer,
        ScheduleSpec schedule,
        ClippingSpec clipping,
        int batchSize,
        AugmentationSpec augmentation,
        String source) {

    /** What the network predicts. */
    public enum Task { CLASSIFICATION, REGRESSION }

    /** Width of a label row once decoded: one-hot classes or regression targets. */
    public int labelWidth() {
        return outputs;
    }

    /** Whether any layer normalises over the mini-batch (a batch-norm entry, or a residual with norm: batch). */
    public boolean usesBatchNorm() {
        return layers.stream().anyMatch(l -> l instanceof BatchNorm
                || (l instanceof Residual r && r.norm().equals("batch")));
    }

    public boolean isClassification() {
        return task == Task.CLASSIFICATION;
    }

    /** Loss functions the spec can name. */
    public enum LossKind {
        CROSS_ENTROPY("cross-entropy"),
        BINARY_CROSS_ENTROPY("binary-cross-entropy"),
        MSE("mse"),
        MAE("mae");

        public final String specName;

        LossKind(String specName) {
            this.specName = specName;
        }
    }

    /** One entry of the spec's {@code layers} list. */
    public sealed interface LayerSpec
            permits Dense, BatchNorm, LayerNorm, Dropout, Residual {
    }

    /** A fully connected layer; {@code layerNorm} normalises its pre-activations. */
    public record Dense(int units, String activation, String init, boolean layerNorm) implements LayerSpec {
    }

    /** Batch normalisation of the previous layer's output. */
    public record BatchNorm(double decay, double eps) implements LayerSpec {
    }

    /** Layer normalisation of the previous dense layer (applied to its pre-activations). */
    public record LayerNorm() implements LayerSpec {
    }

    /** Inverted dropout with the given drop probability (training only). */
    public record Dropout(double rate) implements LayerSpec {
    }

    /** x + F(x), where F is {@code depth} dense layers of {@code units}; norm is none, batch or layer. */
    public record Residual(int units, String activation, int depth, String norm, String init) implements LayerSpec {
    }

    /**
     * The optimizer and its parameters; NaN means "the optimizer's own default". {@code autoLearningRate}: the spec
     * said {@code learning-rate: auto}, so the service tunes the rate on the stream ({@code dev.streamtrain.tuning});
     * {@code learningRate} is then the optimizer's default, the rate the tuner's multiples are taken of.
     */
    public record OptimizerSpec(
            String type,
            double learningRate,
            double beta1,
            double beta2,
            double epsilon,
            double momentum,
            boolean nesterov,
            double rho,
            double weightDecay,
            double l1,
            double l2,
            boolean autoLearningRate) {

        /** An optimizer at a fixed (named or default) learning rate. */
        public OptimizerSpec(String type, double learningRate, double beta1, double beta2, double epsilon,
                             double momentum, boolean nesterov, double rho, double weightDecay, double l1, double l2) {
            this(type, learningRate, beta1, beta2, epsilon, momentum, nesterov, rho, weightDecay, l1, l2, false);
        }
    }

    /** The learning-rate schedule, in optimizer steps. */
    public record ScheduleSpec(
            String type,
            double factor,
            int every,
            double gamma,
            int warmupSteps,
            int totalSteps,
            double minLearningRate) {

        public static ScheduleSpec constant() {
            return new ScheduleSpec("constant", 1.0, 0, 1.0, 0, 0, 0.0);
        }
    }

    /** Gradient clipping: global-norm, layer-norm or value; type none disables it. */
    public record ClippingSpec(String type, double threshold) {

        public static ClippingSpec none() {
            return new ClippingSpec("none", 0.0);
        }

        public boolean enabled() {
            return !"none".equals(type);
        }
    }

    /**
     * Data augmentation of the training examples (see {@link dev.streamtrain.model.Augmenter}): zero-mean Gaussian noise of standard
     * deviation {@code gaussianNoise} added to every feature, and mixup (Zhang, Cisse, Dauphin, Lopez-Paz,
     * "mixup: Beyond Empirical Risk Minimization", ICLR 2018) with mixing weights drawn from
     * Beta({@code mixup}, {@code mixup}). Zero turns either off.
     */
    public record AugmentationSpec(double gaussianNoise, double mixup) {

        public AugmentationSpec {
            if (!(gaussianNoise >= 0) || !(mixup >= 0) || Double.isInfinite(gaussianNoise) || Double.isInfinite(mixup)) {
                throw new IllegalArgumentException("augmentation parameters must be finite and >= 0, got gaussian-noise "
                        + gaussianNoise + ", mixup " + mixup);
            }
        }

        public static AugmentationSpec none() {
            return new AugmentationSpec(0.0, 0.0);
        }

        public boolean enabled() {
            return gaussianNoise > 0 || mixup > 0;
        }
    }
}
