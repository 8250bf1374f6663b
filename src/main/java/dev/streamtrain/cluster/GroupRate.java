package dev.streamtrain.cluster;

/**
 * The learning-rate factor of a member of a group that averages its models, relative to the spec's rate.
 * Averaging N plain SGD (or momentum) steps taken from one point is one SGD step on the N members' batches
 * together: linear in the gradients, so the rate stays. An adaptive optimizer (Adam and its family, RMSProp,
 * AdaGrad, AdaDelta) normalises each member's step by that member's own gradient statistics: the steps agree where
 * the gradient is signal and cancel in part where it is noise, so their average is shorter than the step of one
 * trainer on the combined batch. The square-root rule (Malladi et al., 2022, for adaptive methods at a larger batch)
 * restores it: rate x sqrt(N). Measured in docs/scale-out.md: without it two members on the digits trail one trainer
 * at the same total batch by 1.5 points, three by 2.5; with it they are level or ahead.
 */
public final class GroupRate {

    private GroupRate() {
    }

    /** The factor for {@code members} trainers (1 for one) of a model trained by {@code optimizer}. */
    public static double factor(String optimizer, int members) {
        if (members < 1) {
            throw new IllegalArgumentException("a group of " + members + " members");
        }
        return optimizer.equals("sgd") ? 1.0 : Math.sqrt(members);
    }
}
