package dev.streamtrain.control;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.ws.rs.HttpMethod;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import org.jboss.resteasy.reactive.server.ServerRequestFilter;

import java.util.Map;

import dev.streamtrain.model.spec.ModelSpec;

/**
 * Requires an admin token on requests that change the trainer's state ({@code POST}, {@code PUT},
 * {@code DELETE} under {@code /v1/training}); reading the status stays open, like the metrics. Refusals are counted
 * by reason ({@code streamtrain_admin_refused_total{reason="missing"|"invalid"}}, so that someone guessing tokens
 * shows on a dashboard), never logged: a wrong token is often a right one for something else.
 */
public class AdminAuthFilter {

    private final AdminToken token;
    private final Counter missing;
    private final Counter invalid;

    AdminAuthFilter(AdminToken token, MeterRegistry registry, ModelSpec spec) {
        this.token = token;
        this.missing = refusals(registry, spec, "missing");
        this.invalid = refusals(registry, spec, "invalid");
    }

    private static Counter refusals(MeterRegistry registry, ModelSpec spec, String reason) {
        return Counter.builder("streamtrain.admin.refused")
                .description("Requests to the state-changing training routes refused for want of a valid admin token")
                .tag("model", spec.name()).tag("reason", reason).register(registry);
    }

    @ServerRequestFilter
    public Response authorize(ContainerRequestContext request) {
        String path = request.getUriInfo().getPath();
        if (!path.startsWith("/v1/training") || request.getMethod().equals(HttpMethod.GET)
                || request.getMethod().equals(HttpMethod.HEAD)) {
            return null;
        }
        String authorization = request.getHeaderString(HttpHeaders.AUTHORIZATION);
        if (token.accepts(authorization)) {
            return null;
        }
        (authorization == null || authorization.isBlank() ? missing : invalid).increment();
        return Response.status(Response.Status.UNAUTHORIZED).type(MediaType.APPLICATION_JSON)
                .header(HttpHeaders.WWW_AUTHENTICATE, "Bearer realm=\"streamtrain\"")
                .entity(Map.of("error", "this route changes the trainer's state: send Authorization: Bearer <token>"
                        + " (streamtrain.admin.token, or a line of the token file)"))
                .build();
    }
}
