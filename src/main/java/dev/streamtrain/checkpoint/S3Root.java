package dev.streamtrain.checkpoint;

import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * Where an {@link S3CheckpointStore} points: a bucket and a prefix of zero or more segments, and the mapping
 * between checkpoint keys and object keys ({@code prefix/key}, or {@code key} without a prefix).
 */
record S3Root(String bucket, String prefix) {

    private static final String SCHEME = "s3://";

    S3Root {
        if (bucket == null || bucket.isBlank() || bucket.contains("/")) {
            throw new IllegalArgumentException("invalid S3 bucket name '" + bucket + "'");
        }
        prefix = normalise(prefix == null ? "" : prefix);
        if (Arrays.stream(prefix.split("/")).anyMatch(s -> s.equals(".") || s.equals(".."))) {
            throw new IllegalArgumentException("S3 prefix '" + prefix + "' has a '.' or '..' segment");
        }
    }

    /** Parses {@code s3://bucket}, {@code s3://bucket/} or {@code s3://bucket/some/prefix/}. */
    static S3Root parse(String root) {
        if (root == null || !root.startsWith(SCHEME)) {
            throw new IllegalArgumentException("S3 checkpoint root '" + root + "' is not of the form s3://bucket/prefix");
        }
        String rest = root.substring(SCHEME.length());
        int slash = rest.indexOf('/');
        return slash < 0 ? new S3Root(rest, "") : new S3Root(rest.substring(0, slash), rest.substring(slash + 1));
    }

    /** The object key of a checkpoint key; rejects keys that would not map back one to one. */
    String objectKey(String key) {
        if (key == null || key.isEmpty() || Arrays.stream(key.split("/", -1)).anyMatch(S3Root::isBadSegment)) {
            throw new IllegalArgumentException("checkpoint key '" + key
                    + "' is not a relative path of plain segments (no leading '/', empty, '.' or '..' segments)");
        }
        return objectPrefix() + key;
    }

    /** What to ask S3 for to find the checkpoint keys that start with {@code keyPrefix}. */
    String objectPrefix(String keyPrefix) {
        return objectPrefix() + keyPrefix;
    }

    /** The checkpoint key of an object listed under this root. */
    String key(String objectKey) {
        return objectKey.substring(objectPrefix().length());
    }

    @Override
    public String toString() {
        return prefix.isEmpty() ? SCHEME + bucket : SCHEME + bucket + "/" + prefix;
    }

    private String objectPrefix() {
        return prefix.isEmpty() ? "" : prefix + "/";
    }

    // "a//b/" and "/a/b" name the same prefix as "a/b": keys stay the same however the root was written
    private static String normalise(String prefix) {
        return Arrays.stream(prefix.split("/")).filter(s -> !s.isEmpty()).collect(Collectors.joining("/"));
    }

    private static boolean isBadSegment(String segment) {
        return segment.isEmpty() || segment.equals(".") || segment.equals("..");
    }
}
