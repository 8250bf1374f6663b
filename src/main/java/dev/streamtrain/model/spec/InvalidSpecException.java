package dev.streamtrain.model.spec;

/** A model spec that cannot be used; the message names the field and what is allowed. */
public class InvalidSpecException extends RuntimeException {

    private final String field;

    public InvalidSpecException(String field, String problem) {
        super("model spec field '" + field + "': " + problem);
        this.field = field;
    }

    public String field() {
        return field;
    }
}
