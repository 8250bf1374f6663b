package dev.streamtrain.training.health;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Feeds the configured {@link DriftDetector} with the prequential error of every trained example and counts
 * its signals. Its state is one detector's, so a restored run detects exactly as an uninterrupted one would.
 */
public final class DriftMonitor {

    /** The detector's state (one of the two is set) and the signals so far. */
    public record State(Adwin.State adwin, PageHinkley.State pageHinkley, long detections) {
    }

    private DriftDetector detector;
    private long detections;

    private DriftMonitor(DriftDetector detector) {
        this.detector = detector;
    }

    /** The monitor the settings ask for; null for {@code detector: none}. */
    static DriftMonitor of(HealthSettings.Drift settings) {
        return switch (settings.detector()) {
            case "adwin" -> new DriftMonitor(new Adwin(settings.adwinDelta()));
            case "page-hinkley" -> new DriftMonitor(new PageHinkley(settings.phMinInstances(), settings.phDelta(),
                    settings.phLambda(), settings.phAlpha()));
            default -> null;
        };
    }

    /** One example's error; true when the detector signals drift. A non-finite error is not an observation. */
    boolean add(double error) {
        if (!Double.isFinite(error)) {
            return false;
        }
        if (detector.add(error)) {
            detections++;
            return true;
        }
        return false;
    }

    double mean() {
        return detector.mean();
    }

    Map<String, Object> describe() {
        Map<String, Object> detail = new LinkedHashMap<>();
        detail.put("detector", detector.name());
        detail.put("error-mean", detector.mean());
        detail.put("window", detector.width());
        detail.put("detections", detections);
        return detail;
    }

    State state() {
        return new State(detector instanceof Adwin a ? a.state() : null,
                detector instanceof PageHinkley p ? p.state() : null, detections);
    }

    /** Continues from a saved state of the same detector; a state of the other one (changed settings) is ignored. */
    void restore(State state) {
        if (detector instanceof Adwin && state.adwin() != null) {
            detector = Adwin.restore(state.adwin());
            detections = state.detections();
        } else if (detector instanceof PageHinkley && state.pageHinkley() != null) {
            detector = PageHinkley.restore(state.pageHinkley());
            detections = state.detections();
        }
    }
}
