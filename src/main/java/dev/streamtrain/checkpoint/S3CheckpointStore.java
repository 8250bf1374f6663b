package dev.streamtrain.checkpoint;

import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.regions.providers.DefaultAwsRegionProviderChain;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3ClientBuilder;
import software.amazon.awssdk.services.s3.model.NoSuchBucketException;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.S3Object;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * A {@link CheckpointStore} in an S3 bucket ({@code s3:} roots), on AWS or any S3 API server: a key is an object
 * under the root's prefix. Called on the checkpoint writer's thread and at start; the S3 client is thread-safe.
 */
public final class S3CheckpointStore implements CheckpointStore {

    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);
    private static final Duration SOCKET_TIMEOUT = Duration.ofSeconds(30);
    // bounds a call with all its retries, so a checkpoint write fails instead of hanging on a dead endpoint
    private static final Duration API_CALL_TIMEOUT = Duration.ofSeconds(60);
    private static final Region FALLBACK_REGION = Region.US_EAST_1;

    private final S3Client client;
    private final S3Root root;
    private final String where;
    private final AutoCloseable credentials;

    /** A store on a client the caller built; closing the store closes the client. */
    public S3CheckpointStore(S3Client client, String bucket, String prefix) {
        this(client, new S3Root(bucket, prefix), () -> { });
    }

    private S3CheckpointStore(S3Client client, S3Root root, AutoCloseable credentials) {
        this.client = client;
        this.root = root;
        this.credentials = credentials;
        var configuration = client.serviceClientConfiguration();
        this.where = configuration.endpointOverride().map(URI::toString)
                .orElse("AWS S3 in " + configuration.region());
    }

    /**
     * A store on {@code s3://bucket/prefix} with the standard AWS credential chain; {@code endpoint} for S3 API
     * servers (MinIO, Ceph, S3Proxy), which usually need {@code pathStyle}. Does not contact the server.
     */
    public static S3CheckpointStore open(String root, Optional<String> endpoint, Optional<String> region,
                                         boolean pathStyle) {
        return open(root, endpoint, region, pathStyle, Optional.empty());
    }

    /**
     * As {@link #open(String, Optional, Optional, boolean)}, trusting for HTTPS only the CA certificates of the PEM
     * file {@code caFile} when it is given (an S3 API server with a certificate from a private CA).
     */
    public static S3CheckpointStore open(String root, Optional<String> endpoint, Optional<String> region,
                                         boolean pathStyle, Optional<Path> caFile) {
        S3Root parsed = S3Root.parse(root);
        UrlConnectionHttpClient.Builder http = UrlConnectionHttpClient.builder()
                .connectionTimeout(CONNECT_TIMEOUT)
                .socketTimeout(SOCKET_TIMEOUT);
        caFile.map(CustomCa::trusting).ifPresent(http::tlsTrustManagersProvider);
        DefaultCredentialsProvider credentials = DefaultCredentialsProvider.builder().build();
        S3ClientBuilder builder = S3Client.builder()
                .httpClientBuilder(http)
                .overrideConfiguration(c -> c.apiCallTimeout(API_CALL_TIMEOUT))
                .credentialsProvider(credentials)
                .region(region.map(Region::of).orElseGet(S3CheckpointStore::defaultRegion))
                .forcePathStyle(pathStyle)
                // the newer default CRC checksums are not implemented by S3Proxy, older MinIO or Ceph
                .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED);
        endpoint.map(URI::create).ifPresent(builder::endpointOverride);
        return new S3CheckpointStore(builder.build(), parsed, credentials);
    }

    @Override
    public void put(String key, byte[] data) throws IOException {
        String objectKey = root.objectKey(key);
        try {
            // a PutObject becomes visible whole or not at all
            client.putObject(b -> b.bucket(root.bucket()).key(objectKey), RequestBody.fromBytes(data));
        } catch (SdkException e) {
            throw failure("write of", objectKey, e);
        }
    }

    @Override
    public Optional<byte[]> get(String key) throws IOException {
        String objectKey = root.objectKey(key);
        try {
            return Optional.of(client.getObjectAsBytes(b -> b.bucket(root.bucket()).key(objectKey))
                    .asByteArrayUnsafe());
        } catch (NoSuchKeyException e) {
            return Optional.empty();
        } catch (SdkException e) {
            throw failure("read of", objectKey, e);
        }
    }

    @Override
    public List<String> list(String prefix) throws IOException {
        String objectPrefix = root.objectPrefix(prefix);
        try {
            // the paginator follows continuation tokens past S3's 1000 keys per response
            return client.listObjectsV2Paginator(b -> b.bucket(root.bucket()).prefix(objectPrefix)).contents()
                    .stream()
                    .map(S3Object::key)
                    .map(root::key)
                    // S3 orders by UTF-8 bytes, the port by Java string order: they differ beyond U+FFFF
                    .sorted()
                    .toList();
        } catch (SdkException e) {
            throw failure("listing of", objectPrefix + "*", e);
        }
    }

    @Override
    public void delete(String key) throws IOException {
        String objectKey = root.objectKey(key);
        try {
            client.deleteObject(b -> b.bucket(root.bucket()).key(objectKey));
        } catch (SdkException e) {
            throw failure("delete of", objectKey, e);
        }
    }

    /** Fails, saying why, when the bucket does not exist or cannot be reached with these credentials. */
    public void checkAccess() throws IOException {
        try {
            client.headBucket(b -> b.bucket(root.bucket()));
        } catch (NoSuchBucketException e) {
            throw new IOException("S3 bucket '" + root.bucket() + "' does not exist at " + where
                    + ": create it, or point the checkpoint root at an existing bucket", e);
        } catch (S3Exception e) {
            throw new IOException("S3 bucket '" + root.bucket() + "' at " + where + " refused access (HTTP "
                    + e.statusCode() + "): check the credentials and the bucket policy", e);
        } catch (SdkException e) {
            throw new IOException("S3 bucket '" + root.bucket() + "' at " + where + " cannot be reached: "
                    + e.getMessage(), e);
        }
    }

    @Override
    public String describe() {
        return client.serviceClientConfiguration().endpointOverride().isPresent() ? root + " at " + where
                : root.toString();
    }

    @Override
    public void close() {
        client.close();
        try {
            credentials.close();
        } catch (Exception e) {
            // nothing is left to use them; a failure to release cached credentials changes nothing
        }
    }

    private IOException failure(String operation, String objectKey, SdkException e) {
        return new IOException("S3 " + operation + " '" + objectKey + "' in bucket '" + root.bucket() + "' at "
                + where + " failed: " + e.getMessage(), e);
    }

    private static Region defaultRegion() {
        try {
            return new DefaultAwsRegionProviderChain().getRegion();
        } catch (SdkClientException e) {
            // S3 API servers ignore the region; on AWS a deployment sets AWS_REGION or passes one
            return FALLBACK_REGION;
        }
    }
}
