package dev.streamtrain.training.health;

/**
 * The Page-Hinkley test for an increase of the mean (E. S. Page, "Continuous inspection schemes", Biometrika 41,
 * 1954), in the form of MOA's {@code moa.classifiers.core.driftdetection.PageHinkleyDM} and of J. Gama,
 * I. Žliobaitė, A. Bifet, M. Pechenizkiy and A. Bouchachia, "A survey on concept drift adaptation", ACM Computing
 * Surveys 46(4), 2014: with x̄_T the mean of the observations x_1 … x_T since the last reset,
 * <pre>
 *   m_T = α·m_{T−1} + (x_T − x̄_T − δ),   M_T = min_{t ≤ T} m_t,   drift when m_T − M_T &gt; λ
 * </pre>
 * once at least {@code minInstances} observations came in. δ is the magnitude of change tolerated, λ the alarm
 * threshold and α a fading factor that lets old deviations fade. A falling mean drives m_T down and M_T with it,
 * so it is never signalled. After a signal the test starts afresh. O(1) per observation.
 *
 * <p>The defaults of {@link #defaults()} are PageHinkleyDM's. Unlike PageHinkleyDM, which allows an alarm from its
 * (minInstances − 1)-th observation, this one waits for the {@code minInstances}-th; and M_T is started at m_0 = 0,
 * which changes nothing since m_1 = −δ ≤ 0.
 */
public final class PageHinkley implements DriftDetector {

    public static final int DEFAULT_MIN_INSTANCES = 30;
    public static final double DEFAULT_DELTA = 0.005;
    public static final double DEFAULT_LAMBDA = 50;
    public static final double DEFAULT_ALPHA = 1 - 0.0001;

    private final int minInstances;
    private final double delta;
    private final double lambda;
    private final double alpha;
    private long count;
    private double mean;
    private double sum;
    private double min;

    /**
     * @param minInstances observations since the last reset before an alarm is possible, at least 1
     * @param delta        the tolerated magnitude of change δ &ge; 0
     * @param lambda       the alarm threshold λ &gt; 0
     * @param alpha        the fading factor α in (0, 1]; 1 for the plain, unfaded test
     */
    public PageHinkley(int minInstances, double delta, double lambda, double alpha) {
        if (minInstances < 1 || !(delta >= 0) || !(lambda > 0) || !(alpha > 0 && alpha <= 1)
                || !Double.isFinite(delta) || !Double.isFinite(lambda)) {
            throw new IllegalArgumentException("Page-Hinkley needs minInstances >= 1, delta >= 0, lambda > 0 and "
                    + "alpha in (0, 1]: " + minInstances + ", " + delta + ", " + lambda + ", " + alpha);
        }
        this.minInstances = minInstances;
        this.delta = delta;
        this.lambda = lambda;
        this.alpha = alpha;
    }

    /** The test with MOA's PageHinkleyDM defaults: 30 instances, δ = 0.005, λ = 50, α = 1 − 0.0001. */
    public static PageHinkley defaults() {
        return new PageHinkley(DEFAULT_MIN_INSTANCES, DEFAULT_DELTA, DEFAULT_LAMBDA, DEFAULT_ALPHA);
    }

    @Override
    public boolean add(double value) {
        if (!Double.isFinite(value)) {
            throw new IllegalArgumentException("not a finite observation: " + value);
        }
        count++;
        mean += (value - mean) / count;
        sum = alpha * sum + (value - mean - delta);
        min = Math.min(min, sum);
        if (count >= minInstances && sum - min > lambda) {
            reset();
            return true;
        }
        return false;
    }

    private void reset() {
        count = 0;
        mean = 0;
        sum = 0;
        min = 0;
    }

    @Override
    public double mean() {
        return count == 0 ? Double.NaN : mean;
    }

    @Override
    public long width() {
        return count;
    }

    @Override
    public String name() {
        return "page-hinkley";
    }

    /** The complete state, for a checkpoint; {@link #restore} continues from it exactly. */
    public State state() {
        return new State(minInstances, delta, lambda, alpha, count, mean, sum, min);
    }

    /** A test in the given state, which behaves from then on exactly as the one whose {@link #state} it was. */
    public static PageHinkley restore(State state) {
        PageHinkley test = new PageHinkley(state.minInstances(), state.delta(), state.lambda(), state.alpha());
        test.count = state.count();
        test.mean = state.mean();
        test.sum = state.sum();
        test.min = state.min();
        return test;
    }

    /**
     * The test's parameters, the observations since the last reset, their mean x̄_T, the cumulative deviation m_T
     * and its minimum M_T.
     */
    public record State(int minInstances, double delta, double lambda, double alpha, long count, double mean,
                        double sum, double min) {
    }
}
