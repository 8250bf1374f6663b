package dev.streamtrain.engine;

import java.util.Arrays;
import java.util.List;

import dev.streamtrain.model.spec.ModelSpec;

/**
 * The inference pass of a stack of dense layers (with layer norm and residual blocks; dropout is the identity here) in
 * plain Java over an immutable copy of the parameters, and the gradient of one output per row with respect to the
 * input: no native call, no lock, no state between calls, so any number of threads (HTTP event loops included)
 * predict and explain at once. For one to a few rows it is faster than a DL4J graph, whose every operation crosses
 * into native code (ND4J's per-operation overhead is tens of microseconds; these loops take a few for the bundled
 * model).
 * <p>
 * Each layer's weights are kept row-major [inputs][outputs] (DL4J's flat layout is column-major), so the inner loop
 * adds one input times a contiguous weight row to the contiguous pre-activations, a loop the JIT vectorises.
 * Activations are ND4J's ({@link ElementActivation}); the results agree with the graph's within float rounding (the
 * sums run in another order than BLAS's).
 */
public final class DenseForward {

    /** Outputs [rows, C] and the input gradients [rows, F] of one explained output per row, row-major. */
    public record Gradients(float[] outputs, float[] inputGradients) {
    }

    private final ForwardLayer[] layers;
    /** The summed widths of all layers: one row's values in a {@link RowTrace}. */
    private final int width;
    private final int widest;
    private final long multiplyAddsPerRow;

    private DenseForward(ForwardLayer[] layers) {
        this.layers = layers;
        int widest = 0;
        long work = 0;
        for (ForwardLayer layer : layers) {
            widest = Math.max(widest, layer.outputs());
            work += layer.scale() != null ? layer.outputs() : (long) layer.inputs() * layer.outputs();
        }
        ForwardLayer last = layers[layers.length - 1];
        this.width = last.at() + last.outputs();
        this.widest = widest;
        this.multiplyAddsPerRow = work;
    }

    /**
     * The forward pass of the spec's network with {@code parameters} in DL4J's flat layout (a graph's
     * {@code params()} of the same spec); the array is copied.
     *
     * @throws UnsupportedSpecException if the spec has layers the lean engine's plan refuses, naming why
     * @throws IllegalArgumentException if the parameter count is not the spec's
     */
    public static DenseForward of(ModelSpec spec, float[] parameters) {
        EnginePlan plan = EnginePlan.of(spec, true);
        if (parameters.length != plan.parameterCount()) {
            throw new IllegalArgumentException("spec '" + spec.name() + "' has " + plan.parameterCount()
                    + " parameters; got " + parameters.length);
        }
        List<DenseShape> shapes = plan.layers();
        ForwardLayer[] layers = new ForwardLayer[shapes.size()];
        int at = 0;
        for (int l = 0; l < layers.length; l++) {
            DenseShape shape = shapes.get(l);
            int in = shape.inputs();
            int out = shape.outputs();
            int offset = (int) shape.offset();
            if (shape.batchNorm() != null) {
                layers[l] = batchNorm(spec, shape, parameters, l, at);
                at += out;
                continue;
            }
            float[] weights = new float[in * out];
            for (int o = 0; o < out; o++) {
                for (int i = 0; i < in; i++) {
                    weights[i * out + o] = parameters[offset + o * in + i];
                }
            }
            float[] byOutput = Arrays.copyOfRange(parameters, offset, offset + in * out);
            float[] bias = Arrays.copyOfRange(parameters, (int) shape.biasOffset(), (int) shape.biasOffset() + out);
            float[] gain = shape.layerNorm()
                    ? Arrays.copyOfRange(parameters, (int) shape.gainOffset(), (int) shape.gainOffset() + out) : null;
            layers[l] = new ForwardLayer(in, out, weights, byOutput, bias, gain, null, shape.residualFrom(),
                    ElementActivation.of(spec.name(), shape.activation()), l, at);
            at += out;
        }
        return new DenseForward(layers);
    }

