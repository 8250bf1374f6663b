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
 */
public record TunerSettings(int population, double lowest, double highest, int interval, double halfLife,
                            double truncation, double perturbation, double floor, double ceiling, long seed) {

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
    }

    /**
     * The defaults, measured on the digits, waveform, rbf and sea-drift streams (docs/learning-rate-auto.md):
     * four members from 0.1 to 100 times the spec's rate (online, a short stream rewards rates well above an
     * optimizer's textbook default; a narrower span, 0.3 to 30, did as well from Adam's default but recovered too
     * slowly from a rate ten times too small), a decision every 4 steps on a loss with a half-life of 8 steps, the worst
     * member replaced by a copy of the best at twice or half its rate, within 1e-3 to 1e3 times the spec's rate.
     */
    public static TunerSettings defaults(long seed) {
        return new TunerSettings(4, 0.1, 100, 4, 8, 0.25, 2.0, 1e-3, 1e3, seed);
    }

    /** The same settings with another population size (the rates still span {@code lowest}..{@code highest}). */
    public TunerSettings withPopulation(int size) {
        return new TunerSettings(size, lowest, highest, interval, halfLife, truncation, perturbation, floor, ceiling,
                seed);
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
