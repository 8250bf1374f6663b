package dev.streamtrain.engine;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.transforms.pairwise.arithmetic.MulOp;
import org.nd4j.linalg.api.ops.random.impl.DropOutInverted;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayList;
import java.util.List;

/**
 * Inverted dropout of a layer's input in training: the spec's {@code dropout} entries right before the layer (DL4J's
 * {@code DropoutLayer}s with {@code Dropout(retain)}), one retain probability per entry in the order of the forward
 * pass. Each is computed as DL4J's {@code Dropout.applyDropout} does: a mask of ones the shape and order of its
 * input, {@code DropOutInverted} over it (each element kept as {@code 1/retain} with probability {@code retain},
 * else 0), drawn from ND4J's generator of the thread, then its input times the mask. Entries in a row are DL4J's
 * layers one after the other: the first mask is drawn and applied, then the second over the first's output, each
 * mask its own array (so the product is rounded after each entry, as there, never one combined mask). The same op
 * on masks of the same shape and order at the same point of the step draws the same numbers from the same generator
 * state, so the masks are DL4J's to the bit. At inference dropout is the identity.
 */
record InputDropout(List<Double> retains) {

    /** One dropout entry. */
    InputDropout(double retain) {
        this(List.of(retain));
    }

    /** These entries followed by {@code next}'s (a dropout entry right after another). */
    InputDropout then(InputDropout next) {
        List<Double> all = new ArrayList<>(retains);
        all.addAll(next.retains);
        return new InputDropout(List.copyOf(all));
    }

    /** The number of entries: of masks a step draws. */
    int count() {
        return retains.size();
    }

    /** {@code dropped = input ∘ mask₁ ∘ mask₂ ...}, each product rounded in turn, with fresh masks drawn in order. */
    void apply(INDArray input, INDArray[] masks, INDArray dropped) {
        INDArray in = input;
        for (int k = 0; k < retains.size(); k++) {
            masks[k].assign(1.0);
            Nd4j.getExecutioner().exec(new DropOutInverted(masks[k], masks[k], retains.get(k)));
            Nd4j.getExecutioner().exec(new MulOp(in, masks[k], dropped));
            in = dropped;
        }
    }

    /** dLoss/dInput from dLoss/dDropped, in place: back through the entries, the last one's mask first. */
    void backprop(INDArray error, INDArray[] masks) {
        for (int k = retains.size() - 1; k >= 0; k--) {
            Nd4j.getExecutioner().exec(new MulOp(error, masks[k], error));
        }
    }
}
