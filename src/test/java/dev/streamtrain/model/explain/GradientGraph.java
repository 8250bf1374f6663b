package dev.streamtrain.model.explain;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Map;

/**
 * The gradient of one output per row with respect to the network's input, by DL4J's own backpropagation, in
 * inference mode. It is a copy of a served graph in which every layer computes the same function in training and
 * in inference ({@link InferenceCopy}): batch normalisation frozen to its running statistics, dropout
 * gone, and the output layer a plain layer without a loss, so backpropagation starts from the output itself and
 * no loss gradient has to be inverted. A graph keeps per-call state, so passes are synchronised: one at a time.
 * Explanations use it only for what {@link dev.streamtrain.engine.DenseForward} does not compute (batch norm); for
 * everything else it is the reference the plain-Java gradient is tested against.
 */
public final class GradientGraph extends ComputationGraph implements InputGradients {

    private GradientGraph(ComputationGraphConfiguration configuration) {
        super(configuration);
    }

    /** An inference-mode copy of {@code served} with the same function; refuses layers it cannot copy. */
    public static GradientGraph of(ComputationGraph served) {
        GradientGraph graph = new GradientGraph(InferenceCopy.configuration(served.getConfiguration()));
        graph.init();
        InferenceCopy.copyParameters(served, graph);
        return graph;
    }

    /** One pass seeded one-hot at each row's target: the gradient of that output. */
    @Override
    public Pass pass(float[] inputs, int[] targets, int rows) {
        int outputs = (int) getLayer(getConfiguration().getNetworkOutputs().get(0)).getParam("b").length();
        float[] seed = new float[rows * outputs];
        for (int row = 0; row < rows; row++) {
            seed[row * outputs + targets[row]] = 1f;
        }
        return pass(inputs, seed, rows);
    }

    /**
     * One forward pass over {@code rows} inputs (row-major, width F), then one backward pass
     * seeded with {@code seed} [rows, C] at the output: the input gradient of row i is
     * {@code sum_k seed[i, k] * d out[i, k] / d input[i]} (seed one-hot at the target: that output's gradient).
     */
    public synchronized Pass pass(float[] inputs, float[] seed, int rows) {
        String input = getConfiguration().getNetworkInputs().get(0);
        String output = getConfiguration().getNetworkOutputs().get(0);
        INDArray x = Nd4j.create(inputs, new long[] {rows, inputs.length / rows}, getConfiguration().getDataType());
        INDArray epsilon = Nd4j.create(seed, new long[] {rows, seed.length / rows}, getConfiguration().getDataType());
        try {
            // training mode, which in this copy computes what the served graph computes in inference (and keeps
            // what backpropagation needs: in inference, DL4J's ActivationLayer overwrites its stored input in place)
            Map<String, INDArray> activations = feedForward(new INDArray[] {x}, true, false);
            float[] out = activations.get(output).dup('c').data().asFloat();
            // external errors at a network output that is not an output layer: no loss, no labels
            calcBackpropGradients(false, false, epsilon);
            float[] gradient = getVertex(input).getEpsilon().dup('c').data().asFloat();
            return new Pass(out, gradient);
        } finally {
            // nothing of this pass may stay referenced by the graph once its arrays are released
            clearLayersStates();
            clear();
            x.close();
            epsilon.close();
        }
    }

    /** The outputs [rows, C] alone, in inference mode. */
    @Override
    public synchronized float[] outputs(float[] inputs, int rows) {
        INDArray x = Nd4j.create(inputs, new long[] {rows, inputs.length / rows}, getConfiguration().getDataType());
        try {
            return outputSingle(false, x).dup('c').data().asFloat();
        } finally {
            clearLayersStates();
            clear();
            x.close();
        }
    }
}
