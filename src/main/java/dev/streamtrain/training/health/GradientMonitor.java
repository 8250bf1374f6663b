package dev.streamtrain.training.health;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.streamtrain.model.LayerHealth;

/**
 * Watches the per-layer gradient signals of sampled steps for the two classic failures of deep networks
 * (Bengio, Simard and Frasconi, 1994; Pascanu, Mikolov and Bengio, 2013):
 * <ul>
 *   <li>exploding: some layer's update:parameter ratio above {@code ratioHigh} for {@code patience} samples in a
 *       row (healthy is about 1e-3, Karpathy's rule of thumb for SGD; adaptive optimizers run higher early on),
 *       or the global gradient norm jumping above {@code jumpFactor} times its running average. The first
 *       {@value #WARM_UP_SAMPLES} samples are not judged. Reported again after every further {@code patience}
 *       samples while it lasts, so that each report can back the learning rate off once more;</li>
 *   <li>vanishing: the first layer's gradient norm below {@code collapseFraction} of the output layer's, or
 *       some layer's update ratio below {@code ratioLow}, for {@code patience} samples in a row. Reported once
 *       per episode: the remedies are structural (normalisation, residual blocks, another activation).</li>
 * </ul>
 * A threshold of 0 switches its test off. Called on the training thread; not thread-safe.
 */
public final class GradientMonitor {

    /** Thresholds; ratios are ‖update‖/‖parameters‖ per layer. */
    public record Settings(double ratioHigh, double ratioLow, int patience, double jumpFactor,
                           double collapseFraction) {
    }

    /** What the monitor remembers between samples (checkpointed with the trainer). */
    public record State(int highRun, int lowRun, double normAverage, long samples, boolean exploding,
                        boolean vanishing) {
        public static final State START = new State(0, 0, Double.NaN, 0, false, false);
    }

    private static final int WARM_UP_SAMPLES = 5;
    private static final double AVERAGE_WEIGHT = 0.1;

    private final Settings settings;
    private int highRun;
    private int lowRun;
    private double normAverage = Double.NaN;
    private long samples;
    private boolean exploding;
    private boolean vanishing;

    public GradientMonitor(Settings settings) {
        this.settings = settings;
    }

    /** Looks at one sampled step's layers (input to output); returns what it found, if anything. */
    public List<Finding> observe(long step, List<LayerHealth> layers) {
        double sumOfSquares = 0;
        LayerHealth highest = null;
        LayerHealth lowest = null;
        for (LayerHealth layer : layers) {
            if (Double.isFinite(layer.gradientNorm())) {
                sumOfSquares += layer.gradientNorm() * layer.gradientNorm();
            }
            if (Double.isFinite(layer.updateRatio())) {
                if (highest == null || layer.updateRatio() > highest.updateRatio()) {
                    highest = layer;
                }
                if (lowest == null || layer.updateRatio() < lowest.updateRatio()) {
                    lowest = layer;
                }
            }
        }
        double norm = Math.sqrt(sumOfSquares);
        samples++;
        boolean jump = settings.jumpFactor() > 0 && samples > WARM_UP_SAMPLES && Double.isFinite(normAverage)
                && norm > settings.jumpFactor() * normAverage;
        if (!jump) {
            // a jump is kept out of the average it is measured against
            normAverage = Double.isNaN(normAverage) ? norm : (1 - AVERAGE_WEIGHT) * normAverage + AVERAGE_WEIGHT * norm;
        }
        // the first samples are not judged: early updates are large by nature (Adam at 0.01 moves the freshly
        // initialised output layer by ~1e-2 of its norm a step), and the norm has no average to jump from yet
        boolean high = samples > WARM_UP_SAMPLES && settings.ratioHigh() > 0 && highest != null
                && highest.updateRatio() > settings.ratioHigh();
        highRun = high ? highRun + 1 : 0;

        List<Finding> findings = new java.util.ArrayList<>(1);
        if (jump || highRun >= settings.patience()) {
            Map<String, Object> detail = new LinkedHashMap<>();
            detail.put("reason", jump ? "gradient-norm-jump" : "update-ratio-high");
            detail.put("gradient-norm", norm);
            detail.put("gradient-norm-average", normAverage);
            if (highest != null) {
                detail.put("layer", highest.layer());
                detail.put("update-ratio", highest.updateRatio());
            }
            detail.put("threshold", jump ? settings.jumpFactor() : settings.ratioHigh());
            findings.add(new Finding("exploding-gradient", detail));
            exploding = true;
            highRun = 0;
        } else if (!high) {
            exploding = false;
        }

        LayerHealth first = layers.isEmpty() ? null : layers.get(0);
        LayerHealth last = layers.isEmpty() ? null : layers.get(layers.size() - 1);
        double collapse = first == null || last.gradientNorm() <= 0 ? Double.NaN
                : first.gradientNorm() / last.gradientNorm();
        boolean collapsed = settings.collapseFraction() > 0 && layers.size() > 1 && collapse < settings.collapseFraction();
        boolean low = settings.ratioLow() > 0 && lowest != null && lowest.updateRatio() < settings.ratioLow();
        lowRun = collapsed || low ? lowRun + 1 : 0;
        if (lowRun >= settings.patience() && !vanishing) {
            Map<String, Object> detail = new LinkedHashMap<>();
            detail.put("reason", collapsed ? "early-gradients-collapsed" : "update-ratio-low");
            detail.put("first-layer", first.layer());
            detail.put("first-layer-gradient-norm", first.gradientNorm());
            detail.put("output-gradient-norm", last.gradientNorm());
            detail.put("first-to-output-norm-ratio", collapse);
            if (lowest != null) {
                detail.put("layer", lowest.layer());
                detail.put("update-ratio", lowest.updateRatio());
            }
            detail.put("threshold", collapsed ? settings.collapseFraction() : settings.ratioLow());
            findings.add(new Finding("vanishing-gradient", detail));
            vanishing = true;
        } else if (lowRun == 0) {
            vanishing = false;
        }
        return findings;
    }

    public boolean exploding() {
        return exploding;
    }

    public boolean vanishing() {
        return vanishing;
    }

    public State state() {
        return new State(highRun, lowRun, normAverage, samples, exploding, vanishing);
    }

    public void restore(State state) {
        highRun = state.highRun();
        lowRun = state.lowRun();
        normAverage = state.normAverage();
        samples = state.samples();
        exploding = state.exploding();
        vanishing = state.vanishing();
    }
}
