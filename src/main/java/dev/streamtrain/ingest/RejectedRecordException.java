package dev.streamtrain.ingest;

/**
 * A record that cannot be trained on. Its message is the short reason code that goes into the
 * {@code dead-letter-reason} header; its cause's message is the human text of {@code dead-letter-cause}.
 * (SmallRye's dead-letter strategy writes exactly these two.)
 */
public class RejectedRecordException extends RuntimeException {

    private final RejectReason reason;

    public RejectedRecordException(RejectReason reason, String detail) {
        super(reason.code(), new Detail(detail), false, false);
        this.reason = reason;
    }

    public RejectReason reason() {
        return reason;
    }

    public String detail() {
        return getCause().getMessage();
    }

    /** Carries the human-readable explanation as the cause's message; no stack trace is needed. */
    static final class Detail extends RuntimeException {
        Detail(String message) {
            super(message, null, false, false);
        }
    }
}
