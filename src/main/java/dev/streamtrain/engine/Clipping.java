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
 * <p>
 * Batch norm's running statistics sit in the gradient too (their running-average step): the global norm leaves them
 * out, as {@code GlobalNormClipping} does, while DL4J's per-layer clipping takes each layer's whole gradient view, so
 * {@code layer-norm} measures and scales a batch-norm layer's statistics with its gamma and beta, and {@code value}
 * clamps them too.
 */
record Clipping(Mode mode, double threshold) {

    enum Mode { NONE, GLOBAL_NORM, LAYER_NORM, VALUE }

    static final Clipping NONE = new Clipping(Mode.NONE, 0.0);

    /** Clips {@code gradients} (the flat mean gradient) in place; {@code layers}: its per-layer views. */
    void apply(INDArray gradients, INDArray[] layers) {
        apply(gradients, layers, null);
    }

    /**
     * As {@link #apply(INDArray, INDArray[])}; {@code trained}: the views of the trained runs (batch norm's running
     * statistics left out) that the global norm measures and scales, or null for the whole gradient.
     */
    void apply(INDArray gradients, INDArray[] layers, INDArray[] trained) {
        switch (mode) {
            case GLOBAL_NORM -> {
                if (trained == null) {
                    scaleDownToThreshold(gradients);
                } else {
                    scaleDownToThreshold(trained);
                }
            }
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

    private void scaleDownToThreshold(INDArray[] parts) {
        double sumOfSquares = 0;
        for (INDArray part : parts) {
            double norm = part.norm2Number().doubleValue();
            sumOfSquares += norm * norm;
        }
        double norm = Math.sqrt(sumOfSquares);
        if (norm > threshold) {
            for (INDArray part : parts) {
                part.muli(threshold / norm);
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
