package dev.streamtrain.checkpoint;

import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

import dev.streamtrain.support.HeapBudget;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Arbitrary bytes as the {@code manifest.json} of a real checkpoint (the DL4J release's, from the test resources):
 * {@link Checkpoints#load} either returns the checkpoint with every file verified, or refuses it with an
 * {@link Checkpoints.InvalidCheckpointException} (restore skips it and reports why); nothing else escapes. A
 * manifest only ever makes the reader open files of its own folder (a name such as {@code ../../x} is refused,
 * not followed), and its heap cost is bounded by what it holds, whatever sizes it claims. The kept corpus
 * ({@code CheckpointManifestFuzzTestInputs/load/}) starts from the real manifest. Fuzzing: docs/hardening.md.
 */
class CheckpointManifestFuzzTest {

    private static final String MODEL = "migration";
    private static final long STEP = 25;
    private static final String FOLDER = Checkpoints.folder(MODEL, STEP);

    private final ReadOnlyStore store = new ReadOnlyStore(files());
    private final Checkpoints checkpoints = new Checkpoints(store);

    @FuzzTest(maxDuration = "10s")
    @DictionaryEntries({"\"../", "/", "\"sha256\"", "\"size\"", "\"files\"", "\"format-version\"", "null", "-1",
            "9223372036854775807", "\"manifest.json\""})
    void load(byte[] manifest) throws Exception {
        store.manifest = manifest;
        // the checkpoint's own files are held already (22 KB); reading and hashing them allocates their size again
        HeapBudget.within(manifest.length, 64, 1 << 20, () -> {
            try {
                Checkpoints.Loaded loaded = checkpoints.load(MODEL, STEP);
                assertThat(loaded.manifest().step()).isEqualTo(STEP);
                assertThat(loaded.files().keySet()).isSubsetOf(store.files.keySet().stream()
                        .map(k -> k.substring(FOLDER.length())).toList());
            } catch (Checkpoints.InvalidCheckpointException refused) {
                assertThat(refused.getMessage()).isNotBlank();
            }
            // retention and listing read manifests without verifying them
            checkpoints.manifest(MODEL, STEP);
        });
    }

    private static Map<String, byte[]> files() {
        try {
            Path folder = Path.of(CheckpointManifestFuzzTest.class.getResource("/checkpoints/dl4j-0.1/" + FOLDER)
                    .toURI());
            Map<String, byte[]> files = new TreeMap<>();
            for (String name : List.of(CheckpointCodec.NETWORK, CheckpointCodec.NORMALIZER, CheckpointCodec.SPEC,
                    CheckpointCodec.TRAINER)) {
                files.put(FOLDER + name, Files.readAllBytes(folder.resolve(name)));
            }
            return files;
        } catch (IOException | java.net.URISyntaxException e) {
            throw new IllegalStateException("the test resources hold the checkpoint " + FOLDER, e);
        }
    }

    /** The checkpoint's files in memory, with the manifest under test; fails the test on a read outside them. */
    private static final class ReadOnlyStore implements CheckpointStore {

        final Map<String, byte[]> files;
        byte[] manifest;

        ReadOnlyStore(Map<String, byte[]> files) {
            this.files = files;
        }

        @Override
        public Optional<byte[]> get(String key) {
            if (key.equals(FOLDER + Manifest.FILE_NAME)) {
                return Optional.of(manifest);
            }
            String name = key.startsWith(FOLDER) ? key.substring(FOLDER.length()) : key;
            if (!key.startsWith(FOLDER) || name.isEmpty() || name.contains("/") || name.contains("\\")) {
                throw new AssertionError("the manifest made the reader open '" + key + "', outside " + FOLDER);
            }
            return Optional.ofNullable(files.get(key));
        }

        @Override
        public void put(String key, byte[] data) {
            throw new AssertionError("reading a checkpoint wrote " + key);
        }

        @Override
        public List<String> list(String prefix) {
            return files.keySet().stream().filter(k -> k.startsWith(prefix)).toList();
        }

        @Override
        public void delete(String key) {
            throw new AssertionError("reading a checkpoint deleted " + key);
        }

        @Override
        public String describe() {
            return "memory:";
        }
    }
}
