package dev.streamtrain.training.health;

/**
 * A concept-drift detector fed with the model's prequential (test-then-train) error, one value per example: 0 or
 * 1 for classification, the loss for regression. It signals drift when that error has gone up significantly; a
 * decrease (the model is learning) is never signalled. Not thread-safe: fed from the training thread only.
 */
public interface DriftDetector {

    /**
     * Adds one observation. Returns true when the detector signals drift, a significant increase of the mean;
     * after a signal it starts afresh, keeping only the recent part of the stream as its algorithm prescribes.
     *
     * @throws IllegalArgumentException if the value is NaN or infinite, which would spoil every later estimate
     */
    boolean add(double value);

    /** The estimated mean of the current window, or since the last reset; NaN before any observation. */
    double mean();

    /** Observations in the current window, or since the last reset. */
    long width();

    /** "adwin" or "page-hinkley". */
    String name();
}
