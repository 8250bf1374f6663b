package dev.streamtrain.model;

import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.optimize.api.BaseTrainingListener;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Clips the gradient by its global L2 norm across all layers (Pascanu et al., 2013): when the norm exceeds
 * the threshold every gradient is scaled by threshold/norm. DL4J's own gradient normalisation works per
 * layer; this hooks its listener call that runs after backpropagation and before the updater. Called on the
 * training thread.
 */
final class GlobalNormClipping extends BaseTrainingListener {

    private final double threshold;
    private volatile double lastNorm;
    private long clippedSteps;

    GlobalNormClipping(double threshold) {
        this.threshold = threshold;
    }

    @Override
    public void onGradientCalculation(Model model) {
        INDArray gradient = model.gradient().gradient();
        double norm = gradient.norm2Number().doubleValue();
        lastNorm = norm;
        if (norm > threshold) {
            gradient.muli(threshold / norm);
            clippedSteps++;
        }
    }

    double lastNorm() {
        return lastNorm;
    }

    long clippedSteps() {
        return clippedSteps;
    }
}
