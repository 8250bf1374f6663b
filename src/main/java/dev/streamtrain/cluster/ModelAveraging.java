package dev.streamtrain.cluster;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

import dev.streamtrain.model.Network;
import dev.streamtrain.model.OnlineNormalizer;

/**
 * Periodic model averaging of the trainers of one model (local SGD; parameter averaging as DL4J's Spark training
 * master did it, weighted by examples as in federated averaging, McMahan et al. 2017). Every member starts a round
 * from the same replica (the last average), trains its own partitions, and contributes its replica; the next
 * average is, with w_i = examples_i / sum of examples:
 * <ul>
 * <li>parameters (batch norm's running statistics included): sum of w_i x p_i — a member that saw nothing has
 * w = 0 and does not pull the others back to where the round began;</li>
 * <li>optimizer state (Adam's moments, RMSProp's averages, momentum): sum of w_i x s_i, as DL4J averaged updater
 * state, so that the next round starts with moments that belong to the averaged parameters rather than from zero
 * (which would make Adam's first steps of every round full-size);</li>
 * <li>the iteration counter: where the round began plus the most steps any member took — every member steps at the
 * spec's batch size, so that is how far a schedule (and Adam's bias correction) has come;</li>
 * <li>the normaliser: the base's statistics merged with what each member saw since (Chan's pairwise combination
 * of each member's statistics minus the base's), exact — a plain average would count the shared history N times
 * over and each member's own examples once.</li>
 * </ul>
 * The result does not depend on the order the contributions arrive in: they are summed in the order of their
 * member names, in double precision, so every member computes the same bits.
 */
public final class ModelAveraging {

    private ModelAveraging() {
    }

    /** The average of {@code contributions}, all of which started from {@code base}. */
    public static Network.Replica average(Network.Replica base, List<Contribution> contributions) {
        List<Contribution> sorted = new ArrayList<>(contributions);
        sorted.sort(Comparator.comparing(Contribution::member));
        for (int i = 1; i < sorted.size(); i++) {
            if (sorted.get(i).member().equals(sorted.get(i - 1).member())) {
                throw new IllegalArgumentException("two contributions of member " + sorted.get(i).member());
            }
        }
        long examples = 0;
        int steps = 0;
        for (Contribution c : sorted) {
            requireShape(base, c);
            examples += c.examples();
            steps = Math.max(steps, c.steps());
        }
        OnlineNormalizer normalizer = base.normalizer().copy();
        if (examples == 0) {
            return new Network.Replica(base.parameters().clone(), base.optimizerState().clone(), base.iteration(),
                    normalizer);
        }
        double[] weights = new double[sorted.size()];
        for (int i = 0; i < weights.length; i++) {
            weights[i] = (double) sorted.get(i).examples() / examples;
        }
        float[] parameters = weighted(sorted, weights, true, base.parameters().length);
        float[] optimizerState = weighted(sorted, weights, false, base.optimizerState().length);
        for (Contribution c : sorted) {
            normalizer.merge(OnlineNormalizer.difference(c.replica().normalizer(), base.normalizer()));
        }
        return new Network.Replica(parameters, optimizerState, base.iteration() + steps, normalizer);
    }

    private static float[] weighted(List<Contribution> sorted, double[] weights, boolean parameters, int length) {
        double[] sum = new double[length];
        for (int i = 0; i < weights.length; i++) {
            if (weights[i] == 0) {
                continue;
            }
            Network.Replica r = sorted.get(i).replica();
            float[] values = parameters ? r.parameters() : r.optimizerState();
            double w = weights[i];
            for (int k = 0; k < length; k++) {
                sum[k] += w * values[k];
            }
        }
        float[] out = new float[length];
        for (int k = 0; k < length; k++) {
            out[k] = (float) sum[k];
        }
        return out;
    }

    private static void requireShape(Network.Replica base, Contribution c) {
        Network.Replica r = c.replica();
        if (r.parameters().length != base.parameters().length
                || r.optimizerState().length != base.optimizerState().length
                || r.normalizer().features() != base.normalizer().features()) {
            throw new IllegalArgumentException("member " + c.member() + " contributed a replica of another model ("
                    + r.parameters().length + " parameters, " + r.optimizerState().length + " optimizer values; the"
                    + " round's has " + base.parameters().length + " and " + base.optimizerState().length + ")");
        }
        if (r.normalizer().count() < base.normalizer().count()) {
            throw new IllegalArgumentException("member " + c.member() + " has seen fewer examples ("
                    + r.normalizer().count() + ") than the round began with (" + base.normalizer().count() + ")");
        }
    }
}
