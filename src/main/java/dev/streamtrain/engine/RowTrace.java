package dev.streamtrain.engine;

/**
 * The values of one row's pass through a {@link DenseForward}, every layer's at its {@link ForwardLayer#at}: owned by
 * one call (so passes share nothing and need no lock) and reused for each of its rows.
 */
final class RowTrace {

    /** Every layer's outputs (its activations). */
    final float[] act;
    /** Every layer's pre-activations (bias, norm and skip in), for the backward pass; null for outputs only. */
    final float[] pre;
    /** Layer-normalised layers' standardised x·W, before the gain; null for outputs only. */
    final float[] normed;
    /** Per layer: 1 / the standard deviation its layer norm divided by; null for outputs only. */
    final float[] invStd;
    /** d(the explained output)/d(each layer's outputs), then d/d(its pre-activations); null for outputs only. */
    final float[] grad;
    /** One layer's width of room: the gradient of a layer-normalised layer's x·W. */
    final float[] scratch;

    RowTrace(int width, int widest, int layers, boolean gradients) {
        act = new float[width];
        pre = gradients ? new float[width] : null;
        normed = gradients ? new float[width] : null;
        invStd = gradients ? new float[layers] : null;
        grad = gradients ? new float[width] : null;
        scratch = gradients ? new float[widest] : null;
    }
}
