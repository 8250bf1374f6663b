package dev.streamtrain.tuning;

import java.util.List;

/**
 * What the tuner looks like after a step, immutable, for readers on other threads (status, metrics): the serving
 * member, each member's learning rate and recent prequential loss by id, the exploit moves so far and the operator's
 * pinned rate (null while the tuner chooses).
 */
public record TunerView(int leader, List<Double> rates, List<Double> recentLosses, long exploits, Double pinned) {

    public TunerView {
        rates = List.copyOf(rates);
        recentLosses = List.copyOf(recentLosses);
    }

    /** The number of members. */
    public int members() {
        return rates.size();
    }
}
