package dev.streamtrain.serving;

import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.quarkus.grpc.GlobalInterceptor;
import jakarta.enterprise.context.ApplicationScoped;

import java.util.Set;

/**
 * Requires the serving token ({@link ServingToken}, when one is configured) as the gRPC metadata
 * {@code authorization: Bearer <token>} on every RPC but the health ones (ServerLive, ServerReady, ModelReady);
 * refuses with {@code UNAUTHENTICATED} before the request message is read.
 */
@GlobalInterceptor
@ApplicationScoped
public class GrpcTokenInterceptor implements ServerInterceptor {

    static final Metadata.Key<String> AUTHORIZATION =
            Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
    private static final Set<String> OPEN = Set.of("ServerLive", "ServerReady", "ModelReady");

    private final ServingToken token;

    GrpcTokenInterceptor(ServingToken token) {
        this.token = token;
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                                                       ServerCallHandler<Q, R> next) {
        if (!token.required() || OPEN.contains(call.getMethodDescriptor().getBareMethodName())
                || token.admits(headers.get(AUTHORIZATION), "grpc")) {
            return next.startCall(call, headers);
        }
        call.close(Status.UNAUTHENTICATED.withDescription("inference requires a token: send the metadata"
                + " authorization: Bearer <token> (a line of streamtrain.serving.token-file)"), new Metadata());
        return new ServerCall.Listener<>() { };
    }
}
