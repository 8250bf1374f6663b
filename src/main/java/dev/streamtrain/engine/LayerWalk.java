package dev.streamtrain.engine;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.DropoutLayer;
import org.deeplearning4j.nn.conf.layers.FeedForwardLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.nd4j.linalg.activations.impl.ActivationIdentity;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import dev.streamtrain.model.spec.ModelSpec;
import dev.streamtrain.model.spec.NetworkBuilder;

/**
 * The dense layers of the DL4J graph {@link NetworkBuilder} makes of a spec, in the order of the forward pass (the
 * order it adds the vertices in), with what sits between them folded into them: dropout entries (one, or several in
 * a row) into the layer after them, a residual block's Add and activation into the block's last dense layer. Batch normalisation (when asked
 * for) is a layer of its own, as in the graph: it has parameters, health signals and a place in the updater's blocks;
 * a block whose last dense layer is followed by batch norm ({@code norm: batch}) closes on the batch-norm layer.
 * Anything else is refused by name.
 */
final class LayerWalk {

    private final ModelSpec spec;
    private final ComputationGraphConfiguration conf;
    private final boolean batchNormAllowed;
    private final List<DenseShape> layers = new ArrayList<>();
    private final List<BaseLayer> configurations = new ArrayList<>();
    /** Per dense layer: the vertex whose output it reads (a dropout before it: the dropout's). */
    private final List<String> reads = new ArrayList<>();
    private String previous = NetworkBuilder.INPUT;
    private InputDropout dropout;
    /** After a residual Add: the layer whose input is its skip, until the block's activation layer closes it. */
    private int openBlockFrom = -1;
    private long offset;

    /** {@code batchNorm}: whether batch-norm layers are taken (else refused by name, like any other vertex). */
    LayerWalk(ModelSpec spec, ComputationGraphConfiguration conf, boolean batchNorm) {
        this.spec = spec;
        this.conf = conf;
        this.batchNormAllowed = batchNorm;
        for (Map.Entry<String, GraphVertex> vertex : conf.getVertices().entrySet()) {
            visit(vertex.getKey(), vertex.getValue());
            previous = vertex.getKey();
        }
        if (!previous.equals(NetworkBuilder.OUTPUT)) {
            throw new UnsupportedSpecException(spec.name(), "a graph that does not end in its output layer");
        }
    }

    List<DenseShape> layers() {
        return List.copyOf(layers);
    }

    List<BaseLayer> configurations() {
        return List.copyOf(configurations);
    }

    private void visit(String name, GraphVertex vertex) {
        List<String> inputs = conf.getVertexInputs().get(name);
        if (vertex instanceof ElementWiseVertex add && add.getOp() == ElementWiseVertex.Op.Add && dropout == null
                && inputs.size() == 2 && inputs.get(1).equals(previous) && !layers.isEmpty()) {
            residualAdd(name, inputs.get(0));
            return;
        }
        if (!inputs.equals(List.of(previous))) {
            throw new UnsupportedSpecException(spec.name(), name + " (" + EnginePlan.describe(vertex) + ") reading "
                    + inputs);
        }
        Layer layer = vertex instanceof LayerVertex v ? v.getLayerConf().getLayer() : null;
        if (openBlockFrom >= 0) {
            closeBlock(name, layer);
        } else if (layer instanceof DropoutLayer d) {
            // entries in a row all drop the input of the layer after them, one after the other
            InputDropout entry = EnginePlan.dropout(spec, name, d.getIDropout());
            if (entry != null) {
                dropout = dropout == null ? entry : dropout.then(entry);
            }
        } else if (layer instanceof BatchNormalization batchNorm && batchNormAllowed) {
            batchNorm(name, batchNorm);
        } else {
            dense(name, EnginePlan.layerOf(spec, vertex, name));
        }
    }

    private void dense(String name, BaseLayer layer) {
        boolean layerNorm = layer instanceof DenseLayer d && d.hasLayerNorm();
        FeedForwardLayer feedForward = (FeedForwardLayer) layer;
        DenseShape shape = new DenseShape((int) feedForward.getNIn(), (int) feedForward.getNOut(),
                layer.getActivationFn(), layer.getWeightInitFn(), List.copyOf(layer.getRegularization()),
                List.copyOf(layer.getRegularizationBias()), layerNorm, layer.getGainInit(), dropout, -1, offset);
        layers.add(shape);
        configurations.add(layer);
        reads.add(previous);
        offset = shape.end();
        dropout = null;
    }

    /**
     * DL4J's batch norm of feed-forward activations: per-unit gamma and beta learned, the running statistics moved by
     * DL4J's own rule. Locked gamma/beta (fixed values, no parameters for them), dropout on the layer itself and other
     * updaters for gamma/beta than the network's are refused ({@code NetworkBuilder} sets none of them).
     */
    private void batchNorm(String name, BatchNormalization layer) {
        if (layer.isLockGammaBeta() || layer.getIDropout() != null || layer.getNOut() != layer.getNIn()) {
            throw new UnsupportedSpecException(spec.name(), "batch norm " + name + " with locked gamma/beta, dropout "
                    + "or nIn != nOut");
        }
        int units = (int) layer.getNOut();
        DenseShape shape = new DenseShape(units, units, new ActivationIdentity(), null, List.of(), List.of(), false,
                1.0, dropout, -1, offset, new BatchNormSettings(layer.getDecay(), layer.getEps(), layer.isUseLogStd(),
                layer.getGamma(), layer.getBeta()));
        layers.add(shape);
        configurations.add(layer);
        reads.add(previous);
        offset = shape.end();
        dropout = null;
    }

    /** x + F(x): the skip must be the input of an earlier dense layer, F's last layer linear (identity). */
    private void residualAdd(String name, String skip) {
        int from = reads.lastIndexOf(skip);
        DenseShape last = layers.get(layers.size() - 1);
        if (from < 0 || !(last.activation() instanceof ActivationIdentity) || last.residualFrom() >= 0) {
            throw new UnsupportedSpecException(spec.name(), "the residual Add " + name + " of " + skip + " and "
                    + previous);
        }
        openBlockFrom = from;
    }

    private void closeBlock(String name, Layer layer) {
        if (!(layer instanceof ActivationLayer activation)) {
            throw new UnsupportedSpecException(spec.name(), "a residual Add followed by " + name + ", not by its "
                    + "activation layer");
        }
        int last = layers.size() - 1;
        layers.set(last, layers.get(last).closingBlock(openBlockFrom, activation.getActivationFn()));
        openBlockFrom = -1;
    }
}
