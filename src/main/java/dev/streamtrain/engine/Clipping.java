package dev.streamtrain.engine;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The spec's gradient clipping, applied to the mean gradient before the regularisation and the updater, where
 * DL4J applies it: {@code global-norm} scales the whole gradient to the threshold when its L2 norm exceeds it (the
 * service's {@code GlobalNormClipping}, which DL4J has no setting for); {@code layer-norm} does the same per layer,
 * weights and bias together (DL4J's {@code ClipL2PerLayer}); {@code value} clamps every element into
 * [-threshold, threshold] (DL4J's {@code ClipElementWiseAbsoluteValue}, by the same {@code clipbyvalue} op).
 */
record Clipping(Mode mode, double threshold) {

    enum Mode { NONE, GLOBAL_NORM, LAYER_NORM, VALUE }

    static final Clipping NONE = new Clipping(Mode.NONE, 0.0);

    /** Clips {@code gradients} (the flat mean gradient) in place; {@code layers}: its per-layer views. */
    void apply(INDArray gradients, INDArray[] layers) {
        switch (mode) {
            case GLOBAL_NORM -> scaleDownToThreshold(gradients);
            case LAYER_NORM -> {
                for (INDArray layer : layers) {
                    scaleDownToThreshold(layer);
                }
            }
            case VALUE -> Nd4j.getExecutioner().exec(DynamicCustomOp.builder("clipbyvalue")
                    .addInputs(gradients).callInplace(true)
                    .addFloatingPointArguments(-threshold, threshold).build());
            case NONE -> {
            }
        }
    }

    private void scaleDownToThreshold(INDArray gradient) {
        double norm = gradient.norm2Number().doubleValue();
        if (norm > threshold) {
            gradient.muli(threshold / norm);
        }
    }
}
