package dev.streamtrain.tuning;

/**
 * How a {@link PopulationTuner} searches for the learning rate. Rates are multiples of the spec's own rate (its
 * schedule's scale, {@link dev.streamtrain.model.Network#setLearningRate}), so one setting serves every optimizer
 * and schedule.
 *
 * @param population   members trained side by side on the same batches (≥ 2); the cost is about that many steps
 * @param lowest       the first member's rate, as a multiple of the spec's
 * @param highest      the last member's rate, as a multiple of the spec's; the others are spaced evenly in log scale
 * @param interval     steps between two exploit decisions (the "ready" period of Jaderberg et al.)
 * @param halfLife     half-life, in steps, of the recent prequential loss that ranks the members
 * @param truncation   share of the population replaced at each decision (bottom) and copied from (top)
 * @param perturbation a copied member's rate is the donor's times or divided by this factor, at random
 * @param floor        the lowest rate the search may reach, as a multiple of the spec's
 * @param ceiling      the highest rate the search may reach, as a multiple of the spec's
 * @param seed         seeds the exploit and perturbation choices: same seed + same batches = same run
 * @param earlyInterval steps between two decisions during the first {@code earlySteps} steps, and as long again
 *                      after a drift (0: {@code interval} throughout)
 * @param earlySteps    how long the early, faster decisions last (0: none)
 * @param driftSpread   on a detected drift, the other members become copies of the serving one at its rate times
 *                      up to this factor, spaced in log scale (0 or 1: a drift leaves the population alone)
 */
public record TunerSettings(int population, double lowest, double highest, int interval, double halfLife,
                            double truncation, double perturbation, double floor, double ceiling, long seed,
                            int earlyInterval, int earlySteps, double driftSpread) {

    public TunerSettings {
        if (population < 2) {
            throw new IllegalArgumentException("a population needs at least 2 members, got " + population);
        }
        if (!(lowest > 0) || !(highest >= lowest) || !(floor > 0) || !(ceiling >= floor)
                || lowest < floor || highest > ceiling || Double.isInfinite(ceiling)) {
            throw new IllegalArgumentException("rates must satisfy 0 < floor ≤ lowest ≤ highest ≤ ceiling < ∞, got "
                    + floor + ", " + lowest + ", " + highest + ", " + ceiling);
        }
        if (interval < 1 || !(halfLife > 0) || !(truncation > 0 && truncation <= 0.5) || !(perturbation > 1)) {
            throw new IllegalArgumentException("need interval ≥ 1, half-life > 0, 0 < truncation ≤ 0.5 and "
                    + "perturbation > 1, got " + interval + ", " + halfLife + ", " + truncation + ", " + perturbation);
        }
        // a record saved before these settings existed reads them as 0: off
        if (earlyInterval < 0 || earlySteps < 0 || (earlySteps > 0 && earlyInterval < 1)
                || !(driftSpread == 0 || driftSpread >= 1)) {
            throw new IllegalArgumentException("need early-interval ≥ 1 when early-steps > 0 (both ≥ 0) and a drift "
                    + "spread of 0 or ≥ 1, got " + earlyInterval + ", " + earlySteps + ", " + driftSpread);
        }
    }

    /** Settings without the early decisions and the drift answer (as the tuner's first version had them). */
    public TunerSettings(int population, double lowest, double highest, int interval, double halfLife,
                         double truncation, double perturbation, double floor, double ceiling, long seed) {
        this(population, lowest, highest, interval, halfLife, truncation, perturbation, floor, ceiling, seed, 0, 0, 0);
    }

    /**
     * The defaults, measured in the trainer on the digits, waveform, rbf, sea-drift and the permuted digits, three
     * seeds each (docs/learning-rate-auto.md): four members from 1 to 30 times the optimizer's rate (online, a short
     * stream rewards rates well above an optimizer's textbook default; 0.1 to 100 wasted a member on rates no stream
     * wanted), a decision every 4 steps on a loss with a half-life of 8 steps (faster decisions at the start did not
     * help on top of that span), the worst member replaced by a copy of the best at twice or half its rate, within
     * 1e-3 to 1e3 times the optimizer's rate, and on a detected drift the others copied from the serving member at up
     * to 10 times its rate.
     */
    public static TunerSettings defaults(long seed) {
        return new TunerSettings(4, 1, 30, 4, 8, 0.25, 2.0, 1e-3, 1e3, seed, 0, 0, 10);
    }

    /** The same settings with another population size (the rates still span {@code lowest}..{@code highest}). */
    public TunerSettings withPopulation(int size) {
        return new TunerSettings(size, lowest, highest, interval, halfLife, truncation, perturbation, floor, ceiling,
                seed, earlyInterval, earlySteps, driftSpread);
    }

    /** The interval between decisions at {@code step}, while faster decisions last until {@code fastUntil}. */
    int intervalAt(long step, long fastUntil) {
        return step < fastUntil && earlyInterval > 0 ? earlyInterval : interval;
    }

    /** Whether the drift answer is on. */
    boolean respreadsOnDrift() {
        return driftSpread > 1;
    }

    /** The initial rate multiple of member {@code index}. */
    double initialFactor(int index) {
        return population == 1 ? lowest : lowest * Math.pow(highest / lowest, (double) index / (population - 1));
    }

    /** How many members are replaced (and how many may be copied) at a decision. */
    int replaced() {
        return Math.max(1, (int) Math.round(truncation * population));
    }
}
