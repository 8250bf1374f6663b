package dev.streamtrain.support;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.UUID;

/**
 * Serving secured as a deployment would secure it: HTTPS only (REST and the gRPC service on the same port) with a
 * certificate signed by a test CA, through Quarkus's TLS registry, and inference behind a watched token file.
 */
public class ServingTlsResource implements QuarkusTestResourceLifecycleManager {

    public static final String TOKEN = "serving-token-one";
    private static volatile TestCertificates certificates;
    private static volatile Path tokenFile;

    public static TestCertificates certificates() {
        return certificates;
    }

    public static Path tokenFile() {
        return tokenFile;
    }

    @Override
    public Map<String, String> start() {
        Path dir = Path.of("target", "tls", UUID.randomUUID().toString()).toAbsolutePath();
        certificates = TestCertificates.generate(dir);
        tokenFile = dir.resolve("serving-token");
        try {
            Files.writeString(tokenFile, TOKEN + "\n");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return Map.of(
                "quarkus.tls.key-store.p12.path", certificates.serverKeystore().toString(),
                "quarkus.tls.key-store.p12.password", certificates.password(),
                "quarkus.http.insecure-requests", "disabled",
                "quarkus.http.test-ssl-port", "0",
                "streamtrain.serving.token-file", tokenFile.toString());
    }

    @Override
    public void stop() {
        certificates = null;
        tokenFile = null;
    }
}
