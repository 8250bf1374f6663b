package dev.streamtrain.training;

import org.jboss.logging.Logger;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

import dev.streamtrain.model.BatchScore;
import dev.streamtrain.model.MiniBatch;
import dev.streamtrain.model.ModelSnapshot;
import dev.streamtrain.model.Network;

/**
 * Decides when the model being trained replaces the one that serves: every {@code everySteps} steps or
 * {@code interval}, a candidate snapshot is taken and published unless
 * <ul>
 *   <li>its outputs are not finite on the probe rows — the most recent held-out rows, or the last mini-batch
 *       when none are held out (finite weights can still overflow): never served, whatever the rule;</li>
 *   <li>the promotion rule ({@link Promotion}, {@code not-worse}) finds it worse than the serving one on the recent
 *       held-out rows.</li>
 * </ul>
 * (A step that exploded never gets here: the {@link StepGuard} has rolled it back before anything is published.)
 * A withheld candidate leaves the last good snapshot serving (readiness stays up) and raises one
 * {@code snapshot-withheld} event per run of refusals, saying why. Used on the training thread.
 */
final class PublicationGate {

    private static final Logger LOG = Logger.getLogger(PublicationGate.class);

    /** How often to publish, and the promotion rule. */
    record Settings(int everySteps, Duration interval, Promotion promotion) {
    }

    private final ServedModel served;
    private final Settings settings;
    private final TrainingEvents events;
    private final HeldOutWindow window;
    // the last mini-batch as it came: the probe when no rows are held out
    private final MiniBatch lastBatch;
    // promotion not-worse: a private copy of the serving snapshot (scoring the served one would hold requests up)
    private ModelSnapshot champion;
    private String withholding;
    private volatile long withheld;
    private long publishedStep = -1;
    private long publishedAtNanos = System.nanoTime();

    PublicationGate(ServedModel served, Settings settings, TrainingEvents events, int batchSize, int inputs,
                    int labelWidth) {
        this.served = served;
        this.settings = settings;
        this.events = events;
        int window = settings.promotion().notWorse() ? settings.promotion().window() : batchSize;
        this.window = new HeldOutWindow(Math.max(1, window), inputs, labelWidth);
        this.lastBatch = new MiniBatch(batchSize, inputs, labelWidth);
    }

    /** Keeps a trained mini-batch's rows (raw, as they came) as the probe and the held-out window. */
    void observe(MiniBatch raw) {
        window.add(raw);
        lastBatch.copyFrom(raw);
    }

    boolean due(long step) {
        return step - publishedStep >= settings.everySteps()
                || System.nanoTime() - publishedAtNanos >= settings.interval().toNanos();
    }

    boolean behind(long step) {
        return publishedStep != step;
    }

    /**
     * Publishes the network at {@code step} unless the gate withholds it; {@code force} (the start, an operator's
     * rollback) skips the promotion rule, never the finite-output check. Only call it with a finite network state.
     */
    void publish(Network network, long step, boolean force) {
        ModelSnapshot candidate = network.snapshot(step);
        MiniBatch probe = window.size() > 0 ? window.asBatch() : lastBatch;
        if (!candidate.outputsFinite(probe)) {
            withhold(step, "non-finite-outputs", Map.of("probe-rows", probe.size(),
                    "probe", window.size() > 0 ? "recent held-out rows" : "the last mini-batch"));
            return;
        }
        Promotion promotion = settings.promotion();
        if (!force && promotion.notWorse() && champion != null) {
            if (window.size() < promotion.minExamples()) {
                deferred(step);
                return;
            }
            MiniBatch recent = window.asBatch();
            double loss = meanLoss(candidate.scoreHeldOut(recent));
            double serving = meanLoss(champion.scoreHeldOut(recent));
            if (!promotion.allows(loss, serving)) {
                withhold(step, "worse-than-serving", Map.of("candidate-holdout-loss", jsonNumber(loss),
                        "serving-holdout-loss", jsonNumber(serving), "serving-version", champion.version(),
                        "examples", recent.size(), "tolerance", promotion.tolerance()));
                return;
            }
        }
        if (withholding != null) {
            LOG.infof("Model %s: publishing again at step %d (withheld since the last serving version %s: %s)",
                    network.spec().name(), step, served.current().map(ModelSnapshot::version).orElse("none"),
                    withholding);
            withholding = null;
        }
        served.publish(candidate);
        champion = promotion.notWorse() ? network.snapshot(step) : null;
        deferred(step);
    }

    private void withhold(long step, String reason, Map<String, Object> figures) {
        withheld++;
        deferred(step);
        if (reason.equals(withholding)) {
            return;
        }
        withholding = reason;
        Map<String, Object> detail = new LinkedHashMap<>();
        detail.put("reason", reason);
        detail.putAll(figures);
        detail.putIfAbsent("serving-version", served.current().map(ModelSnapshot::version).orElse("none"));
        events.publish("snapshot-withheld", step, detail);
    }

    // decided (or not yet decidable) for this step: asked again at the next publish time, not at every step
    private void deferred(long step) {
        publishedStep = step;
        publishedAtNanos = System.nanoTime();
    }

    /** Candidates withheld so far (by either test). */
    long withheld() {
        return withheld;
    }

    private static double meanLoss(BatchScore score) {
        return score.weightSum() > 0 ? score.lossSum() / score.weightSum() : Double.NaN;
    }

    // JSON has no NaN
    private static Object jsonNumber(double value) {
        return Double.isFinite(value) ? value : "not a number";
    }
}
