package dev.streamtrain.model;

import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.api.Trainable;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.optimize.api.BaseTrainingListener;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Watches DL4J's step from inside: when the end of backpropagation and of the update are reached (for the
 * step-time split), and, on steps it is armed for, the L2 norm of every layer's mean gradient before the
 * updater (and before clipping, which is registered after it) and of its update after it. The update ratio is
 * taken as ‖update‖ / ‖parameters‖ per layer, as in DL4J's own StatsListener. Batch normalisation's running
 * statistics are not gradients and are left out. Called on the training thread.
 */
final class GradientProbe extends BaseTrainingListener {

    private final Map<String, double[]> layers = new LinkedHashMap<>();
    private boolean armed;
    private long backwardDoneNanos;
    private long updateDoneNanos;

    void arm(boolean armed) {
        this.armed = armed;
        if (armed) {
            layers.values().forEach(sums -> java.util.Arrays.fill(sums, 0.0));
        }
    }

    @Override
    public void onGradientCalculation(Model model) {
        backwardDoneNanos = System.nanoTime();
        if (armed) {
            double batch = model.conf().isMiniBatch() ? Math.max(1, model.batchSize()) : 1;
            accumulate((ComputationGraph) model, 0, 1.0 / batch);
        }
    }

    @Override
    public void iterationDone(Model model, int iteration, int epoch) {
        updateDoneNanos = System.nanoTime();
        if (armed) {
            // the gradient arrays now hold the updates the updater computed (and the step subtracted)
            accumulate((ComputationGraph) model, 1, 1.0);
            ComputationGraph graph = (ComputationGraph) model;
            for (Map.Entry<String, double[]> layer : layers.entrySet()) {
                double sumOfSquares = 0;
                for (Map.Entry<String, INDArray> param : graph.getLayer(layer.getKey()).paramTable().entrySet()) {
                    if (graph.getLayer(layer.getKey()).updaterDivideByMinibatch(param.getKey())) {
                        double norm = param.getValue().norm2Number().doubleValue();
                        sumOfSquares += norm * norm;
                    }
                }
                layer.getValue()[2] = sumOfSquares;
            }
        }
    }

    private void accumulate(ComputationGraph graph, int slot, double factor) {
        for (Map.Entry<String, INDArray> entry : graph.gradient().gradientForVariable().entrySet()) {
            String key = entry.getKey();
            int separator = key.lastIndexOf('_');
            String layer = key.substring(0, separator);
            Trainable trainable = graph.getLayer(layer);
            if (trainable.updaterDivideByMinibatch(key.substring(separator + 1))) {
                double norm = entry.getValue().norm2Number().doubleValue() * factor;
                layers.computeIfAbsent(layer, l -> new double[3])[slot] += norm * norm;
            }
        }
    }

    /** Per layer, in graph order: {gradient norm, update ratio} of the armed step just taken. */
    Map<String, double[]> norms() {
        Map<String, double[]> result = new LinkedHashMap<>();
        layers.forEach((layer, sums) -> result.put(layer, new double[] {Math.sqrt(sums[0]),
                sums[2] == 0 ? Double.NaN : Math.sqrt(sums[1]) / Math.sqrt(sums[2])}));
        return result;
    }

    long backwardDoneNanos() {
        return backwardDoneNanos;
    }

    long updateDoneNanos() {
        return updateDoneNanos;
    }
}
