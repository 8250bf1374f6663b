package dev.streamtrain.model.spec;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration.GraphBuilder;
import org.deeplearning4j.nn.conf.GradientNormalization;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.WorkspaceMode;
import org.deeplearning4j.nn.conf.dropout.Dropout;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.DropoutLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.lossfunctions.ILossFunction;
import org.nd4j.linalg.lossfunctions.impl.LossBinaryXENT;
import org.nd4j.linalg.lossfunctions.impl.LossMAE;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;
import org.nd4j.linalg.lossfunctions.impl.LossMSE;

import java.util.Map;

import dev.streamtrain.model.spec.ModelSpec.BatchNorm;
import dev.streamtrain.model.spec.ModelSpec.Dense;
import dev.streamtrain.model.spec.ModelSpec.LayerNorm;
import dev.streamtrain.model.spec.ModelSpec.LayerSpec;
import dev.streamtrain.model.spec.ModelSpec.Residual;

/** Turns a {@link ModelSpec} into a DL4J computation graph: input "input", output layer "output". */
public final class NetworkBuilder {

    static final Map<String, Activation> ACTIVATIONS = Map.ofEntries(
            Map.entry("relu", Activation.RELU), Map.entry("leaky-relu", Activation.LEAKYRELU),
            Map.entry("elu", Activation.ELU), Map.entry("gelu", Activation.GELU), Map.entry("selu", Activation.SELU),
            Map.entry("tanh", Activation.TANH), Map.entry("sigmoid", Activation.SIGMOID),
            Map.entry("softplus", Activation.SOFTPLUS), Map.entry("swish", Activation.SWISH),
            Map.entry("mish", Activation.MISH), Map.entry("relu6", Activation.RELU6),
            Map.entry("identity", Activation.IDENTITY));

    static final Map<String, WeightInit> INITIALIZERS = Map.of(
            "auto", WeightInit.RELU, "he", WeightInit.RELU, "he-uniform", WeightInit.RELU_UNIFORM,
            "xavier", WeightInit.XAVIER, "xavier-uniform", WeightInit.XAVIER_UNIFORM,
            "lecun-normal", WeightInit.LECUN_NORMAL, "lecun-uniform", WeightInit.LECUN_UNIFORM);

    public static final String INPUT = "input";
    public static final String OUTPUT = "output";

    private final ModelSpec spec;
    private GraphBuilder graph;
    private String last = INPUT;
    private int width;

    private NetworkBuilder(ModelSpec spec) {
        this.spec = spec;
        this.width = spec.inputs();
    }

    public static ComputationGraphConfiguration configuration(ModelSpec spec) {
        return new NetworkBuilder(spec).build();
    }

    private ComputationGraphConfiguration build() {
        var o = spec.optimizer();
        NeuralNetConfiguration.Builder base = new NeuralNetConfiguration.Builder()
                .seed(spec.seed())
                .dataType(DataType.FLOAT)
                .trainingWorkspaceMode(WorkspaceMode.ENABLED)
                .inferenceWorkspaceMode(WorkspaceMode.ENABLED)
                .updater(UpdaterFactory.updater(o, spec.schedule()))
                .l1(o.l1())
                .l2(o.l2());
        if (o.weightDecay() > 0) {
            base.weightDecay(o.weightDecay(), true);
        }
        switch (spec.clipping().type()) {
            case "layer-norm" -> base.gradientNormalization(GradientNormalization.ClipL2PerLayer)
                    .gradientNormalizationThreshold(spec.clipping().threshold());
            case "value" -> base.gradientNormalization(GradientNormalization.ClipElementWiseAbsoluteValue)
                    .gradientNormalizationThreshold(spec.clipping().threshold());
            default -> {
                // global-norm spans all layers, which DL4J's per-layer normalisation cannot: GlobalNormClipping does it
            }
        }
        graph = base.graphBuilder().addInputs(INPUT).setInputTypes(InputType.feedForward(spec.inputs()));
        for (int i = 0; i < spec.layers().size(); i++) {
            add(i, spec.layers().get(i));
        }
        graph.addLayer(OUTPUT, new OutputLayer.Builder(lossFunction(spec))
                .nOut(spec.outputs())
                .activation(outputActivation(spec))
                .weightInit(WeightInit.XAVIER)
                .build(), last);
        return graph.setOutputs(OUTPUT).build();
    }

