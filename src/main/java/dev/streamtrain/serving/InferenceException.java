package dev.streamtrain.serving;

/** A request that cannot be answered, with the HTTP status that says why; the message goes to the client. */
public class InferenceException extends RuntimeException {

    private final int status;

    private InferenceException(int status, String message) {
        super(message, null, false, false);
        this.status = status;
    }

    public static InferenceException badRequest(String message) {
        return new InferenceException(400, message);
    }

    public static InferenceException notFound(String message) {
        return new InferenceException(404, message);
    }

    public static InferenceException unavailable(String message) {
        return new InferenceException(503, message);
    }

    public int status() {
        return status;
    }
}
