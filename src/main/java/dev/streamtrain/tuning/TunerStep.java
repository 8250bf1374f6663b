package dev.streamtrain.tuning;

import java.util.ArrayList;
import java.util.List;

import dev.streamtrain.model.BatchScore;
import dev.streamtrain.model.StepResult;

/**
 * What one step of the population did.
 *
 * @param served    the test half of the member that served while the batch arrived (the leader before it): the
 *                  prequential score of the tuned service
 * @param servedBy  that member's id
 * @param leader    the member that serves from now on (lowest recent prequential loss)
 * @param results   each member's step, by member id
 * @param exploits  the exploit moves made after the step (empty on most steps)
 * @param broken    true when no member's step was finite: the tuner could not repair it from inside the
 *                  population, the caller's health answers must (roll back)
 */
public record TunerStep(BatchScore served, int servedBy, int leader, List<StepResult> results,
                        List<Exploit> exploits, boolean broken) {

    /** The same step with {@code more} moves made after it (a drift's answer), reported with its own. */
    public TunerStep withExploits(List<Exploit> more) {
        if (more.isEmpty()) {
            return this;
        }
        List<Exploit> all = new ArrayList<>(exploits);
        all.addAll(more);
        return new TunerStep(served, servedBy, leader, results, List.copyOf(all), broken);
    }
}
