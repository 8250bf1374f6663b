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
 * <p>
 * {@code batchNorm}: non-null for a batch-normalisation layer (DL4J's {@code BatchNormalization}, a layer of its own
 * in the graph, with as many outputs as inputs, no weights and the identity as activation unless it closes a residual
 * block). Its parameters are DL4J's {@code BatchNormalizationParamInitializer} layout: gamma, beta, the running mean,
 * then the running log10(standard deviation) (or variance), {@code outputs} each. Gamma and beta are trained; the
 * running statistics are not: DL4J moves them by a "gradient" that its NoOp updater leaves as it is, and nothing
 * regularises any of the four.
 */
record DenseShape(int inputs, int outputs, IActivation activation, IWeightInit init,
                  List<Regularization> weightRegularization, List<Regularization> biasRegularization,
                  boolean layerNorm, double gainInit, InputDropout dropout, int residualFrom, long offset,
                  BatchNormSettings batchNorm) {

    /** A dense layer. */
    DenseShape(int inputs, int outputs, IActivation activation, IWeightInit init,
               List<Regularization> weightRegularization, List<Regularization> biasRegularization,
               boolean layerNorm, double gainInit, InputDropout dropout, int residualFrom, long offset) {
        this(inputs, outputs, activation, init, weightRegularization, biasRegularization, layerNorm, gainInit, dropout,
                residualFrom, offset, null);
    }

    /** This layer closing a residual block that started at layer {@code from}, with the block's activation. */
    DenseShape closingBlock(int from, IActivation blockActivation) {
        return new DenseShape(inputs, outputs, blockActivation, init, weightRegularization, biasRegularization,
                layerNorm, gainInit, dropout, from, offset, batchNorm);
    }

    long weightCount() {
        return batchNorm != null ? 0 : (long) inputs * outputs;
    }

    /** Where a batch-norm layer's running statistics (mean, then log10 std or variance) start. */
    long statisticsOffset() {
        return offset + 2L * outputs;
    }

    long biasOffset() {
        return offset + weightCount();
    }

    /** Where the layer-norm gain starts (meaningful only with {@link #layerNorm}). */
    long gainOffset() {
        return biasOffset() + outputs;
    }

    long end() {
        if (batchNorm != null) {
            return offset + 4L * outputs;
        }
        return gainOffset() + (layerNorm ? outputs : 0);
    }
}
