package dev.streamtrain.serving;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.exc.InvalidDefinitionException;
import jakarta.ws.rs.Priorities;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import org.jboss.logging.Logger;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

import java.io.CharConversionException;
import java.util.Map;

/** Maps failures to the V2 protocol's error body, {@code {"error": "..."}}, in one place. */
public class ErrorMappers {

    private static final Logger LOG = Logger.getLogger(ErrorMappers.class);

    @ServerExceptionMapper
    public Response inference(InferenceException e) {
        return error(e.status(), e.getMessage());
    }

    @ServerExceptionMapper
    public Response unreadableJson(JsonProcessingException e) {
        return error(400, unreadable(e));
    }

    /** A body whose bytes are not text in the encoding Jackson detected (UTF-8, -16 or -32): the client's mistake. */
    @ServerExceptionMapper
    public Response notText(CharConversionException e) {
        return error(400, notTextMessage(e));
    }

    static String notTextMessage(java.io.IOException e) {
        return "the request body is not valid JSON text: " + e.getMessage();
    }

    /** The message of a body that Jackson cannot read as the request (wherever it is read). */
    static String unreadable(JsonProcessingException e) {
        return "the request body is not a valid V2 JSON request: " + e.getOriginalMessage();
    }

    // Jackson reports a wrong JSON type for an array field (e.g. "shape": "x") as a definition problem, which
    // Quarkus's own mapper would answer with 500; for a request body it is the client's mistake
    @ServerExceptionMapper
    public Response wrongJsonType(InvalidDefinitionException e) {
        return unreadableJson(e);
    }

    @ServerExceptionMapper
    public Response web(WebApplicationException e) {
        if (e.getCause() instanceof JsonProcessingException json) {
            return unreadableJson(json);
        }
        int status = e.getResponse().getStatus();
        String message = e.getMessage() == null ? Response.Status.fromStatusCode(status).getReasonPhrase() : e.getMessage();
        return error(status, message);
    }

    /** Anything else is our fault: a 500 in the protocol's shape, and the stack trace in the log. */
    @ServerExceptionMapper(priority = Priorities.USER + 100)
    public Response unexpected(RuntimeException e) {
        LOG.error("Inference request failed unexpectedly", e);
        return error(500, "internal error: " + e.getClass().getSimpleName());
    }

    static Response error(int status, String message) {
        return Response.status(status).type(MediaType.APPLICATION_JSON).entity(Map.of("error", message)).build();
    }
}
