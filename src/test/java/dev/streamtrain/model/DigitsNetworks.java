package dev.streamtrain.model;

import dev.streamtrain.demo.DigitsDataset;

import dev.streamtrain.model.spec.ModelSpec;
import dev.streamtrain.model.spec.ModelSpecParser;

/** Networks trained in memory on seeded shuffled passes of the bundled digits, for the model package's tests. */
final class DigitsNetworks {

    static final DigitsDataset DATA = DigitsDataset.load();

    private DigitsNetworks() {
    }

    /** The bundled digits spec with other layers (flow-style YAML list). */
    static ModelSpec spec(String layers) {
        return ModelSpecParser.parse("name: digits\ninputs: 64\ntask: classification\noutputs: 10\nnormalize: true\n"
                + "seed: 7\nlayers: " + layers + "\nloss: cross-entropy\noptimizer: {type: adam, learning-rate: 0.01}\n"
                + "batch-size: 32\n");
    }

    /** Trains {@code passes} shuffled passes (seeds 0, 1, ...) and returns the network. */
    static Network trained(ModelSpec spec, int passes) {
        Network network = new Network(spec);
        MiniBatch batch = new MiniBatch(spec.batchSize(), spec.inputs(), spec.outputs());
        for (int pass = 0; pass < passes; pass++) {
            for (int row : DATA.shuffledOrder(pass)) {
                float[] y = new float[DigitsDataset.CLASSES];
                y[DATA.labels()[row]] = 1f;
                batch.add(DATA.features()[row], y, 1f, 0);
                if (batch.isFull()) {
                    network.trainStep(batch);
                    batch.clear();
                }
            }
        }
        return network;
    }

    /** Rows {@code first}, {@code first + 1}, ... of the data, row-major. */
    static float[] rows(int first, int count) {
        float[] x = new float[count * DigitsDataset.FEATURES];
        for (int i = 0; i < count; i++) {
            System.arraycopy(DATA.features()[first + i], 0, x, i * DigitsDataset.FEATURES, DigitsDataset.FEATURES);
        }
        return x;
    }
}
