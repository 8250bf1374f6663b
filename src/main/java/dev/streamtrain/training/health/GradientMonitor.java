package dev.streamtrain.training.health;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import dev.streamtrain.model.LayerHealth;

/**
 * Watches the per-layer gradient signals of sampled steps for the two classic failures of deep networks
 * (Bengio, Simard and Frasconi, 1994; Pascanu, Mikolov and Bengio, 2013). Each rule needs a second witness or a
 * run of samples, because one batch proves little: once a model fits, a single misclassified example dominates
 * its batch's gradient, and a converged model legitimately stops moving.
 * <ul>
 *   <li>exploding ({@code update-ratio-high}): some layer's update:parameter ratio above {@code ratioHigh} for
 *       {@code patience} samples in a row while the training loss rises ({@link LossTrend}); healthy is about
 *       1e-3 (Karpathy's rule of thumb for SGD), adaptive optimizers run higher early on, so the first
 *       {@value #WARM_UP_SAMPLES} samples are not judged. Reported again after every further {@code patience}
 *       samples while it lasts, so that each report can back the learning rate off once more;</li>
 *   <li>exploding ({@code update-ratio-spike-after-raise}): the ratio above {@code ratioHigh} on the first sample
 *       after the learning rate was raised (an operator's rate, a recovery): the raise is the cause, and
 *       waiting for the loss would let it wreck the model;</li>
 *   <li>vanishing, for {@code patience} samples in a row: the first layer's gradient norm below
 *       {@code collapseFraction} of the output layer's ({@code early-gradients-collapsed}); a ReLU layer with at
 *       least {@code deadFraction} of its units silent on the whole batch ({@code relu-layer-dead}); some layer's
 *       update ratio below {@code ratioLow} while the loss is still at least {@code learningLossFraction} of
 *       its starting level ({@code update-ratio-low}). Reported once per episode: the remedies are structural
 *       (normalisation, residual blocks, another activation or initialiser).</li>
 * </ul>
 * During a warm restart the ratio thresholds are multiplied by its boost: the higher rate is deliberate. A
 * threshold of 0 switches its test off. Called on the training thread; not thread-safe.
 */
public final class GradientMonitor {

    /**
     * Thresholds; ratios are ‖update‖/‖parameters‖ per layer. {@code lossWindow}, {@code lossRiseFactor} and
     * {@code learningLossFraction} shape the loss witness (see {@link LossTrend}).
     */
    public record Settings(double ratioHigh, double ratioLow, int patience, double collapseFraction,
                           double deadFraction, int lossWindow, double lossRiseFactor, double learningLossFraction) {
    }

    /** What the monitor remembers between samples (checkpointed with the trainer). */
    public record State(int highRun, int lowRun, long samples, boolean exploding, boolean vanishing) {
        public static final State START = new State(0, 0, 0, false, false);
    }

    private static final int WARM_UP_SAMPLES = 5;

    private final Settings settings;
    private int highRun;
    private int lowRun;
    private long samples;
    private boolean exploding;
    private boolean vanishing;

    public GradientMonitor(Settings settings) {
        this.settings = settings;
    }

    /**
     * Looks at one sampled step's layers (input to output); {@code raised}: the first sample since the learning
     * rate went up; {@code boost}: the warm restart's factor in force (1: none). Returns what it found.
     */
    List<Finding> observe(List<LayerHealth> layers, LossTrend.Witness loss, boolean raised, double boost) {
        LayerHealth highest = null;
        LayerHealth lowest = null;
        LayerHealth deadest = null;
        for (LayerHealth layer : layers) {
            if (Double.isFinite(layer.updateRatio())) {
                highest = highest == null || layer.updateRatio() > highest.updateRatio() ? layer : highest;
                lowest = lowest == null || layer.updateRatio() < lowest.updateRatio() ? layer : lowest;
            }
            if (Double.isFinite(layer.deadFraction())
                    && (deadest == null || layer.deadFraction() > deadest.deadFraction())) {
                deadest = layer;
            }
        }
        samples++;
        List<Finding> findings = new ArrayList<>(1);
        exploding(highest, loss, raised, boost).ifPresent(findings::add);
        vanishing(layers, lowest, deadest, loss).ifPresent(findings::add);
        return findings;
    }

