package dev.streamtrain.engine;

/** The output layers the engine computes itself: an activation fused with its loss. */
enum OutputKind {

    /** Softmax and multi-class cross-entropy, as DL4J's {@code LossMCXENT} with its 1e-10 clipping of the softmax. */
    SOFTMAX_CROSS_ENTROPY,

    /** Identity and mean squared error, as DL4J's {@code LossMSE} (squared error summed, divided by the outputs). */
    MEAN_SQUARED_ERROR,

    /**
     * Sigmoid and binary cross-entropy per output, as DL4J's {@code LossBinaryXENT}: the sigmoid clipped into
     * [1e-5, 1 - 1e-5] before the logs, and the gradient taken through the clipped value, then the sigmoid's derivative.
     */
    SIGMOID_BINARY_CROSS_ENTROPY,

    /** Identity and mean absolute error, as DL4J's {@code LossMAE} (absolute error summed, divided by the outputs). */
    MEAN_ABSOLUTE_ERROR
}
