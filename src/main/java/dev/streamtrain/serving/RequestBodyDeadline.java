package dev.streamtrain.serving;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpVersion;
import io.vertx.ext.web.Router;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.jboss.logging.Logger;

import java.time.Duration;

/**
 * A deadline for receiving an HTTP request's body ({@code streamtrain.serving.request-body-timeout}): a request whose
 * body has not fully arrived that long after its headers gets 408 and its connection is closed. Vert.x reads bodies
 * without a worker thread, and its idle timeout only notices a silent connection: without this, a client that sends
 * one byte a second holds a connection and a growing buffer for as long as it likes (a 10 MiB body for four months).
 * gRPC calls are left to gRPC (their deadlines are the client's, and an HTTP/2 connection carries other calls).
 * Installed as the router's first handler, on the event loop.
 */
@ApplicationScoped
public class RequestBodyDeadline {

    private static final Logger LOG = Logger.getLogger(RequestBodyDeadline.class);
    /**
     * First: ahead of the upload limit and of a body handler, should an extension ever install one (it would read
     * the whole body before the handlers after it run).
     */
    static final int ORDER = Integer.MIN_VALUE;

    void install(@Observes Router router, Vertx vertx, ServingConfig config) {
        Duration timeout = config.requestBodyTimeout();
        if (timeout.isZero() || timeout.isNegative()) {
            return;
        }
        long millis = Math.max(1, timeout.toMillis());
        router.route().order(ORDER).handler(context -> {
            HttpServerRequest request = context.request();
            String type = request.getHeader("content-type");
            if (request.isEnded() || type != null && type.startsWith("application/grpc")) {
                context.next();
                return;
            }
            long timer = vertx.setTimer(millis, id -> expire(request, timeout));
            // called when the response ends or the connection closes first; never the connection's own close handler,
            // which holds one handler only: Quarkus's connection cap counts connections down in it
            context.addEndHandler(done -> vertx.cancelTimer(timer));
            context.next();
        });
    }

    private static void expire(HttpServerRequest request, Duration timeout) {
        if (request.isEnded() || request.response().ended()) {
            return; // the body arrived; the answer may still be computing, which is not this deadline's business
        }
        LOG.debugf("Closing a connection from %s: its request body to %s did not arrive within %s",
                request.remoteAddress(), request.path(), timeout);
        request.response().setStatusCode(408)
                .putHeader("content-type", "application/json")
                .putHeader("connection", "close")
                .end("{\"error\":\"the request body did not arrive within " + timeout.toMillis()
                        + " ms (streamtrain.serving.request-body-timeout)\"}");
        if (request.version() != HttpVersion.HTTP_2) {
            request.connection().close();
        }
    }
}
