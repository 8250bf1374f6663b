package dev.streamtrain.ingest;

/** Why a record went to the dead-letter topic; the codes are part of the public contract. */
public enum RejectReason {
    MALFORMED("malformed"),
    WRONG_SHAPE("wrong-shape"),
    NON_FINITE("non-finite"),
    BAD_LABEL("bad-label"),
    TOO_LARGE("too-large"),
    /** Finite, but beyond a configured bound: it would overflow the arithmetic or wreck the normaliser. */
    OUT_OF_RANGE("out-of-range"),
    /** A schema-registry framed record whose schema id the registry does not know (or no registry is configured). */
    UNKNOWN_SCHEMA("unknown-schema"),
    /** A schema-registry framed record whose schema has no numeric {@code features} array or no label field. */
    SCHEMA_MISMATCH("schema-mismatch");

    private final String code;

    RejectReason(String code) {
        this.code = code;
    }

    public String code() {
        return code;
    }

    /** The reason with this code; {@code non-finite} (the trainer's own reason) for a code that is none of them. */
    static RejectReason of(String code) {
        for (RejectReason reason : values()) {
            if (reason.code.equals(code)) {
                return reason;
            }
        }
        return NON_FINITE;
    }
}
