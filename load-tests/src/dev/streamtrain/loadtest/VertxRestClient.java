package dev.streamtrain.loadtest;

import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;

import java.net.URI;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * POST /v2/models/{model}/infer (or GET /v2/health/live) over a fixed number of HTTP/1.1 keep-alive connections
 * without pipelining (Vert.x on Netty, one event-loop thread): a request that finds every connection busy waits in
 * the pool's queue, and that wait counts in its latency. Unlike the JDK client, it never opens connections in
 * bursts when answers are slow, and its I/O and completion run on one thread instead of a selector thread that
 * hands every answer to an executor.
 */
final class VertxRestClient implements LoadTest.Client {

    private final Vertx vertx;
    private final HttpClient http;
    private final RequestOptions request;
    private final Buffer body;

    VertxRestClient(LoadTest.Options options, String path, String json) {
        URI uri = URI.create(options.url());
        vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1).setWorkerPoolSize(1)
                .setInternalBlockingPoolSize(1));
        http = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(true).setPipelining(false)
                        .setTcpNoDelay(true).setConnectTimeout(5_000),
                new PoolOptions().setHttp1MaxSize(options.connections()));
        boolean live = json == null;
        request = new RequestOptions().setHost(uri.getHost()).setPort(uri.getPort()).setURI(path)
                .setMethod(live ? HttpMethod.GET : HttpMethod.POST).setTimeout(10_000);
        if (!live) {
            request.putHeader("Content-Type", "application/json");
        }
        body = live ? null : Buffer.buffer(json);
    }

    @Override
    public CompletableFuture<Void> send() {
        CompletableFuture<Void> done = new CompletableFuture<>();
        http.request(request)
                .compose(r -> body == null ? r.send() : r.send(body))
                .compose(response -> {
                    if (response.statusCode() != 200) {
                        return io.vertx.core.Future.failedFuture("HTTP " + response.statusCode());
                    }
                    return response.body();
                })
                .onComplete(ar -> {
                    if (ar.succeeded()) {
                        done.complete(null);
                    } else {
                        done.completeExceptionally(ar.cause());
                    }
                });
        return done;
    }

    @Override
    public void close() {
        try {
            http.close().toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
            vertx.close().toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
        } catch (Exception e) {
            // closing at exit: nothing to keep
        }
    }
}
