package dev.streamtrain.checkpoint;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import javax.net.ssl.SSLHandshakeException;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.streamtrain.support.S3ProxyServer;
import dev.streamtrain.support.TestCertificates;

/**
 * The S3 store against an S3 API server (S3Proxy) that speaks HTTPS only, with a certificate from a private test CA:
 * with that CA's PEM file ({@code streamtrain.checkpoint.s3.ca-file}) checkpoints are written and read; with the
 * JDK's CAs or another private CA the TLS handshake fails and the store says so.
 */
class S3HttpsCheckpointStoreTest {

    @TempDir
    static Path dir;

    private static TestCertificates certificates;
    private static S3ProxyServer server;

    @BeforeAll
    static void startServer() {
        certificates = TestCertificates.generate(dir.resolve("ca"));
        server = S3ProxyServer.startHttps(null, certificates);
        server.createBucket("secured");
        System.setProperty("aws.accessKeyId", server.accessKey());
        System.setProperty("aws.secretAccessKey", server.secretKey());
    }

    @AfterAll
    static void stopServer() {
        System.clearProperty("aws.accessKeyId");
        System.clearProperty("aws.secretAccessKey");
        if (server != null) {
            server.close();
        }
    }

    private static S3CheckpointStore open(Optional<Path> caFile) {
        return S3CheckpointStore.open("s3://secured/ckpt", Optional.of(server.endpoint()), Optional.of("us-east-1"),
                true, caFile);
    }

    @Test
    void theStoreTrustsThePrivateCaOfItsPemFile() throws IOException {
        assertThat(server.endpoint()).startsWith("https://");
        byte[] manifest = "{\"step\": 42}".getBytes(StandardCharsets.UTF_8);
        try (S3CheckpointStore store = open(Optional.of(certificates.caPem()))) {
            store.checkAccess();
            store.put("digits/00000042/manifest.json", manifest);
            assertThat(store.get("digits/00000042/manifest.json")).hasValue(manifest);
            assertThat(store.list("digits/")).containsExactly("digits/00000042/manifest.json");
        }
    }

    @Test
    void withoutThePrivateCaTheHandshakeFailsAndTheStoreSaysWhere() {
        TestCertificates other = TestCertificates.generate(dir.resolve("other-ca"));
        for (Optional<Path> caFile : List.of(Optional.<Path>empty(), Optional.of(other.caPem()))) {
            try (S3CheckpointStore store = open(caFile)) {
                assertThatThrownBy(() -> store.put("digits/00000001/manifest.json", new byte[] {1}))
                        .as("CA file %s", caFile)
                        .isInstanceOf(IOException.class)
                        .hasMessageContaining(server.endpoint())
                        .hasStackTraceContaining(SSLHandshakeException.class.getName())
                        .hasStackTraceContaining("PKIX path");
            }
        }
    }

    @Test
    void aCaFileWithoutCertificatesIsRefusedAtOpenNamingTheFile() throws IOException {
        Path empty = Files.writeString(dir.resolve("empty.pem"), "not a certificate\n");
        assertThatThrownBy(() -> open(Optional.of(empty)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("streamtrain.checkpoint.s3.ca-file")
                .hasMessageContaining(empty.toString());
    }
}
