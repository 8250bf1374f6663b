package dev.streamtrain.serving;

import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import org.jboss.resteasy.reactive.server.ServerRequestFilter;

import java.util.Map;
import java.util.regex.Pattern;

/**
 * Requires the serving token ({@link ServingToken}, when one is configured) on the V2 REST routes that answer with
 * the model: metadata, infer and explain. Health ({@code /v2/health/*}, {@code /v2/models/{model}/ready}) stays open
 * for probes, as do {@code /q/health} and {@code /q/metrics}, which are not under {@code /v2}.
 */
public class ServingAuthFilter {

    // the V2 health routes: server live/ready, and a model's (or one version's) readiness
    private static final Pattern OPEN =
            Pattern.compile("/v2/health/(live|ready)|/v2/models/[^/]+(/versions/[^/]+)?/ready");

    private final ServingToken token;

    ServingAuthFilter(ServingToken token) {
        this.token = token;
    }

    @ServerRequestFilter
    public Response authorize(ContainerRequestContext request) {
        if (!token.required() || !guarded(request.getUriInfo().getPath())) {
            return null;
        }
        if (token.admits(request.getHeaderString(HttpHeaders.AUTHORIZATION), "rest")) {
            return null;
        }
        return Response.status(Response.Status.UNAUTHORIZED).type(MediaType.APPLICATION_JSON)
                .header(HttpHeaders.WWW_AUTHENTICATE, "Bearer realm=\"streamtrain\"")
                .entity(Map.of("error", "inference requires a token: send Authorization: Bearer <token>"
                        + " (a line of streamtrain.serving.token-file)"))
                .build();
    }

    static boolean guarded(String path) {
        return (path.equals("/v2") || path.startsWith("/v2/")) && !OPEN.matcher(path).matches();
    }
}
