package dev.streamtrain.model.explain;

import dev.streamtrain.engine.DenseForward;

/**
 * What {@link IntegratedGradients} differentiates: a snapshot's network in inference mode, its outputs and the gradient
 * of one output per row (the output itself, not a loss) with respect to the row's standardised input.
 * {@link DenseForward} computes it in plain Java for every spec, without a lock; the tests' {@code GradientGraph}, by
 * DL4J's backpropagation on an inference-mode graph copy, is the reference it is held to.
 */
public interface InputGradients {

    /** Outputs [rows, C] and input gradients [rows, F] of one pass, row-major. */
    record Pass(float[] outputs, float[] inputGradients) {
    }

    /** The outputs of {@code rows} row-major inputs and the gradient of output {@code targets[row]} of each row. */
    Pass pass(float[] inputs, int[] targets, int rows);

    /** The outputs [rows, C] alone. */
    float[] outputs(float[] inputs, int rows);

    /** The plain-Java pass: thread-safe, no lock. */
    static InputGradients of(DenseForward forward) {
        return new InputGradients() {
            @Override
            public Pass pass(float[] inputs, int[] targets, int rows) {
                DenseForward.Gradients g = forward.inputGradients(inputs, rows, targets);
                return new Pass(g.outputs(), g.inputGradients());
            }

            @Override
            public float[] outputs(float[] inputs, int rows) {
                return forward.output(inputs, rows);
            }
        };
    }
}
