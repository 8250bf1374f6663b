package dev.streamtrain.engine;

/** The output layers the engine computes itself: an activation fused with its loss. */
enum OutputKind {

    /** Softmax and multi-class cross-entropy, as DL4J's {@code LossMCXENT} with its 1e-10 clipping of the softmax. */
    SOFTMAX_CROSS_ENTROPY,

    /** Identity and mean squared error, as DL4J's {@code LossMSE} (squared error summed, divided by the outputs). */
    MEAN_SQUARED_ERROR
}
