package dev.streamtrain.model.explain;

/**
 * Where an explanation's path starts: the average input (the normaliser's running mean), zeros, or raw feature
 * values the caller gives. {@code values} are raw (un-normalised) features, or null until the model resolves them.
 */
public record Baseline(Kind kind, float[] values) {

    /** The kinds of baseline, with the names the protocol uses. */
    public enum Kind {
        MEAN("mean"), ZEROS("zeros"), CUSTOM("custom");

        public final String wireName;

        Kind(String wireName) {
            this.wireName = wireName;
        }
    }

    public static Baseline mean() {
        return new Baseline(Kind.MEAN, null);
    }

    public static Baseline zeros() {
        return new Baseline(Kind.ZEROS, null);
    }

    public static Baseline of(float[] values) {
        return new Baseline(Kind.CUSTOM, values.clone());
    }
}
