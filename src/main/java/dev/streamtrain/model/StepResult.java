package dev.streamtrain.model;

import java.util.List;

/**
 * What one test-then-train step on a mini-batch found and did.
 *
 * @param train       the test half on the rows trained on: their loss and correct predictions under the model
 *                    as it was before the step
 * @param holdout     the same for the held-out rows of the batch (scored, never trained on)
 * @param fitted      whether an optimizer step was taken (not when every row was held out, or the batch's loss
 *                    was not finite)
 * @param nonFinite   null when all is well; else what was not finite: "loss" (the batch's loss under the current
 *                    model; no step was taken) or "parameters" (after the step: the loss DL4J computed or the
 *                    parameters themselves). The caller must then not publish or checkpoint this network before
 *                    it restores a good state ({@link Network#restoreGood()})
 * @param errors      the per-example error of the trained rows, in order: 0/1 for classification, the loss for
 *                    regression; a buffer reused by the next step
 * @param layers      per-layer gradient and activation signals when the step was sampled, else null
 */
public record StepResult(BatchScore train, BatchScore holdout, boolean fitted, String nonFinite, float[] errors,
                         long scoreNanos, long backwardNanos, long updateNanos, List<LayerHealth> layers) {

    public boolean finite() {
        return nonFinite == null;
    }
}
