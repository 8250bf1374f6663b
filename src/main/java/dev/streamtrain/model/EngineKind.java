package dev.streamtrain.model;

/** The engines a network trains on. */
public enum EngineKind {
    /** streamtrain's own engine ({@code dev.streamtrain.engine.LeanNetwork}): the default; it covers every spec. */
    LEAN("lean"),
    /** DL4J's computation graph: the reference, chosen by name only. */
    DL4J("dl4j");

    public final String label;

    EngineKind(String label) {
        this.label = label;
    }

    /** The kind a configuration value names ({@code lean} or {@code dl4j}). */
    public static EngineKind of(String label) {
        for (EngineKind kind : values()) {
            if (kind.label.equalsIgnoreCase(label.strip())) {
                return kind;
            }
        }
        throw new IllegalArgumentException("unknown engine '" + label + "': expected lean or dl4j");
    }
}
