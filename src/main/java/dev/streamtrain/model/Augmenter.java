package dev.streamtrain.model;

import java.util.SplittableRandom;

import dev.streamtrain.model.spec.ModelSpec;

/**
 * Data augmentation of a tabular mini-batch, applied after it has been normalised and scored and before the
 * optimizer step, so that only training sees augmented examples. Two transforms, both off at 0:
 * <ul>
 * <li><b>mixup</b> (Zhang, Cisse, Dauphin, Lopez-Paz, "mixup: Beyond Empirical Risk Minimization", ICLR 2018):
 * each trainable row i becomes λ·x<sub>i</sub> + (1−λ)·x<sub>j</sub>, its label row λ·y<sub>i</sub> +
 * (1−λ)·y<sub>j</sub> with the same λ, where j is another trainable row of the batch drawn uniformly and
 * λ ~ Beta(α, α). One-hot class labels thus become soft labels; regression targets are mixed too.
 * Unlike the paper's reference implementation, which draws one λ for the whole batch, every row draws its
 * own λ: streaming batches are small (32 by default) and each is trained on once, and a single λ would make
 * whole steps either nearly clean or heavily mixed, a needless step-to-step variance in the regularisation.</li>
 * <li><b>Gaussian noise</b>: zero-mean noise of standard deviation σ added to every feature of every trainable
 * row (after normalisation, so in units of the feature's standard deviation when the spec normalises).</li>
 * </ul>
 * When both are on, mixup comes first and the noise is added to the mixed rows, so the noise keeps its σ
 * (noise mixed afterwards would shrink to σ·√(λ² + (1−λ)²)).
 * <p>
 * Rows not marked trainable (held-out examples) are neither changed nor mixed into other rows. The random
 * draws depend only on the seed and the step, so a run restored from a checkpoint augments exactly as an
 * uninterrupted one, with no generator state to save. Scratch buffers grow to the largest batch seen and are
 * reused; one small generator object is made per call. Not thread-safe: the training thread owns it.
 */
public final class Augmenter {

    /** Separates the augmentation's random stream from other uses of the spec's seed. */
    private static final long SALT = 0x6A09E667F3BCC909L;
    private static final long GOLDEN_GAMMA = 0x9E3779B97F4A7C15L;

    private final double sigma;
    private final double alpha;
    private final long seed;
    private float[] mixedFeatures = new float[0];
    private float[] mixedLabels = new float[0];
    private int[] trainableRows = new int[0];

    public Augmenter(ModelSpec.AugmentationSpec spec, long seed) {
        this.sigma = spec.gaussianNoise();
        this.alpha = spec.mixup();
        this.seed = seed;
    }

    /** Whether {@link #apply} changes anything at all. */
    public boolean enabled() {
        return sigma > 0 || alpha > 0;
    }

    /**
     * Augments, in place, the rows of a mini-batch that will be trained on. Rows with
     * {@code trainable[i] == false} (held-out rows) are neither changed nor mixed into others. The random draws
     * depend only on the seed and the step, so a run restored from a checkpoint augments exactly as an
     * uninterrupted one (no RNG state to save).
     *
     * @param features   row-major features, {@code rows × inputs} used
     * @param labels     row-major label rows, {@code rows × labelWidth} used
     * @param trainable  which of the first {@code rows} rows are trained on
     * @param step       the optimizer step this batch is trained at
     */
    public void apply(float[] features, float[] labels, int rows, int inputs, int labelWidth, boolean[] trainable,
                      long step) {
        if (rows < 0 || features.length < rows * inputs || labels.length < rows * labelWidth
                || trainable.length < rows) {
            throw new IllegalArgumentException("a batch of " + rows + " rows does not fit the given arrays");
        }
        if (!enabled() || rows == 0) {
            return;
        }
        SplittableRandom random = new SplittableRandom(streamSeed(seed, step));
        if (alpha > 0) {
            mixup(features, labels, rows, inputs, labelWidth, trainable, random);
        }
        if (sigma > 0) {
            for (int i = 0; i < rows; i++) {
                if (trainable[i]) {
                    for (int p = i * inputs, end = p + inputs; p < end; p++) {
                        features[p] = (float) (features[p] + sigma * random.nextGaussian());
                    }
                }
            }
        }
    }

