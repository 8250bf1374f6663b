package dev.streamtrain.model.explain;

/** An explanation asked for with arguments the model cannot honour; the message names the argument and what is allowed. */
public final class InvalidExplanationException extends IllegalArgumentException {

    InvalidExplanationException(String message) {
        super(message);
    }
}
