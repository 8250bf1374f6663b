package dev.streamtrain.engine;

import org.deeplearning4j.nn.conf.GradientNormalization;
import org.deeplearning4j.nn.conf.dropout.Dropout;
import org.deeplearning4j.nn.conf.dropout.IDropout;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.activations.impl.ActivationSigmoid;
import org.nd4j.linalg.activations.impl.ActivationSoftmax;
import org.nd4j.linalg.learning.config.AMSGrad;
import org.nd4j.linalg.learning.config.AdaDelta;
import org.nd4j.linalg.learning.config.AdaGrad;
import org.nd4j.linalg.learning.config.AdaMax;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.Nadam;
import org.nd4j.linalg.learning.config.Nesterovs;
import org.nd4j.linalg.learning.config.RmsProp;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.impl.LossBinaryXENT;
import org.nd4j.linalg.lossfunctions.impl.LossMAE;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;
import org.nd4j.linalg.lossfunctions.impl.LossMSE;

import java.util.List;

import dev.streamtrain.model.spec.ModelSpec;
import dev.streamtrain.model.spec.NetworkBuilder;

/**
 * What a {@link LeanNetwork} computes, read from the DL4J configuration {@link NetworkBuilder} makes of the spec:
 * the layers' activations, initialisers and updater are then DL4J's by construction, not a second mapping of the
 * spec's names that could drift from the first. Refuses, with the reason, every spec the engine does not cover.
 */
record EnginePlan(long seed, List<DenseShape> layers, OutputKind output, IUpdater updater, Clipping clipping) {

    /**
     * The updaters every optimizer of the spec maps to (ScheduledAdaGrad is an AdaGrad), each checked against DL4J.
     * All of them are elementwise, so one instance over the whole flat gradient computes what DL4J's per-block
     * instances compute over their parts, as long as every layer has the same configuration (checked below).
     */
    private static final List<Class<? extends IUpdater>> UPDATERS = List.of(Sgd.class, Nesterovs.class, Adam.class,
            Nadam.class, AMSGrad.class, AdaMax.class, RmsProp.class, AdaGrad.class, AdaDelta.class);

    /**
     * The plan of every pass without batch norm, which it refuses by name: what the plain-Java {@link DenseForward}
     * computes (batch norm is not in it yet).
     */
    static EnginePlan of(ModelSpec spec) {
        return of(spec, false);
    }

    /** {@code batchNorm}: whether batch-norm layers are planned (the training engine) or refused. */
    static EnginePlan of(ModelSpec spec, boolean batchNorm) {
        LayerWalk walk = new LayerWalk(spec, NetworkBuilder.configuration(spec), batchNorm);
        List<DenseShape> layers = walk.layers();
        List<BaseLayer> configurations = walk.configurations();
        BaseLayer output = configurations.get(configurations.size() - 1);
        for (BaseLayer layer : configurations) {
            if (!layer.getIUpdater().equals(output.getIUpdater())
                    || layer.getGradientNormalization() != output.getGradientNormalization()
                    || layer.getGradientNormalizationThreshold() != output.getGradientNormalizationThreshold()) {
                throw new UnsupportedSpecException(spec.name(), "layers with different optimizers or clipping");
            }
        }
        return new EnginePlan(spec.seed(), List.copyOf(layers), outputKind(spec, (OutputLayer) output),
                updater(spec, output), clipping(spec, output));
    }

    /** DL4J's per-layer normalisation as the spec's layer-norm and value clipping set it; global-norm from the spec. */
    private static Clipping clipping(ModelSpec spec, BaseLayer output) {
        GradientNormalization normalization = output.getGradientNormalization();
        double threshold = output.getGradientNormalizationThreshold();
        if (spec.clipping().type().equals("global-norm")) {
            return new Clipping(Clipping.Mode.GLOBAL_NORM, spec.clipping().threshold());
        }
        if (normalization == null || normalization == GradientNormalization.None) {
            return Clipping.NONE;
        }
        return switch (normalization) {
            case ClipL2PerLayer -> new Clipping(Clipping.Mode.LAYER_NORM, threshold);
            case ClipElementWiseAbsoluteValue -> new Clipping(Clipping.Mode.VALUE, threshold);
            default -> throw new UnsupportedSpecException(spec.name(), "gradient normalisation " + normalization);
        };
    }

