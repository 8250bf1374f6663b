package dev.streamtrain.engine;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.transforms.pairwise.arithmetic.MulOp;
import org.nd4j.linalg.api.ops.random.impl.DropOutInverted;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Inverted dropout of a layer's input in training (the spec's {@code dropout} entry, DL4J's {@code DropoutLayer}
 * with {@code Dropout(retain)}), computed as DL4J's {@code Dropout.applyDropout} does: a mask of ones the shape and
 * order of the input, {@code DropOutInverted} over it (each element kept as {@code 1/retain} with probability
 * {@code retain}, else 0), drawn from ND4J's generator of the thread, then the input times the mask. The same op on
 * a mask of the same shape and order at the same point of the step draws the same numbers from the same generator
 * state, so the masks are DL4J's to the bit. At inference dropout is the identity.
 */
record InputDropout(double retain) {

    /** {@code dropped = input ∘ mask}, with a fresh mask drawn into {@code mask}. */
    void apply(INDArray input, INDArray mask, INDArray dropped) {
        mask.assign(1.0);
        Nd4j.getExecutioner().exec(new DropOutInverted(mask, mask, retain));
        Nd4j.getExecutioner().exec(new MulOp(input, mask, dropped));
    }

    /** dLoss/dInput from dLoss/dDropped, in place: the mask again (0 or {@code 1/retain}). */
    void backprop(INDArray error, INDArray mask) {
        Nd4j.getExecutioner().exec(new MulOp(error, mask, error));
    }
}