    /**
     * A batch-normalisation layer in inference (DL4J's {@code BatchNormalization} with its running statistics): its
     * n parameters sit at the shape's offset as gamma, beta, the running mean and the running log10 of the standard
     * deviation (or the variance, without {@code logStd}); y = gamma (x − mean) / sqrt(var + eps) + beta, kept as
     * one scale and one shift per feature, computed in double from the float parameters.
     */
    private static ForwardLayer batchNorm(ModelSpec spec, DenseShape shape, float[] parameters, int index, int at) {
        int n = shape.outputs();
        int offset = (int) shape.offset();
        BatchNormSettings settings = shape.batchNorm();
        float[] scale = new float[n];
        float[] shift = new float[n];
        for (int o = 0; o < n; o++) {
            double gamma = parameters[offset + o];
            double beta = parameters[offset + n + o];
            double mean = parameters[offset + 2 * n + o];
            double spread = parameters[offset + 3 * n + o];
            double variance = settings.logStd() ? Math.pow(Math.pow(10, spread), 2) : spread;
            double s = gamma / Math.sqrt(variance + settings.eps());
            scale[o] = (float) s;
            shift[o] = (float) (beta - mean * s);
        }
        return new ForwardLayer(n, n, new float[0], new float[0], shift, null, scale, shape.residualFrom(),
                ElementActivation.of(spec.name(), shape.activation()), index, at);
    }

    /**
     * The outputs (class probabilities or regression values) of {@code rows} row-major rows of normalised features,
     * row-major. Thread-safe.
     */
    public float[] output(float[] normalisedRows, int rows) {
        checkRows(normalisedRows, rows);
        int outputs = outputs();
        int last = layers[layers.length - 1].at();
        float[] result = new float[rows * outputs];
        RowTrace trace = new RowTrace(width, widest, layers.length, false);
        for (int r = 0; r < rows; r++) {
            forward(normalisedRows, r * inputs(), trace, false);
            System.arraycopy(trace.act, last, result, r * outputs, outputs);
        }
        return result;
    }

    /**
     * The outputs of {@code rows} row-major rows of normalised features and, per row, the gradient of its output
     * {@code targets[row]} (the output itself: a probability, not a loss) with respect to the row's features, in
     * inference mode. Thread-safe.
     */
    public Gradients inputGradients(float[] normalisedRows, int rows, int[] targets) {
        checkRows(normalisedRows, rows);
        if (targets.length != rows) {
            throw new IllegalArgumentException(targets.length + " targets for " + rows + " rows");
        }
        int inputs = inputs();
        int outputs = outputs();
        ForwardLayer top = layers[layers.length - 1];
        float[] result = new float[rows * outputs];
        float[] gradients = new float[rows * inputs];
        RowTrace trace = new RowTrace(width, widest, layers.length, true);
        for (int r = 0; r < rows; r++) {
            if (targets[r] < 0 || targets[r] >= outputs) {
                throw new IllegalArgumentException("target " + targets[r] + " of row " + r + "; outputs 0 to "
                        + (outputs - 1));
            }
            forward(normalisedRows, r * inputs, trace, true);
            System.arraycopy(trace.act, top.at(), result, r * outputs, outputs);
            Arrays.fill(trace.grad, 0f);
            trace.grad[top.at() + targets[r]] = 1f;
            for (int l = layers.length - 1; l >= 0; l--) {
                ForwardLayer layer = layers[l];
                int skip = layer.skipFrom();
                layer.backward(trace, l == 0 ? gradients : trace.grad, l == 0 ? r * inputs : layers[l - 1].at(),
                        skip == 0 ? gradients : trace.grad, skip == 0 ? r * inputs : skip > 0 ? layers[skip - 1].at() : 0);
            }
        }
        return new Gradients(result, gradients);
    }

    /** One row through every layer into {@code trace}; a layer's input is the one below's outputs (or the row). */
    private void forward(float[] x, int xAt, RowTrace trace, boolean keep) {
        for (ForwardLayer layer : layers) {
            int l = layer.index();
            int skip = layer.skipFrom();
            layer.forward(l == 0 ? x : trace.act, l == 0 ? xAt : layers[l - 1].at(),
                    skip == 0 ? x : trace.act, skip == 0 ? xAt : skip > 0 ? layers[skip - 1].at() : 0, trace, keep);
        }
    }

    private void checkRows(float[] normalisedRows, int rows) {
        if (rows < 1 || normalisedRows.length < (long) rows * inputs()) {
            throw new IllegalArgumentException(normalisedRows.length + " values are not " + rows + " rows of "
                    + inputs() + " features");
        }
    }

    int inputs() {
        return layers[0].inputs();
    }

    int outputs() {
        return layers[layers.length - 1].outputs();
    }

    /** Multiply-adds of one row's forward pass: what a request's cost grows with (a gradient costs about 2 more). */
    public long multiplyAddsPerRow() {
        return multiplyAddsPerRow;
    }
}
