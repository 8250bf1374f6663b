package dev.streamtrain.support;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.util.Map;

/**
 * A real S3 API server (S3Proxy in its own JVM, objects on disk so that it can be stopped and started again)
 * per test class, with a bucket, and the service's checkpoint root pointed at it. The credentials reach the
 * AWS SDK's default chain as the {@code aws.accessKeyId}/{@code aws.secretAccessKey} system properties.
 */
public class S3ProxyResource implements QuarkusTestResourceLifecycleManager {

    public static final String BUCKET = "checkpoints";
    private static volatile S3ProxyServer server;

    /** The running server, for tests that stop and restart it. */
    public static S3ProxyServer server() {
        return server;
    }

    @Override
    public Map<String, String> start() {
        try {
            server = S3ProxyServer.start(Files.createTempDirectory("s3proxy-"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        server.createBucket(BUCKET);
        System.setProperty("aws.accessKeyId", server.accessKey());
        System.setProperty("aws.secretAccessKey", server.secretKey());
        return Map.of(
                "streamtrain.checkpoint.root", "s3://" + BUCKET + "/test",
                "streamtrain.checkpoint.s3.endpoint", server.endpoint(),
                "streamtrain.checkpoint.s3.path-style", "true",
                "streamtrain.checkpoint.s3.region", "us-east-1",
                "streamtrain.checkpoint.retry-backoff", "200ms",
                "streamtrain.checkpoint.retry-backoff-max", "1s");
    }

    @Override
    public void stop() {
        if (server != null) {
            server.close();
            server = null;
        }
        System.clearProperty("aws.accessKeyId");
        System.clearProperty("aws.secretAccessKey");
    }

}
