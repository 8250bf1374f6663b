package dev.streamtrain.checkpoint;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;

import java.io.IOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.function.BiConsumer;

/**
 * Writes and finds checkpoints in a {@link CheckpointStore}, in the layout {@code <model>/<step, 12 digits>/}:
 * the files first, {@code manifest.json} last, so that a crash mid-write leaves a folder without a manifest,
 * which does not count. Reading verifies every file against the manifest; a corrupt or incomplete checkpoint
 * is skipped and reported, and the newest valid one wins.
 */
public final class Checkpoints {

    private static final ObjectMapper JSON = new ObjectMapper().registerModule(new JavaTimeModule())
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
            .enable(SerializationFeature.INDENT_OUTPUT);

    private final CheckpointStore store;

    public Checkpoints(CheckpointStore store) {
        this.store = store;
    }

    /** A checkpoint read back: its manifest and the verified contents of its files. */
    public record Loaded(Manifest manifest, Map<String, byte[]> files) {
    }

    public static String folder(String model, long step) {
        return model + "/" + String.format("%012d", step) + "/";
    }

    /** Writes the files, then the manifest; returns the manifest. */
    public Manifest write(String model, long step, Map<String, byte[]> files, Map<String, Long> offsets,
                          Map<String, Double> metrics, boolean best) throws IOException {
        String folder = folder(model, step);
        Map<String, Manifest.FileEntry> entries = new LinkedHashMap<>();
        for (var file : files.entrySet()) {
            if (file.getKey().equals(Manifest.FILE_NAME) || file.getKey().contains("/")) {
                throw new IllegalArgumentException("invalid checkpoint file name '" + file.getKey() + "'");
            }
            store.put(folder + file.getKey(), file.getValue());
            entries.put(file.getKey(), new Manifest.FileEntry(sha256(file.getValue()), file.getValue().length));
        }
        Manifest manifest = new Manifest(Manifest.FORMAT_VERSION, model, step, Instant.now(), Map.copyOf(offsets),
                Map.copyOf(metrics), entries, best);
        store.put(folder + Manifest.FILE_NAME, JSON.writeValueAsBytes(manifest));
        return manifest;
    }

    /** Steps that have a folder in the store, newest first (valid or not). */
    public List<Long> steps(String model) throws IOException {
        TreeSet<Long> steps = new TreeSet<>();
        for (String key : store.list(model + "/")) {
            String[] parts = key.substring(model.length() + 1).split("/");
            if (parts.length == 2 && parts[0].matches("\\d{12}")) {
                steps.add(Long.parseLong(parts[0]));
            }
        }
        return new ArrayList<>(steps.descendingSet());
    }

    /**
     * The newest checkpoint of the model whose manifest and files all verify; every newer one that does not
     * is passed to {@code skipped} with the step and the reason.
     */
    public Optional<Loaded> newestValid(String model, BiConsumer<Long, String> skipped) throws IOException {
        for (long step : steps(model)) {
            try {
                return Optional.of(load(model, step));
            } catch (InvalidCheckpointException e) {
                skipped.accept(step, e.getMessage());
            }
        }
        return Optional.empty();
    }

    /** The manifest of a checkpoint, read but not verified against its files; empty if there is none. */
    public Optional<Manifest> manifest(String model, long step) throws IOException {
        Optional<byte[]> raw = store.get(folder(model, step) + Manifest.FILE_NAME);
        if (raw.isEmpty()) {
            return Optional.empty();
        }
        try {
            return Optional.of(JSON.readValue(raw.get(), Manifest.class));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /**
     * Retention, once the checkpoint at {@code durableStep} is durable: keeps the newest {@code keep}
     * checkpoints up to it and the newest one marked best (each is better than those marked before it); deletes the other older ones, and folders without a
     * manifest older than it (writes a crash cut short). Never touches anything newer. Returns the steps removed.
     */
    public List<Long> prune(String model, long durableStep, int keep) throws IOException {
        List<Long> removed = new ArrayList<>();
        int kept = 0;
        boolean keptBest = false;
        for (long step : steps(model)) {
            if (step > durableStep) {
                continue;
            }
            Optional<Manifest> manifest = manifest(model, step);
            if (manifest.isPresent() && manifest.get().best() && !keptBest) {
                // the newest checkpoint marked best is the best so far: older "best" ones are ordinary now
                keptBest = true;
                continue;
            }
            if (manifest.isPresent() && kept < keep) {
                kept++;
                continue;
            }
            delete(model, step);
            removed.add(step);
        }
        return removed;
    }

    /** Deletes a checkpoint: its manifest first, so that a deletion cut short leaves no valid-looking folder. */
    public void delete(String model, long step) throws IOException {
        String folder = folder(model, step);
        store.delete(folder + Manifest.FILE_NAME);
        for (String key : store.list(folder)) {
            store.delete(key);
        }
    }

    /** Reads and verifies one checkpoint; throws {@link InvalidCheckpointException} saying what is wrong. */
    public Loaded load(String model, long step) throws IOException {
        String folder = folder(model, step);
        byte[] raw = store.get(folder + Manifest.FILE_NAME)
                .orElseThrow(() -> new InvalidCheckpointException("no manifest (incomplete write)"));
        Manifest manifest;
        try {
            manifest = JSON.readValue(raw, Manifest.class);
        } catch (IOException e) {
            throw new InvalidCheckpointException("unreadable manifest: " + e.getMessage());
        }
        if (manifest.formatVersion() != Manifest.FORMAT_VERSION || !model.equals(manifest.model())
                || manifest.step() != step || manifest.files() == null) {
            throw new InvalidCheckpointException("the manifest does not describe " + folder);
        }
        Map<String, byte[]> files = new LinkedHashMap<>();
        for (var entry : manifest.files().entrySet()) {
            if (!isFileName(entry.getKey()) || entry.getValue() == null) {
                // a name with a '/' would make the store read another folder's file, or one outside the root
                throw new InvalidCheckpointException("the manifest lists '" + entry.getKey() + "', which is not a file"
                        + " of its folder (or has no size and SHA-256)");
            }
            byte[] data = store.get(folder + entry.getKey())
                    .orElseThrow(() -> new InvalidCheckpointException("file " + entry.getKey() + " is missing"));
            if (data.length != entry.getValue().size()) {
                throw new InvalidCheckpointException("file " + entry.getKey() + " has " + data.length
                        + " bytes, the manifest says " + entry.getValue().size());
            }
            if (!sha256(data).equals(entry.getValue().sha256())) {
                throw new InvalidCheckpointException("file " + entry.getKey() + " does not match its SHA-256");
            }
            files.put(entry.getKey(), data);
        }
        return new Loaded(manifest, files);
    }

    /** A name a checkpoint file may have: what {@link #write} accepts, and no path. */
    private static boolean isFileName(String name) {
        return name != null && !name.isBlank() && !name.equals(Manifest.FILE_NAME) && !name.contains("/")
                && !name.contains("\\") && !name.equals(".") && !name.equals("..");
    }

    static String sha256(byte[] data) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every Java runtime", e);
        }
    }

    /** A checkpoint that must not be restored; the message says why. */
    public static final class InvalidCheckpointException extends IOException {
        InvalidCheckpointException(String message) {
            super(message);
        }
    }
}
