package dev.streamtrain.model;

/**
 * One layer's signals on a sampled step: the L2 norm of its mean gradient (before clipping), the ratio of its
 * update's norm to its parameters' norm (healthy around 1e-3), the fraction of its ReLU units that were zero
 * for every example of the batch (NaN when the layer has no ReLU) and the standard deviation of its outputs.
 */
public record LayerHealth(String layer, double gradientNorm, double updateRatio, double deadFraction,
                          double activationStd) {
}