    private Optional<Finding> exploding(LayerHealth highest, LossTrend.Witness loss, boolean raised,
                                                  double boost) {
        double threshold = settings.ratioHigh() * Math.max(1, boost);
        boolean high = settings.ratioHigh() > 0 && highest != null && highest.updateRatio() > threshold;
        boolean spike = raised && high;
        highRun = high && samples > WARM_UP_SAMPLES ? highRun + 1 : 0;
        boolean sustained = highRun >= settings.patience() && loss.rising();
        if (!spike && !sustained) {
            exploding &= high;
            return Optional.empty();
        }
        Map<String, Object> detail = new LinkedHashMap<>();
        detail.put("reason", spike ? "update-ratio-spike-after-raise" : "update-ratio-high");
        detail.put("layer", highest.layer());
        detail.put("update-ratio", highest.updateRatio());
        detail.put("threshold", threshold);
        detail.put("gradient-norm", highest.gradientNorm());
        detail.put("recent-loss", loss.recent());
        detail.put("lowest-recent-loss", loss.baseline());
        exploding = true;
        highRun = 0;
        return Optional.of(new Finding("exploding-gradient", detail));
    }

    private Optional<Finding> vanishing(List<LayerHealth> layers, LayerHealth lowest, LayerHealth deadest,
                                                  LossTrend.Witness loss) {
        LayerHealth first = layers.isEmpty() ? null : layers.get(0);
        LayerHealth last = layers.isEmpty() ? null : layers.get(layers.size() - 1);
        double collapse = first == null || !(last.gradientNorm() > 0) ? Double.NaN
                : first.gradientNorm() / last.gradientNorm();
        boolean collapsed = settings.collapseFraction() > 0 && layers.size() > 1
                && collapse < settings.collapseFraction();
        boolean dead = settings.deadFraction() > 0 && deadest != null
                && deadest.deadFraction() >= settings.deadFraction();
        boolean low = settings.ratioLow() > 0 && lowest != null && lowest.updateRatio() < settings.ratioLow()
                && loss.stillHigh();
        lowRun = collapsed || dead || low ? lowRun + 1 : 0;
        if (lowRun == 0) {
            vanishing = false;
        }
        if (lowRun < settings.patience() || vanishing) {
            return Optional.empty();
        }
        Map<String, Object> detail = new LinkedHashMap<>();
        if (dead) {
            detail.put("reason", "relu-layer-dead");
            detail.put("layer", deadest.layer());
            detail.put("dead-fraction", deadest.deadFraction());
            detail.put("threshold", settings.deadFraction());
        } else if (collapsed) {
            detail.put("reason", "early-gradients-collapsed");
            detail.put("first-layer", first.layer());
            detail.put("first-layer-gradient-norm", first.gradientNorm());
            detail.put("output-gradient-norm", last.gradientNorm());
            detail.put("first-to-output-norm-ratio", collapse);
            detail.put("layer", first.layer());
            detail.put("threshold", settings.collapseFraction());
        } else {
            detail.put("reason", "update-ratio-low");
            detail.put("layer", lowest.layer());
            detail.put("update-ratio", lowest.updateRatio());
            detail.put("threshold", settings.ratioLow());
            detail.put("recent-loss", loss.recent());
            detail.put("starting-loss", loss.start());
        }
        vanishing = true;
        return Optional.of(new Finding("vanishing-gradient", detail));
    }

    public boolean exploding() {
        return exploding;
    }

    public boolean vanishing() {
        return vanishing;
    }

    public State state() {
        return new State(highRun, lowRun, samples, exploding, vanishing);
    }

    public void restore(State state) {
        highRun = state.highRun();
        lowRun = state.lowRun();
        samples = state.samples();
        exploding = state.exploding();
        vanishing = state.vanishing();
    }
}
