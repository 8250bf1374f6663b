package dev.streamtrain.engine;

/**
 * One layer of {@link DenseForward} for one row at a time, forward and back: x·W (row-major [inputs][outputs], so the
 * inner loops run over contiguous outputs; backward, the same weights [outputs][inputs], DL4J's order, so that they
 * run over contiguous inputs: both are the vectorisable a·x + y, not a dot product the JIT keeps scalar), layer norm of x·W when {@code gain} is set (DL4J's {@code BaseLayer}
 * normalises before the bias), the bias, the skip of a residual block when {@code skipFrom} ≥ 0 (added to the
 * pre-activations before the block's activation, as DL4J's Add vertex and activation layer do), then the activation.
 * Its values for the row live in a {@link RowTrace} at {@code at} (the widths of the layers before it).
 * <p>
 * Each kind of layer is one step of {@link #forward} and its mirror in {@link #backward}. A batch-normalisation layer
 * (inputs = outputs, no weights) is, in inference, the per-feature affine map x·{@code scale} + {@code bias}
 * (scale = gamma / sqrt(var + eps), bias = beta − mean · scale, from its running statistics), then the skip and the
 * activation as above.
 */
record ForwardLayer(int inputs, int outputs, float[] weights, float[] weightsByOutput, float[] bias, float[] gain,
                    float[] scale, int skipFrom,
                    ElementActivation.Parameterised activation, int index, int at) {

    /**
     * This layer's outputs for the row into {@code trace.act} from its input {@code in[inAt..]} and, closing a
     * residual block, the block's input {@code skip[skipAt..]}. With {@code keep}, also what {@link #backward} needs.
     */
    void forward(float[] in, int inAt, float[] skip, int skipAt, RowTrace trace, boolean keep) {
        float[] z = trace.act;
        if (scale != null) {
            for (int o = 0; o < outputs; o++) {
                z[at + o] = in[inAt + o] * scale[o] + bias[o];
            }
        } else if (gain == null) {
            System.arraycopy(bias, 0, z, at, outputs);
            multiplyAdd(in, inAt, z);
        } else {
            java.util.Arrays.fill(z, at, at + outputs, 0f);
            multiplyAdd(in, inAt, z);
            layerNorm(z, trace, keep);
            for (int o = 0; o < outputs; o++) {
                z[at + o] += bias[o];
            }
        }
        if (skipFrom >= 0) {
            for (int o = 0; o < outputs; o++) {
                z[at + o] += skip[skipAt + o];
            }
        }
        if (keep) {
            System.arraycopy(z, at, trace.pre, at, outputs);
        }
        activation.apply(z, at, at + outputs);
    }

    /** z[at + o] += sum_i in[inAt + i] * W[i][o]. */
    private void multiplyAdd(float[] in, int inAt, float[] z) {
        int n = outputs;
        float[] w = weights;
        for (int i = 0; i < inputs; i++) {
            float x = in[inAt + i];
            int row = i * n;
            for (int o = 0; o < n; o++) {
                z[at + o] += x * w[row + o];
            }
        }
    }

    /**
     * ND4J's {@code layer_norm} (libnd4j's {@code standardize}, then the gain): (u - mean) / std over the row's
     * outputs, std the population standard deviation with no epsilon, a NaN (a constant row) replaced by 0.
     */
    private void layerNorm(float[] z, RowTrace trace, boolean keep) {
        double sum = 0;
        for (int o = 0; o < outputs; o++) {
            sum += z[at + o];
        }
        float mean = (float) (sum / outputs);
        double squares = 0;
        for (int o = 0; o < outputs; o++) {
            double d = z[at + o] - mean;
            squares += d * d;
        }
        float std = (float) Math.sqrt(squares / outputs);
        for (int o = 0; o < outputs; o++) {
            float n = (z[at + o] - mean) / std;
            n = Float.isNaN(n) ? 0f : n;
            if (keep) {
                trace.normed[at + o] = n;
            }
            z[at + o] = n * gain[o];
        }
        if (keep) {
            // a constant row standardises to zeros whatever moves it a little: no gradient flows through it
            trace.invStd[index] = std > 0f ? 1f / std : 0f;
        }
    }

    /**
     * Back through this layer for the row: {@code trace.grad[at..]} holds d(the explained output)/d(this layer's
     * outputs) and becomes d/d(pre-activations); the gradient reaching this layer's input is added to
     * {@code below[belowAt..]}, and, closing a residual block, the same delta to the block's input
     * {@code skip[skipAt..]}.
     */
    void backward(RowTrace trace, float[] below, int belowAt, float[] skip, int skipAt) {
        float[] delta = trace.grad;
        ElementActivation.backward(activation, trace.pre, trace.act, delta, at, at + outputs);
        if (skipFrom >= 0) {
            for (int o = 0; o < outputs; o++) {
                skip[skipAt + o] += delta[at + o];
            }
        }
        if (scale != null) {
            for (int o = 0; o < outputs; o++) {
                below[belowAt + o] += delta[at + o] * scale[o];
            }
            return;
        }
        float[] du = delta;
        int duAt = at;
        if (gain != null) {
            du = trace.scratch;
            duAt = 0;
            layerNormBackward(delta, trace, du);
        }
        float[] w = weightsByOutput;
        for (int o = 0; o < outputs; o++) {
            float d = du[duAt + o];
            if (d == 0f) {
                continue; // a unit ReLU silenced: nothing flows back through it
            }
            int row = o * inputs;
            for (int i = 0; i < inputs; i++) {
                below[belowAt + i] += d * w[row + i];
            }
        }
    }

    /** d/du of (gain * standardised u) for the delta: (dn - mean(dn) - n * mean(dn * n)) / std, dn = delta * gain. */
    private void layerNormBackward(float[] delta, RowTrace trace, float[] du) {
        double meanDn = 0;
        double meanDnN = 0;
        for (int o = 0; o < outputs; o++) {
            float dn = delta[at + o] * gain[o];
            du[o] = dn;
            meanDn += dn;
            meanDnN += (double) dn * trace.normed[at + o];
        }
        float m1 = (float) (meanDn / outputs);
        float m2 = (float) (meanDnN / outputs);
        float invStd = trace.invStd[index];
        for (int o = 0; o < outputs; o++) {
            du[o] = invStd * (du[o] - m1 - trace.normed[at + o] * m2);
        }
    }
}