    private void mixup(float[] features, float[] labels, int rows, int inputs, int labelWidth, boolean[] trainable,
                       SplittableRandom random) {
        if (trainableRows.length < rows) {
            trainableRows = new int[rows];
        }
        int count = 0;
        for (int i = 0; i < rows; i++) {
            if (trainable[i]) {
                trainableRows[count++] = i;
            }
        }
        if (count < 2) {
            return;  // nothing to mix with
        }
        if (mixedFeatures.length < count * inputs) {
            mixedFeatures = new float[count * inputs];
        }
        if (mixedLabels.length < count * labelWidth) {
            mixedLabels = new float[count * labelWidth];
        }
        // mixed rows are written to scratch first: every row mixes with its partner's original values
        for (int k = 0; k < count; k++) {
            int i = trainableRows[k];
            int other = random.nextInt(count - 1);
            int j = trainableRows[other >= k ? other + 1 : other];
            double lambda = beta(random, alpha);
            mix(features, i * inputs, j * inputs, inputs, lambda, mixedFeatures, k * inputs);
            mix(labels, i * labelWidth, j * labelWidth, labelWidth, lambda, mixedLabels, k * labelWidth);
        }
        for (int k = 0; k < count; k++) {
            int i = trainableRows[k];
            System.arraycopy(mixedFeatures, k * inputs, features, i * inputs, inputs);
            System.arraycopy(mixedLabels, k * labelWidth, labels, i * labelWidth, labelWidth);
        }
    }

    private static void mix(float[] data, int rowI, int rowJ, int width, double lambda, float[] out, int at) {
        for (int c = 0; c < width; c++) {
            out[at + c] = (float) (lambda * data[rowI + c] + (1 - lambda) * data[rowJ + c]);
        }
    }

    /** A Beta(α, α) draw, as X / (X + Y) with X, Y ~ Gamma(α), computed from their logarithms. */
    static double beta(SplittableRandom random, double alpha) {
        double difference = logGammaVariate(random, alpha) - logGammaVariate(random, alpha);
        if (Double.isNaN(difference)) {
            // both draws underflowed (α vanishingly small): Beta(α, α) tends to a fair choice of 0 or 1
            return random.nextBoolean() ? 1.0 : 0.0;
        }
        return 1.0 / (1.0 + Math.exp(-difference));
    }

    /**
     * The logarithm of a Gamma(shape, 1) draw: Marsaglia and Tsang, "A Simple Method for Generating Gamma
     * Variables", ACM TOMS 26(3), 2000; for shape &lt; 1, Gamma(shape) = Gamma(shape + 1)·U^(1/shape), kept in
     * logarithms because U^(1/shape) underflows for the small shapes mixup uses.
     */
    static double logGammaVariate(SplittableRandom random, double shape) {
        double boost = 0;
        if (shape < 1) {
            boost = Math.log(1.0 - random.nextDouble()) / shape;  // U in (0, 1]
            shape += 1;
        }
        double d = shape - 1.0 / 3.0;
        double c = 1.0 / Math.sqrt(9.0 * d);
        while (true) {
            double z;
            double v;
            do {
                z = random.nextGaussian();
                v = 1.0 + c * z;
            } while (v <= 0);
            v = v * v * v;
            double u = random.nextDouble();
            double zz = z * z;
            if (u < 1.0 - 0.0331 * zz * zz || Math.log(u) < 0.5 * zz + d * (1.0 - v + Math.log(v))) {
                return Math.log(d * v) + boost;
            }
        }
    }

    /** The generator's seed for one step: the seed and the step hashed together, so nearby steps are unrelated. */
    private static long streamSeed(long seed, long step) {
        return mix64(mix64(seed ^ SALT) + step * GOLDEN_GAMMA);
    }

    /** Stafford's variant 13 of the MurmurHash3 finaliser (as in SplittableRandom). */
    private static long mix64(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
