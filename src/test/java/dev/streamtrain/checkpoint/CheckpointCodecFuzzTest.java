package dev.streamtrain.checkpoint;

import com.code_intelligence.jazzer.junit.FuzzTest;
import org.bytedeco.javacpp.Pointer;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.streamtrain.model.EngineKind;
import dev.streamtrain.model.spec.ModelSpec;
import dev.streamtrain.model.spec.ModelSpecParser;
import dev.streamtrain.support.HeapBudget;
import dev.streamtrain.training.SavedTraining;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Arbitrary bytes as one file of a real checkpoint (the DL4J release's, from the test resources) whose manifest
 * verified: the input's last byte picks the file ({@code network.zip}, {@code normalizer.bin}, {@code spec.yaml},
 * {@code trainer.json}), the rest is its content. {@link CheckpointCodec#decode} either restores the training run
 * or refuses it with an {@link Checkpoints.InvalidCheckpointException} or a spec mismatch (restore skips it, or
 * refuses to start with the configured spec); nothing else escapes. Neither the heap nor native memory grows by
 * what a length or shape inside the file claims. The kept corpus ({@code CheckpointCodecFuzzTestInputs/decode/})
 * starts from the checkpoint's four files. Fuzzing: docs/hardening.md.
 */
class CheckpointCodecFuzzTest {

    private static final String FOLDER = Checkpoints.folder("migration", 25);
    private static final List<String> FILES = List.of(CheckpointCodec.NETWORK, CheckpointCodec.NORMALIZER,
            CheckpointCodec.SPEC, CheckpointCodec.TRAINER);
    /** Restoring the real network (DL4J's configuration JSON, 20 KB of parameters) takes tens of megabytes once. */
    private static final long NATIVE_BUDGET = 64L << 20;

    private final Map<String, byte[]> real = files();
    private final Checkpoints.Loaded original = new Checkpoints.Loaded(manifest(), real);
    private final ModelSpec spec = ModelSpecParser.parse(new String(real.get(CheckpointCodec.SPEC),
            StandardCharsets.UTF_8));

    @FuzzTest(maxDuration = "10s")
    void decode(byte[] input) throws Exception {
        if (input.length == 0) {
            return;
        }
        String file = FILES.get(Byte.toUnsignedInt(input[input.length - 1]) % FILES.size());
        Map<String, byte[]> files = new LinkedHashMap<>(real);
        files.put(file, Arrays.copyOf(input, input.length - 1));
        Checkpoints.Loaded loaded = new Checkpoints.Loaded(original.manifest(), files);
        long nativeBefore = Pointer.totalBytes();
        HeapBudget.within(input.length, 1024, 256L << 20, () -> {
            try {
                SavedTraining restored = CheckpointCodec.decode(loaded, spec, EngineKind.LEAN);
                assertThat(restored.network().stateFinite()).isTrue();
                assertThat(restored.state()).isNotNull();
            } catch (Checkpoints.InvalidCheckpointException refused) {
                assertThat(refused.getMessage()).isNotBlank();
            } catch (CheckpointCodec.SpecMismatchException otherSpec) {
                assertThat(file).isEqualTo(CheckpointCodec.SPEC);
            }
        });
        assertThat(Pointer.totalBytes() - nativeBefore).as("native memory kept after one restore")
                .isLessThan(NATIVE_BUDGET);
    }

    private static Path folder() {
        try {
            return Path.of(CheckpointCodecFuzzTest.class.getResource("/checkpoints/dl4j-0.1/" + FOLDER).toURI());
        } catch (java.net.URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Map<String, byte[]> files() {
        try {
            Map<String, byte[]> files = new LinkedHashMap<>();
            for (String name : FILES) {
                files.put(name, Files.readAllBytes(folder().resolve(name)));
            }
            return files;
        } catch (IOException e) {
            throw new IllegalStateException("the test resources hold the checkpoint " + FOLDER, e);
        }
    }

    private static Manifest manifest() {
        try {
            return new Checkpoints(new FileCheckpointStore(folder().getParent().getParent())).load("migration", 25)
                    .manifest();
        } catch (IOException e) {
            throw new IllegalStateException("the test resources hold the checkpoint " + FOLDER, e);
        }
    }
}
