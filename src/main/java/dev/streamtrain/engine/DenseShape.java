package dev.streamtrain.engine;

import org.deeplearning4j.nn.weights.IWeightInit;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.learning.regularization.Regularization;

import java.util.List;

/**
 * One dense layer of a {@link LeanNetwork}: its width in and out, activation and initialiser, the regularisation of
 * its weights and of its bias (DL4J's, from the layer's configuration), whether it normalises its pre-activations
 * (layer norm, with a gain per output initialised to {@code gainInit}), and where its parameters sit in the flat
 * buffer. The layout is DL4J's (weights [inputs, outputs] in column-major order, then the bias, then the gain of a
 * layer-normalised layer: DL4J's {@code DefaultParamInitializer}), so that the flat buffer is interchangeable with a
 * computation graph's {@code params()}. DL4J counts the gain as a weight: the weights' regularisation applies to it.
 * {@code dropout}: inverted dropout of the layer's input in training (a {@code dropout} entry before it), or null.
 * {@code residualFrom}: for the last dense layer of a residual block, the layer whose input (the block's input) is
 * added to this one's pre-activations before {@code activation}, the block's (DL4J: the layer's identity activation,
 * an {@code ElementWiseVertex} Add with the skip, then an {@code ActivationLayer}); -1 for every other layer.
 */
record DenseShape(int inputs, int outputs, IActivation activation, IWeightInit init,
                  List<Regularization> weightRegularization, List<Regularization> biasRegularization,
                  boolean layerNorm, double gainInit, InputDropout dropout, int residualFrom, long offset) {

    /** This layer closing a residual block that started at layer {@code from}, with the block's activation. */
    DenseShape closingBlock(int from, IActivation blockActivation) {
        return new DenseShape(inputs, outputs, blockActivation, init, weightRegularization, biasRegularization,
                layerNorm, gainInit, dropout, from, offset);
    }

    long weightCount() {
        return (long) inputs * outputs;
    }

    long biasOffset() {
        return offset + weightCount();
    }

    /** Where the layer-norm gain starts (meaningful only with {@link #layerNorm}). */
    long gainOffset() {
        return biasOffset() + outputs;
    }

    long end() {
        return gainOffset() + (layerNorm ? outputs : 0);
    }
}
