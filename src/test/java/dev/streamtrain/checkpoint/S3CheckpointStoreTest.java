package dev.streamtrain.checkpoint;

import dev.streamtrain.support.S3ProxyServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.S3Object;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The port's contract on the S3 adapter against a real S3 API server (S3Proxy, in memory, one per class), under a
 * two-segment prefix in a fresh bucket per test; then what only S3 has: prefixes, paging, access checks, outages.
 */
class S3CheckpointStoreTest extends CheckpointStoreContract {

    private static final String PREFIX = "checkpoints/test";
    private static final AtomicInteger BUCKETS = new AtomicInteger();

    private static S3ProxyServer server;
    private static S3Client admin;

    private String bucket;
    private S3CheckpointStore store;

    @BeforeAll
    static void startServer() {
        server = S3ProxyServer.start(null);
        admin = server.client();
        // what DefaultCredentialsProvider reads first; this class runs in a JVM of its own
        System.setProperty("aws.accessKeyId", server.accessKey());
        System.setProperty("aws.secretAccessKey", server.secretKey());
    }

    @AfterAll
    static void stopServer() {
        System.clearProperty("aws.accessKeyId");
        System.clearProperty("aws.secretAccessKey");
        if (admin != null) {
            admin.close();
        }
        if (server != null) {
            server.close();
        }
    }

    @BeforeEach
    void openStore() {
        bucket = "checkpoints-" + BUCKETS.incrementAndGet();
        admin.createBucket(b -> b.bucket(bucket));
        store = new S3CheckpointStore(server.client(), bucket, PREFIX);
    }

    @AfterEach
    void closeStore() {
        store.close();
    }

    @Override
    protected CheckpointStore store() {
        return store;
    }

    private List<String> objectKeys() {
        return admin.listObjectsV2Paginator(b -> b.bucket(bucket)).contents().stream().map(S3Object::key).toList();
    }

    @Test
    void openParsesTheRootAndKeysLandUnderItsPrefix() throws IOException {
        try (S3CheckpointStore opened = S3CheckpointStore.open("s3://" + bucket + "//models/prod/eu/",
                Optional.of(server.endpoint()), Optional.empty(), true)) {
            assertThat(opened.describe()).isEqualTo("s3://" + bucket + "/models/prod/eu at " + server.endpoint());
            opened.checkAccess();
            opened.put("digits/000000000001/network.zip", new byte[] {1, 2, 3});
            // neighbours of the prefix that must not show up in its listings
            admin.putObject(b -> b.bucket(bucket).key("models/prod/eu2/digits/x"), RequestBody.fromBytes(new byte[1]));
            admin.putObject(b -> b.bucket(bucket).key("models/prod/digits/y"), RequestBody.fromBytes(new byte[1]));
            assertThat(objectKeys()).contains("models/prod/eu/digits/000000000001/network.zip");
            assertThat(opened.list("")).containsExactly("digits/000000000001/network.zip");
            assertThat(opened.list("digits/")).containsExactly("digits/000000000001/network.zip");
            assertThat(opened.get("digits/000000000001/network.zip")).hasValueSatisfying(b -> assertThat(b).containsExactly(1, 2, 3));
        }
    }

    @Test
    void withoutAPrefixKeysAreObjectKeys() throws IOException {
        try (S3CheckpointStore bare = S3CheckpointStore.open("s3://" + bucket, Optional.of(server.endpoint()),
                Optional.of("eu-west-1"), true)) {
            assertThat(bare.describe()).isEqualTo("s3://" + bucket + " at " + server.endpoint());
            bare.put("digits/000000000001/manifest.json", new byte[] {9});
            assertThat(objectKeys()).containsExactly("digits/000000000001/manifest.json");
            assertThat(bare.list("digits/")).containsExactly("digits/000000000001/manifest.json");
        }
    }

