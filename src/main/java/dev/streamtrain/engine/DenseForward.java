package dev.streamtrain.engine;

import java.util.List;

import dev.streamtrain.model.spec.ModelSpec;

/**
 * The inference pass of a stack of dense layers in plain Java over an immutable copy of the parameters: no native
 * call, no lock, no per-call state, so any number of threads (HTTP event loops included) predict at once. For one to a
 * few rows it is faster than a DL4J graph, whose every operation crosses into native code (ND4J's per-operation
 * overhead is tens of microseconds; these loops take a few for the bundled model).
 * <p>
 * Each layer's weights are kept row-major [inputs][outputs] (DL4J's flat layout is column-major), so the inner loop
 * adds one input times a contiguous weight row to the contiguous pre-activations, a loop the JIT vectorises.
 * Activations are ND4J's ({@link ElementActivation}); the results agree with the graph's within float rounding (the
 * sums run in another order than BLAS's).
 */
public final class DenseForward {

    private record Layer(int inputs, int outputs, float[] weights, float[] bias,
                         ElementActivation.Parameterised activation) {
    }

    private final Layer[] layers;
    private final int widest;
    private final long multiplyAddsPerRow;

    private DenseForward(Layer[] layers) {
        this.layers = layers;
        int widest = 0;
        long work = 0;
        for (Layer layer : layers) {
            widest = Math.max(widest, layer.outputs);
            work += (long) layer.inputs * layer.outputs;
        }
        this.widest = widest;
        this.multiplyAddsPerRow = work;
    }

    /**
     * The forward pass of the spec's network with {@code parameters} in DL4J's flat layout (a graph's
     * {@code params()} of the same spec); the array is copied.
     *
     * @throws UnsupportedSpecException if the spec is not a plain stack of dense layers (with dropout at most), naming why
     * @throws IllegalArgumentException if the parameter count is not the spec's
     */
    public static DenseForward of(ModelSpec spec, float[] parameters) {
        EnginePlan plan = EnginePlan.of(spec);
        if (parameters.length != plan.parameterCount()) {
            throw new IllegalArgumentException("spec '" + spec.name() + "' has " + plan.parameterCount()
                    + " parameters; got " + parameters.length);
        }
        List<DenseShape> shapes = plan.layers();
        for (DenseShape shape : shapes) {
            // the training engine covers these; the plain-Java pass not yet (dropout is the identity here)
            if (shape.layerNorm() || shape.residualFrom() >= 0) {
                throw new UnsupportedSpecException(spec.name(), "the plain-Java forward pass has no "
                        + (shape.layerNorm() ? "layer norm" : "residual blocks") + " yet");
            }
        }
        Layer[] layers = new Layer[shapes.size()];
        for (int l = 0; l < layers.length; l++) {
            DenseShape shape = shapes.get(l);
            int in = shape.inputs();
            int out = shape.outputs();
            int offset = (int) shape.offset();
            float[] weights = new float[in * out];
            for (int o = 0; o < out; o++) {
                for (int i = 0; i < in; i++) {
                    weights[i * out + o] = parameters[offset + o * in + i];
                }
            }
            float[] bias = new float[out];
            System.arraycopy(parameters, (int) shape.biasOffset(), bias, 0, out);
            layers[l] = new Layer(in, out, weights, bias, ElementActivation.of(spec.name(), shape.activation()));
        }
        return new DenseForward(layers);
    }

    /**
     * The outputs (class probabilities or regression values) of {@code rows} row-major rows of normalised features,
     * row-major. Thread-safe.
     */
    public float[] output(float[] normalisedRows, int rows) {
        int inputs = inputs();
        if (rows < 1 || normalisedRows.length < (long) rows * inputs) {
            throw new IllegalArgumentException(normalisedRows.length + " values are not " + rows + " rows of "
                    + inputs + " features");
        }
        int outputs = outputs();
        float[] result = new float[rows * outputs];
        float[] a = new float[widest];
        float[] b = new float[widest];
        for (int r = 0; r < rows; r++) {
            float[] in = normalisedRows;
            int inAt = r * inputs;
            for (int l = 0; l < layers.length; l++) {
                Layer layer = layers[l];
                float[] out = l == layers.length - 1 ? result : (l % 2 == 0 ? a : b);
                int outAt = l == layers.length - 1 ? r * outputs : 0;
                dense(layer, in, inAt, out, outAt);
                layer.activation.apply(out, outAt, outAt + layer.outputs);
                in = out;
                inAt = outAt;
            }
        }
        return result;
    }

    /** out[outAt + o] = bias[o] + sum_i in[inAt + i] * weights[i][o]. */
    private static void dense(Layer layer, float[] in, int inAt, float[] out, int outAt) {
        int n = layer.outputs;
        float[] w = layer.weights;
        System.arraycopy(layer.bias, 0, out, outAt, n);
        for (int i = 0; i < layer.inputs; i++) {
            float x = in[inAt + i];
            int row = i * n;
            for (int o = 0; o < n; o++) {
                out[outAt + o] += x * w[row + o];
            }
        }
    }

    public int inputs() {
        return layers[0].inputs;
    }

    public int outputs() {
        return layers[layers.length - 1].outputs;
    }

    /** Multiply-adds of one row's pass: what a request's cost grows with. */
    public long multiplyAddsPerRow() {
        return multiplyAddsPerRow;
    }
}
