package dev.streamtrain.engine;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.lang.reflect.Constructor;
import java.util.Random;

import dev.streamtrain.model.spec.ModelSpec;
import dev.streamtrain.model.spec.ModelSpecParser;
import dev.streamtrain.model.spec.NetworkBuilder;
import dev.streamtrain.support.TabularDataset;

/**
 * A data set turned into the batches both engines train on: digits scaled to [0, 1] with one-hot classes, or
 * wine standardised, predicting its first column (alcohol) from the other twelve.
 */
record ReferenceRun(float[][] features, float[][] labels) {

    static ReferenceRun digits() {
        TabularDataset data = TabularDataset.load("digits");
        float[][] x = new float[data.size()][];
        float[][] y = new float[data.size()][data.classes()];
        for (int i = 0; i < data.size(); i++) {
            x[i] = new float[data.features()[i].length];
            for (int j = 0; j < x[i].length; j++) {
                x[i][j] = data.features()[i][j] / 16f;
            }
            y[i][data.labels()[i]] = 1f;
        }
        return new ReferenceRun(x, y);
    }

    static ReferenceRun wineAlcohol() {
        TabularDataset data = TabularDataset.load("wine");
        int columns = data.features()[0].length;
        double[] mean = new double[columns];
        double[] std = new double[columns];
        for (float[] row : data.features()) {
            for (int j = 0; j < columns; j++) {
                mean[j] += row[j] / (double) data.size();
            }
        }
        for (float[] row : data.features()) {
            for (int j = 0; j < columns; j++) {
                std[j] += (row[j] - mean[j]) * (row[j] - mean[j]) / data.size();
            }
        }
        float[][] x = new float[data.size()][columns - 1];
        float[][] y = new float[data.size()][1];
        for (int i = 0; i < data.size(); i++) {
            float[] row = data.features()[i];
            y[i][0] = (float) ((row[0] - mean[0]) / Math.sqrt(std[0]));
            for (int j = 1; j < columns; j++) {
                x[i][j - 1] = (float) ((row[j] - mean[j]) / Math.sqrt(std[j]));
            }
        }
        return new ReferenceRun(x, y);
    }

    static ModelSpec spec(String task, int inputs, int outputs, String loss, String layers, String optimizer) {
        return spec(task, inputs, outputs, loss, layers, optimizer, "");
    }

    /** {@code more}: further top-level lines of the spec (a schedule, gradient clipping). */
    static ModelSpec spec(String task, int inputs, int outputs, String loss, String layers, String optimizer,
                          String more) {
        return ModelSpecParser.parse("name: lean\ninputs: " + inputs + "\ntask: " + task + "\noutputs: " + outputs
                + "\nloss: " + loss + "\nnormalize: false\nseed: 42\nbatch-size: 32\nlayers: " + layers
                + "\noptimizer: " + optimizer + "\n" + more);
    }

    /** DL4J's graph of the spec, with the service's global-norm clipping listener when the spec asks for it. */
    static ComputationGraph graph(ModelSpec spec) {
        ComputationGraph graph = new ComputationGraph(NetworkBuilder.configuration(spec));
        graph.init();
        if (spec.clipping().type().equals("global-norm")) {
            graph.addListeners(globalNormClipping(spec.clipping().threshold()));
        }
        return graph;
    }

    // the listener Network attaches, package-private in the model package: the reference is the production code
    private static TrainingListener globalNormClipping(double threshold) {
        try {
            Constructor<?> constructor = Class.forName("dev.streamtrain.model.GlobalNormClipping")
                    .getDeclaredConstructor(double.class);
            constructor.setAccessible(true);
            return (TrainingListener) constructor.newInstance(threshold);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot create the model's GlobalNormClipping", e);
        }
    }

    /** {@code count} rows drawn with a seeded generator, row-major. */
    float[][] batch(long seed, int count) {
        Random random = new Random(seed);
        float[] x = new float[count * features[0].length];
        float[] y = new float[count * labels[0].length];
        for (int i = 0; i < count; i++) {
            int row = random.nextInt(features.length);
            System.arraycopy(features[row], 0, x, i * features[0].length, features[0].length);
            System.arraycopy(labels[row], 0, y, i * labels[0].length, labels[0].length);
        }
        return new float[][] {x, y};
    }

    static INDArray matrix(float[] values, int rows) {
        return Nd4j.create(values, new long[] {rows, values.length / rows}, 'c');
    }
}