    @Test
    void listFollowsPagesPastAThousandKeys() throws Exception {
        List<String> expected = new ArrayList<>();
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<?>> writes = new ArrayList<>();
            for (int i = 0; i < 1100; i++) {
                String key = "m/" + String.format("%012d", i) + "/manifest.json";
                expected.add(key);
                writes.add(pool.submit(() -> {
                    store.put(key, new byte[] {1});
                    return null;
                }));
            }
            for (Future<?> write : writes) {
                write.get(60, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        // one response does not hold them all, so the listing below needed more than one page
        assertThat(admin.listObjectsV2(b -> b.bucket(bucket)).isTruncated()).isTrue();
        assertThat(store.list("m/")).containsExactlyElementsOf(expected);
        assertThat(store.list("m/00000000100")).hasSize(10);
    }

    @Test
    void checkAccessNamesAMissingBucket() {
        try (S3CheckpointStore missing = new S3CheckpointStore(server.client(), "no-such-bucket", PREFIX)) {
            assertThatThrownBy(missing::checkAccess).isInstanceOf(IOException.class)
                    .hasMessageContaining("'no-such-bucket' does not exist at " + server.endpoint());
            assertThatThrownBy(() -> missing.put("m/1/x", new byte[1])).isInstanceOf(IOException.class)
                    .hasMessageContaining("no-such-bucket").hasMessageContaining(PREFIX + "/m/1/x");
        }
    }

    @Test
    void checkAccessNamesRefusedCredentials() {
        S3Client intruder = S3Client.builder()
                .httpClientBuilder(UrlConnectionHttpClient.builder())
                .endpointOverride(URI.create(server.endpoint()))
                .forcePathStyle(true)
                .region(Region.US_EAST_1)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("streamtrain", "wrong")))
                .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
                .build();
        try (S3CheckpointStore refused = new S3CheckpointStore(intruder, bucket, PREFIX)) {
            assertThatThrownBy(refused::checkAccess).isInstanceOf(IOException.class)
                    .hasMessageContaining("refused access (HTTP 403)").hasMessageContaining(bucket);
        }
    }

    @Test
    void aStoppedServerFailsPutsPromptlyAndARestartedOneServesTheSameObjects(@TempDir Path data) throws IOException {
        try (S3ProxyServer onDisk = S3ProxyServer.start(data)) {
            onDisk.createBucket("durable");
            try (S3CheckpointStore durable = S3CheckpointStore.open("s3://durable/ckpt", Optional.of(onDisk.endpoint()),
                    Optional.of("us-east-1"), true)) {
                durable.put("m/000000000001/network.zip", new byte[] {1});
                onDisk.stop();
                long start = System.nanoTime();
                assertThatThrownBy(() -> durable.put("m/000000000002/network.zip", new byte[] {2}))
                        .isInstanceOf(IOException.class)
                        .hasMessageContaining(onDisk.endpoint())
                        .hasMessageContaining("durable");
                assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(20));
                onDisk.restart();
                durable.put("m/000000000002/network.zip", new byte[] {2});
                assertThat(durable.list("m/")).containsExactly("m/000000000001/network.zip", "m/000000000002/network.zip");
                assertThat(durable.get("m/000000000001/network.zip")).hasValueSatisfying(b -> assertThat(b).containsExactly(1));
            }
        }
    }

    @Test
    void aFrozenServerFailsCallsWithinTheApiCallTimeout() throws IOException {
        S3Client impatient = S3Client.builder()
                .httpClientBuilder(UrlConnectionHttpClient.builder().socketTimeout(Duration.ofSeconds(1)))
                .overrideConfiguration(c -> c.apiCallTimeout(Duration.ofSeconds(3)))
                .endpointOverride(URI.create(server.endpoint()))
                .forcePathStyle(true)
                .region(Region.US_EAST_1)
                .credentialsProvider(StaticCredentialsProvider.create(
                        AwsBasicCredentials.create(server.accessKey(), server.secretKey())))
                .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
                .build();
        try (S3CheckpointStore frozen = new S3CheckpointStore(impatient, bucket, PREFIX)) {
            server.pause();
            long start = System.nanoTime();
            try {
                assertThatThrownBy(() -> frozen.get("m/000000000001/network.zip")).isInstanceOf(IOException.class)
                        .hasMessageContaining(server.endpoint());
            } finally {
                server.resume();
            }
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
            frozen.put("m/000000000001/network.zip", new byte[] {4});
            assertThat(frozen.get("m/000000000001/network.zip")).hasValueSatisfying(b -> assertThat(b).containsExactly(4));
        }
    }
}
