package dev.streamtrain.serving;

import com.fasterxml.jackson.core.JsonProcessingException;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

import java.util.Map;

/** Maps failures to the V2 protocol's error body, {@code {"error": "..."}}, in one place. */
public class ErrorMappers {

    @ServerExceptionMapper
    public Response inference(InferenceException e) {
        return error(e.status(), e.getMessage());
    }

    @ServerExceptionMapper
    public Response unreadableJson(JsonProcessingException e) {
        return error(400, "the request body is not valid JSON: " + e.getOriginalMessage());
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

    static Response error(int status, String message) {
        return Response.status(status).type(MediaType.APPLICATION_JSON).entity(Map.of("error", message)).build();
    }
}
