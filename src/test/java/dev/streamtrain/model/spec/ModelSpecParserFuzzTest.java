package dev.streamtrain.model.spec;

import com.code_intelligence.jazzer.junit.FuzzTest;

import java.nio.charset.StandardCharsets;

import dev.streamtrain.support.HeapBudget;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Arbitrary bytes as a model spec file (YAML or JSON): the parser returns a spec whose fields are within their
 * documented ranges, or refuses it with an {@link InvalidSpecException} that names a field; nothing else escapes
 * (a spec is read at start, and from every checkpoint restored), and its heap cost is bounded by the file's size.
 * The kept corpus ({@code ModelSpecParserFuzzTestInputs/parse/}) starts from every spec file in the repository.
 * Fuzzing: docs/hardening.md.
 */
class ModelSpecParserFuzzTest {

    @FuzzTest(maxDuration = "10s")
    void parse(byte[] file) throws Exception {
        String text = new String(file, StandardCharsets.UTF_8);
        // SnakeYAML's scanner and Jackson's tree: tens of bytes per byte of the file, plus the parser's buffers
        HeapBudget.within(file.length, 256, 4 << 20, () -> {
            ModelSpec spec;
            try {
                spec = ModelSpecParser.parse(text);
            } catch (InvalidSpecException refused) {
                assertThat(refused.field()).isNotBlank();
                return;
            }
            assertThat(spec.inputs()).isPositive();
            assertThat(spec.outputs()).isPositive();
            assertThat(spec.batchSize()).isBetween(1, 65536);
            assertThat(spec.name()).matches("[a-z0-9][a-z0-9._-]{0,62}");
        });
    }
}
