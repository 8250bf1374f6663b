package dev.streamtrain.control;

import jakarta.ws.rs.HttpMethod;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import org.jboss.resteasy.reactive.server.ServerRequestFilter;

import java.util.Map;

/**
 * Requires the admin token on requests that change the trainer's state ({@code POST}, {@code PUT},
 * {@code DELETE} under {@code /v1/training}); reading the status stays open, like the metrics.
 */
public class AdminAuthFilter {

    private final AdminToken token;

    AdminAuthFilter(AdminToken token) {
        this.token = token;
    }

    @ServerRequestFilter
    public Response authorize(ContainerRequestContext request) {
        String path = request.getUriInfo().getPath();
        if (!path.startsWith("/v1/training") || request.getMethod().equals(HttpMethod.GET)
                || request.getMethod().equals(HttpMethod.HEAD)) {
            return null;
        }
        if (token.accepts(request.getHeaderString(HttpHeaders.AUTHORIZATION))) {
            return null;
        }
        return Response.status(Response.Status.UNAUTHORIZED).type(MediaType.APPLICATION_JSON)
                .header(HttpHeaders.WWW_AUTHENTICATE, "Bearer realm=\"streamtrain\"")
                .entity(Map.of("error", "this route changes the trainer's state: send Authorization: Bearer <token>"
                        + " (streamtrain.admin.token, or the generated token file)"))
                .build();
    }
}
