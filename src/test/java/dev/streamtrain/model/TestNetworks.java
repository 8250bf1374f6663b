package dev.streamtrain.model;

import java.util.Arrays;
import java.util.Random;

import dev.streamtrain.model.spec.ModelSpec;
import dev.streamtrain.model.spec.ModelSpecParser;

/** Small specs and seeded random mini-batches for the model package's tests. */
final class TestNetworks {

    static final int INPUTS = 6;
    static final int CLASSES = 3;
    static final int BATCH = 8;

    private TestNetworks() {
    }

    /** A small classifier spec; each argument is the flow-style YAML of that key (null leaves it out). */
    static ModelSpec spec(String layers, String optimizer, String schedule, String clipping, boolean normalize) {
        StringBuilder text = new StringBuilder()
                .append("name: test-net\n")
                .append("inputs: ").append(INPUTS).append('\n')
                .append("task: classification\n")
                .append("outputs: ").append(CLASSES).append('\n')
                .append("normalize: ").append(normalize).append('\n')
                .append("seed: 11\n")
                .append("layers: ").append(layers).append('\n')
                .append("batch-size: ").append(BATCH).append('\n');
        if (optimizer != null) {
            text.append("optimizer: ").append(optimizer).append('\n');
        }
        if (schedule != null) {
            text.append("schedule: ").append(schedule).append('\n');
        }
        if (clipping != null) {
            text.append("gradient-clipping: ").append(clipping).append('\n');
        }
        return ModelSpecParser.parse(text.toString());
    }

    /** A full mini-batch of Gaussian features and random one-hot (or Gaussian regression) labels. */
    static MiniBatch randomBatch(ModelSpec spec, long seed) {
        Random random = new Random(seed);
        MiniBatch batch = new MiniBatch(spec.batchSize(), spec.inputs(), spec.labelWidth());
        float[] x = new float[spec.inputs()];
        float[] y = new float[spec.labelWidth()];
        while (!batch.isFull()) {
            for (int j = 0; j < x.length; j++) {
                x[j] = (float) (3 * random.nextGaussian() + 1);
            }
            Arrays.fill(y, 0f);
            if (spec.isClassification()) {
                y[random.nextInt(y.length)] = 1f;
            } else {
                for (int k = 0; k < y.length; k++) {
                    y[k] = (float) random.nextGaussian();
                }
            }
            batch.add(x, y, 1f, 0);
        }
        return batch;
    }

    /** L2 norm of {@code after - before}. */
    static double changeNorm(float[] before, float[] after) {
        double sum = 0;
        for (int i = 0; i < before.length; i++) {
            double d = (double) after[i] - before[i];
            sum += d * d;
        }
        return Math.sqrt(sum);
    }

    static float[] difference(float[] before, float[] after) {
        float[] d = new float[before.length];
        for (int i = 0; i < d.length; i++) {
            d[i] = after[i] - before[i];
        }
        return d;
    }
}
