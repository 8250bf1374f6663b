package dev.streamtrain.checkpoint;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Checkpoints on the filesystem store: manifest last, verified on read, corrupt ones skipped and reported. */
class CheckpointsTest {

    @TempDir
    Path root;

    private Checkpoints checkpoints() {
        return new Checkpoints(new FileCheckpointStore(root));
    }

    private static Map<String, byte[]> files(long step) {
        return Map.of("network.zip", ("weights of step " + step).getBytes(StandardCharsets.UTF_8),
                "trainer.json", ("{\"step\": " + step + "}").getBytes(StandardCharsets.UTF_8));
    }

    private void writeSteps(long... steps) throws IOException {
        for (long step : steps) {
            checkpoints().write("digits", step, files(step), Map.of("streamtrain.examples-0", step * 10),
                    Map.of("prequential-loss", 0.5), false);
        }
    }

    private Map<Long, String> skipped(Checkpoints checkpoints, long expectedStep) throws IOException {
        Map<Long, String> skipped = new LinkedHashMap<>();
        var loaded = checkpoints.newestValid("digits", skipped::put).orElseThrow();
        assertThat(loaded.manifest().step()).isEqualTo(expectedStep);
        assertThat(new String(loaded.files().get("network.zip"), StandardCharsets.UTF_8)).isEqualTo("weights of step " + expectedStep);
        return skipped;
    }

    @Test
    void theNewestCheckpointIsLoadedWithItsOffsetsAndVerifiedFiles() throws IOException {
        writeSteps(5, 120, 40);
        Path folder = root.resolve("digits/000000000120");
        assertThat(folder.resolve("manifest.json")).exists();
        assertThat(checkpoints().steps("digits")).containsExactly(120L, 40L, 5L);
        Map<Long, String> skipped = skipped(checkpoints(), 120);
        assertThat(skipped).isEmpty();
        Manifest manifest = checkpoints().load("digits", 120).manifest();
        assertThat(manifest.offsets()).containsEntry("streamtrain.examples-0", 1200L);
        assertThat(manifest.files().get("network.zip").size()).isEqualTo(files(120).get("network.zip").length);
        assertThat(manifest.files().get("network.zip").sha256()).hasSize(64);
    }

    @Test
    void aFlippedByteIsSkippedAndReported() throws IOException {
        writeSteps(1, 2);
        Path file = root.resolve("digits/000000000002/network.zip");
        byte[] bytes = Files.readAllBytes(file);
        bytes[3] ^= 0x01;
        Files.write(file, bytes);
        assertThat(skipped(checkpoints(), 1)).containsOnlyKeys(2L).hasValueSatisfying(
                new org.assertj.core.api.Condition<>(m -> m.contains("SHA-256"), "names the hash"));
    }

    @Test
    void aMissingManifestMeansTheCheckpointDoesNotExist() throws IOException {
        writeSteps(1, 2);
        Files.delete(root.resolve("digits/000000000002/manifest.json"));
        assertThat(skipped(checkpoints(), 1).get(2L)).contains("no manifest");
    }

    @Test
    void aTruncatedFileOrGarbledManifestIsSkipped() throws IOException {
        writeSteps(1, 2, 3);
        Path file = root.resolve("digits/000000000003/trainer.json");
        Files.write(file, java.util.Arrays.copyOf(Files.readAllBytes(file), 4));
        Files.writeString(root.resolve("digits/000000000002/manifest.json"), "{\"format-version\": 1, \"mod");
        Map<Long, String> skipped = skipped(checkpoints(), 1);
        assertThat(skipped.get(3L)).contains("trainer.json").contains("bytes");
        assertThat(skipped.get(2L)).contains("unreadable manifest");
    }

    @Test
    void noValidCheckpointGivesNothing() throws IOException {
        assertThat(checkpoints().newestValid("digits", (s, r) -> { }).isEmpty()).isTrue();
    }

    @Test
    void theStoreKeepsKeysInsideItsRootAndCleansEmptyFolders() throws IOException {
        FileCheckpointStore store = new FileCheckpointStore(root);
        assertThatThrownBy(() -> store.put("../escape", new byte[1])).isInstanceOf(IllegalArgumentException.class);
        store.put("m/000000000001/a.bin", new byte[] {1, 2});
        store.put("m/000000000001/a.bin", new byte[] {3});
        assertThat(store.get("m/000000000001/a.bin")).hasValueSatisfying(b -> assertThat(b).containsExactly(3));
        assertThat(store.list("m/")).containsExactly("m/000000000001/a.bin");
        store.delete("m/000000000001/a.bin");
        assertThat(store.list("")).isEmpty();
        assertThat(root.resolve("m")).doesNotExist();
        assertThat(store.get("m/000000000001/a.bin")).isEmpty();
        assertThat(List.of(store.describe())).allMatch(d -> d.startsWith("file:"));
    }

    @Test
    void retentionKeepsTheNewestAndTheBestAndClearsCutShortWritesButNothingNewer() throws IOException {
        writeSteps(30, 40, 50, 60);
        // an older best is an ordinary checkpoint once a newer one is marked best
        checkpoints().write("digits", 10, files(10), Map.of(), Map.of(), true);
        checkpoints().write("digits", 20, files(20), Map.of(), Map.of(), true);
        FileCheckpointStore store = new FileCheckpointStore(root);
        store.put("digits/000000000045/network.zip", new byte[] {1});
        store.put("digits/000000000070/network.zip", new byte[] {2});

        List<Long> removed = checkpoints().prune("digits", 60, 2);

        assertThat(removed).containsExactlyInAnyOrder(45L, 40L, 30L, 10L);
        assertThat(checkpoints().steps("digits")).containsExactly(70L, 60L, 50L, 20L);
        assertThat(checkpoints().manifest("digits", 20)).hasValueSatisfying(m -> assertThat(m.best()).isTrue());
        assertThat(store.get("digits/000000000070/network.zip")).isPresent();
    }
}
