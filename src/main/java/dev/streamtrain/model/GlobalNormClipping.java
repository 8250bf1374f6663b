package dev.streamtrain.model;

import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.api.Trainable;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.optimize.api.BaseTrainingListener;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Clips the gradient by its global L2 norm across all layers (Pascanu et al., 2013): when the norm exceeds
 * the threshold every gradient is scaled by threshold/norm. DL4J's own gradient normalisation works per
 * layer; this hooks its listener call that runs after backpropagation and before the updater. Called on the
 * training thread.
 * <p>
 * At that point DL4J's gradient is still summed over the mini-batch (its updater divides it by the batch size
 * afterwards), and it also carries batch normalisation's running-statistic updates, which are not gradients.
 * The norm is therefore taken of the mean gradient of the trainable parameters only, the gradient the
 * optimizer applies, so the threshold means the same for every batch size.
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
        ComputationGraph graph = (ComputationGraph) model;
        List<INDArray> gradients = new ArrayList<>();
        double sumOfSquares = 0;
        for (Map.Entry<String, INDArray> entry : model.gradient().gradientForVariable().entrySet()) {
            String key = entry.getKey();
            int separator = key.lastIndexOf('_');
            Trainable layer = graph.getLayer(key.substring(0, separator));
            // false for running statistics (batch-norm mean/variance): updates DL4J applies as they are
            if (layer.updaterDivideByMinibatch(key.substring(separator + 1))) {
                double norm = entry.getValue().norm2Number().doubleValue();
                sumOfSquares += norm * norm;
                gradients.add(entry.getValue());
            }
        }
        double batchSize = model.conf().isMiniBatch() ? Math.max(1, model.batchSize()) : 1;
        double norm = Math.sqrt(sumOfSquares) / batchSize;
        lastNorm = norm;
        if (norm > threshold) {
            for (INDArray gradient : gradients) {
                gradient.muli(threshold / norm);
            }
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
