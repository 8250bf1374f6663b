package dev.streamtrain.model.explain;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration.GraphBuilder;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.WorkspaceMode;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.graph.MergeVertex;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.BaseOutputLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.DropoutLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.misc.ElementWiseMultiplicationLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.params.BatchNormalizationParamInitializer;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Rewrites a graph's configuration into one whose every layer computes, in training and in inference, what the
 * original computes in inference: DL4J's batch normalisation backpropagates through batch statistics even after an
 * inference-mode forward pass, and its dropout backpropagates through a mask that inference never draws. So batch
 * normalisation becomes the per-feature affine map of its running statistics, dropout the identity, and the output
 * layer a plain layer with the same weights and activation (no loss). Layer names are kept; anything else is refused.
 */
final class InferenceCopy {

    private InferenceCopy() {
    }

    static ComputationGraphConfiguration configuration(ComputationGraphConfiguration served) {
        // no workspaces: explanations run on request threads, like the snapshot they come from
        GraphBuilder graph = new NeuralNetConfiguration.Builder()
                .dataType(served.getDataType())
                .trainingWorkspaceMode(WorkspaceMode.NONE)
                .inferenceWorkspaceMode(WorkspaceMode.NONE)
                .graphBuilder()
                .addInputs(served.getNetworkInputs());
        for (String name : served.getTopologicalOrderStr()) {
            GraphVertex vertex = served.getVertices().get(name);
            if (vertex == null) {
                continue; // a network input
            }
            String[] inputs = served.getVertexInputs().get(name).toArray(String[]::new);
            if (vertex instanceof LayerVertex layerVertex) {
                graph.addLayer(name, inferenceLayer(name, layerVertex.getLayerConf().getLayer()),
                        layerVertex.getPreProcessor(), inputs);
            } else if (vertex instanceof ElementWiseVertex || vertex instanceof MergeVertex) {
                graph.addVertex(name, vertex.clone(), inputs);
            } else {
                throw new IllegalStateException("explanations cannot copy vertex '" + name + "' ("
                        + vertex.getClass().getSimpleName() + ")");
            }
        }
        return graph.setOutputs(served.getNetworkOutputs().toArray(String[]::new)).build();
    }

    private static Layer inferenceLayer(String name, Layer layer) {
        if (layer instanceof BaseOutputLayer output) {
            return new DenseLayer.Builder().nIn(output.getNIn()).nOut(output.getNOut())
                    .activation(output.getActivationFn()).hasBias(output.hasBias()).build();
        }
        if (layer instanceof BatchNormalization norm) {
            if (norm.isLockGammaBeta()) {
                throw new IllegalStateException("explanations cannot copy batch normalisation '" + name
                        + "' with locked gamma/beta");
            }
            return new ElementWiseMultiplicationLayer.Builder().nIn(norm.getNOut()).nOut(norm.getNOut())
                    .activation(Activation.IDENTITY).build();
        }
        if (layer instanceof DropoutLayer) {
            return new ActivationLayer.Builder().activation(Activation.IDENTITY).build();
        }
        if (layer instanceof DenseLayer || layer instanceof ActivationLayer) {
            Layer copy = layer.clone();
            // input dropout and weight noise are training-time only
            copy.setIDropout(null);
            if (copy instanceof BaseLayer base) {
                base.setWeightNoise(null);
            }
            return copy;
        }
        throw new IllegalStateException("explanations cannot copy layer '" + name + "' ("
                + layer.getClass().getSimpleName() + ")");
    }

    /** Copies {@code served}'s parameters into {@code copy} (built by {@link #configuration}), layer by layer, by name. */
    static void copyParameters(ComputationGraph served, ComputationGraph copy) {
        for (org.deeplearning4j.nn.api.Layer layer : served.getLayers()) {
            String name = layer.conf().getLayer().getLayerName();
            org.deeplearning4j.nn.api.Layer target = copy.getLayer(name);
            if (layer.conf().getLayer() instanceof BatchNormalization norm) {
                freezeBatchNorm(layer, norm, target);
            } else {
                layer.paramTable().forEach((key, value) -> target.getParam(key).assign(value));
            }
        }
    }

    /** y = gamma (x - mean) / sqrt(var + eps) + beta with the running mean and variance: y = a x + b per feature. */
    private static void freezeBatchNorm(org.deeplearning4j.nn.api.Layer layer, BatchNormalization norm,
                                        org.deeplearning4j.nn.api.Layer target) {
        double[] mean = values(layer, BatchNormalizationParamInitializer.GLOBAL_MEAN);
        double[] variance = norm.isUseLogStd() ? values(layer, BatchNormalizationParamInitializer.GLOBAL_LOG_STD)
                : values(layer, BatchNormalizationParamInitializer.GLOBAL_VAR);
        double[] gamma = values(layer, BatchNormalizationParamInitializer.GAMMA);
        double[] beta = values(layer, BatchNormalizationParamInitializer.BETA);
        double[] a = new double[mean.length];
        double[] b = new double[mean.length];
        for (int j = 0; j < a.length; j++) {
            // DL4J keeps log10 of the standard deviation by default: var = (10^s)^2 = 100^s
            double var = norm.isUseLogStd() ? Math.pow(100.0, variance[j]) : variance[j];
            a[j] = gamma[j] / Math.sqrt(var + norm.getEps());
            b[j] = beta[j] - mean[j] * a[j];
        }
        assign(target.getParam("W"), a);
        assign(target.getParam("b"), b);
    }

    private static double[] values(org.deeplearning4j.nn.api.Layer layer, String key) {
        return layer.getParam(key).castTo(DataType.DOUBLE).dup('c').data().asDouble();
    }

    private static void assign(INDArray target, double[] values) {
        target.assign(Nd4j.createFromArray(values).reshape(target.shape()).castTo(target.dataType()));
    }
}
