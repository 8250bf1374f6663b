package dev.streamtrain.checkpoint;

import com.fasterxml.jackson.annotation.JsonProperty;

import java.time.Instant;
import java.util.Map;

/**
 * {@code manifest.json}, written last into a checkpoint folder: what the checkpoint is (model, step, time),
 * the per-partition offsets its model has trained through, a metrics summary, and the SHA-256 and size of
 * every other file, and whether it is marked best (retention keeps those). A checkpoint without a valid
 * manifest does not exist.
 */
public record Manifest(
        @JsonProperty("format-version") int formatVersion,
        String model,
        long step,
        Instant time,
        Map<String, Long> offsets,
        Map<String, Double> metrics,
        Map<String, FileEntry> files,
        boolean best) {

    public static final int FORMAT_VERSION = 1;
    public static final String FILE_NAME = "manifest.json";

    /** One file of the checkpoint: its SHA-256 (hex) and size in bytes. */
    public record FileEntry(String sha256, long size) {
    }
}