    static BaseLayer layerOf(ModelSpec spec, GraphVertex vertex, String name) {
        if (!(vertex instanceof LayerVertex v) || !(v.getLayerConf().getLayer() instanceof BaseLayer layer)
                || !(layer instanceof DenseLayer || layer instanceof OutputLayer)) {
            throw new UnsupportedSpecException(spec.name(), "only dense layers (with or without layer norm) and "
                    + "dropout are supported, got " + name + " (" + describe(vertex) + ")");
        }
        if (layer instanceof DenseLayer d && !d.hasBias()) {
            throw new UnsupportedSpecException(spec.name(), "a dense layer without bias: " + name);
        }
        if (layer.getIDropout() != null) {
            throw new UnsupportedSpecException(spec.name(), "dropout on " + name);
        }
        if (layer.getBiasInit() != 0.0) {
            throw new UnsupportedSpecException(spec.name(), "a bias initialised to " + layer.getBiasInit());
        }
        return layer;
    }

    /** DL4J's plain inverted dropout with a fixed retain probability; its other kinds and schedules are refused. */
    static InputDropout dropout(ModelSpec spec, String name, IDropout dropout) {
        if (dropout == null) {
            return null;
        }
        if (dropout.getClass() != Dropout.class || ((Dropout) dropout).getPSchedule() != null) {
            throw new UnsupportedSpecException(spec.name(), "dropout " + dropout + " at " + name);
        }
        return new InputDropout(((Dropout) dropout).getP());
    }

    static String describe(GraphVertex vertex) {
        return vertex instanceof LayerVertex v ? v.getLayerConf().getLayer().getClass().getSimpleName()
                : vertex.getClass().getSimpleName();
    }

    private static OutputKind outputKind(ModelSpec spec, OutputLayer output) {
        if (output.getLossFn() instanceof LossMCXENT l && l.getWeights() == null
                && output.getActivationFn() instanceof ActivationSoftmax) {
            return OutputKind.SOFTMAX_CROSS_ENTROPY;
        }
        if (output.getLossFn() instanceof LossMAE l && l.getWeights() == null
                && output.getActivationFn() instanceof ActivationIdentity) {
            return OutputKind.MEAN_ABSOLUTE_ERROR;
        }
        if (output.getLossFn() instanceof LossMSE l && l.getWeights() == null
                && output.getActivationFn() instanceof ActivationIdentity) {
            return OutputKind.MEAN_SQUARED_ERROR;
        }
        if (output.getLossFn() instanceof LossBinaryXENT l && l.getWeights() == null
                && l.getClipEps() == OutputLoss.BINARY_CLIP && output.getActivationFn() instanceof ActivationSigmoid) {
            return OutputKind.SIGMOID_BINARY_CROSS_ENTROPY;
        }
        throw new UnsupportedSpecException(spec.name(), "loss " + spec.loss().specName + " with "
                + output.getLossFn() + " and " + output.getActivationFn());
    }

    private static IUpdater updater(ModelSpec spec, BaseLayer output) {
        IUpdater updater = output.getIUpdater();
        if (UPDATERS.stream().noneMatch(type -> type.isInstance(updater)) || output.getBiasUpdater() != null) {
            throw new UnsupportedSpecException(spec.name(), "optimizer " + spec.optimizer().type() + " ("
                    + updater.getClass().getSimpleName() + ")");
        }
        // the configuration's own clone (ScheduledAdaGrad's keeps the schedule that AdaGrad's drops)
        return updater.clone();
    }

    /**
     * The runs of parameters the optimizer trains, [from, to) in the flat buffer: everything but the batch-norm layers'
     * running statistics. They are DL4J's updater blocks: every trained parameter has the same updater configuration
     * (checked above), so DL4J starts a new block exactly where a NoOp run (the statistics) interrupts them, and its
     * state is each block's state in turn ([m, v] of the first block, then of the second, ... for Adam).
     */
    List<long[]> trainedRuns() {
        List<long[]> runs = new java.util.ArrayList<>();
        long from = 0;
        for (DenseShape layer : layers) {
            if (layer.batchNorm() != null) {
                runs.add(new long[] {from, layer.statisticsOffset()});
                from = layer.end();
            }
        }
        runs.add(new long[] {from, parameterCount()});
        runs.removeIf(run -> run[1] <= run[0]);
        return List.copyOf(runs);
    }

    /** The updater state of all blocks together, DL4J's {@code getStateViewArray()} length. */
    long updaterStateSize() {
        return trainedRuns().stream().mapToLong(run -> updater.stateSize(run[1] - run[0])).sum();
    }

    long parameterCount() {
        return layers.get(layers.size() - 1).end();
    }

    int inputs() {
        return layers.get(0).inputs();
    }

    int outputs() {
        return layers.get(layers.size() - 1).outputs();
    }
}