    private void add(int index, LayerSpec layer) {
        String name = "layer" + index;
        if (layer instanceof Dense d) {
            append(name + "_dense", dense(d.units(), d.activation(), d.init(), d.layerNorm() || followedByLayerNorm(index)));
            width = d.units();
        } else if (layer instanceof BatchNorm b) {
            append(name + "_batchnorm", new BatchNormalization.Builder().decay(b.decay()).eps(b.eps()).build());
        } else if (layer instanceof ModelSpec.Dropout d) {
            append(name + "_dropout", new DropoutLayer.Builder().dropOut(new Dropout(1.0 - d.rate())).build());
        } else if (layer instanceof Residual r) {
            residual(name, r);
        }
        // LayerNorm is folded into the preceding dense layer: DL4J normalises a dense layer's pre-activations
    }

    /** x + F(x): F is depth dense layers (the last without activation), then the block's activation. */
    private void residual(String name, Residual r) {
        if (width != r.units()) {
            append(name + "_projection", dense(r.units(), "identity", "xavier", false));
        }
        String skip = last;
        for (int j = 0; j < r.depth(); j++) {
            boolean lastInBlock = j == r.depth() - 1;
            append(name + "_dense" + j,
                    dense(r.units(), lastInBlock ? "identity" : r.activation(), r.init(), r.norm().equals("layer")));
            if (r.norm().equals("batch")) {
                append(name + "_batchnorm" + j, new BatchNormalization.Builder().build());
            }
        }
        graph.addVertex(name + "_add", new ElementWiseVertex(ElementWiseVertex.Op.Add), skip, last);
        last = name + "_add";
        append(name + "_activation", new ActivationLayer.Builder().activation(ACTIVATIONS.get(r.activation())).build());
        width = r.units();
    }

    private boolean followedByLayerNorm(int index) {
        return index + 1 < spec.layers().size() && spec.layers().get(index + 1) instanceof LayerNorm;
    }

    private static DenseLayer dense(int units, String activation, String init, boolean layerNorm) {
        Activation fn = ACTIVATIONS.get(activation);
        WeightInit weightInit = init.equals("auto") ? defaultInit(fn) : INITIALIZERS.get(init);
        return new DenseLayer.Builder().nOut(units).activation(fn).weightInit(weightInit).hasLayerNorm(layerNorm).build();
    }

    private static WeightInit defaultInit(Activation fn) {
        return switch (fn) {
            case RELU, LEAKYRELU, ELU, GELU, RELU6, SWISH, MISH -> WeightInit.RELU;
            case SELU -> WeightInit.LECUN_NORMAL;
            default -> WeightInit.XAVIER;
        };
    }

    private void append(String name, org.deeplearning4j.nn.conf.layers.Layer layer) {
        graph.addLayer(name, layer, last);
        last = name;
    }

    static ILossFunction lossFunction(ModelSpec spec) {
        return switch (spec.loss()) {
            case CROSS_ENTROPY -> new LossMCXENT();
            case BINARY_CROSS_ENTROPY -> new LossBinaryXENT();
            case MSE -> new LossMSE();
            case MAE -> new LossMAE();
        };
    }

    static Activation outputActivation(ModelSpec spec) {
        return switch (spec.loss()) {
            case CROSS_ENTROPY -> Activation.SOFTMAX;
            case BINARY_CROSS_ENTROPY -> Activation.SIGMOID;
            case MSE, MAE -> Activation.IDENTITY;
        };
    }
}
