package dev.streamtrain.engine;

/** The spec uses something the lean engine does not compute yet; the message says what. */
public final class UnsupportedSpecException extends RuntimeException {

    public UnsupportedSpecException(String spec, String reason) {
        super("the lean engine cannot run spec '" + spec + "': " + reason);
    }
}
