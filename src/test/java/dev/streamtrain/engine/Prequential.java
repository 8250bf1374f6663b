package dev.streamtrain.engine;

/**
 * Test-then-train accounting, the same for every engine of {@code PyTorchPeerBenchmarkTest}: the class
 * probabilities a batch got before it was trained on, scored against its one-hot labels (accuracy, mean
 * cross-entropy).
 */
final class Prequential {

    private long rows;
    private long correct;
    private double loss;

    void score(float[] probabilities, float[] oneHot, int count) {
        int classes = probabilities.length / count;
        for (int r = 0; r < count; r++) {
            int predicted = 0;
            int label = 0;
            for (int c = 1; c < classes; c++) {
                if (probabilities[r * classes + c] > probabilities[r * classes + predicted]) {
                    predicted = c;
                }
                if (oneHot[r * classes + c] > oneHot[r * classes + label]) {
                    label = c;
                }
            }
            correct += predicted == label ? 1 : 0;
            loss -= Math.log(Math.max(probabilities[r * classes + label], 1e-10));
        }
        rows += count;
    }

    double accuracy() {
        return (double) correct / rows;
    }

    double loss() {
        return loss / rows;
    }
}
