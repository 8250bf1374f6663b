package dev.streamtrain.control;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/** The admin tokens: fixed, from a watched file (rotation without a restart), or generated into that file. */
class AdminTokenTest {

    @TempDir
    Path dir;

    @Test
    void aConfiguredTokenIsTheOnlyOneAndIgnoresTheFile() throws Exception {
        Path file = dir.resolve("admin-token");
        Files.writeString(file, "from-file\n");
        AdminToken token = new AdminToken("configured", file, Duration.ZERO);
        assertThat(token.accepts("Bearer configured")).isTrue();
        assertThat(token.accepts("bearer configured ")).isTrue();
        assertThat(token.accepts("Bearer from-file")).isFalse();
        assertThat(token.accepts("configured")).isFalse();
        assertThat(token.accepts("Basic configured")).isFalse();
        assertThat(token.accepts(null)).isFalse();
        assertThat(token.accepts("Bearer ")).isFalse();
    }

    @Test
    void everyLineOfTheFileIsATokenAndARewriteRotatesThemWithoutARestart() throws Exception {
        Path file = dir.resolve("admin-token");
        Files.writeString(file, "old-token\n");
        AdminToken token = new AdminToken(null, file, Duration.ZERO);
        assertThat(token.accepts("Bearer old-token")).isTrue();
        assertThat(token.accepts("Bearer new-token")).isFalse();

        // rotation: both for a while, then only the new one
        Files.writeString(file, "old-token\n\n  new-token  \n");
        assertThat(token.count()).isEqualTo(2);
        assertThat(token.accepts("Bearer old-token")).isTrue();
        assertThat(token.accepts("Bearer new-token")).isTrue();
        Files.writeString(file, "new-token\n");
        assertThat(token.accepts("Bearer old-token")).isFalse();
        assertThat(token.accepts("Bearer new-token")).isTrue();
        assertThat(token.accepts("Bearer new-token-and-more")).isFalse();
    }

    @Test
    void anEmptiedOrDeletedFileKeepsTheTokensLastRead() throws Exception {
        Path file = dir.resolve("admin-token");
        Files.writeString(file, "kept\n");
        AdminToken token = new AdminToken(null, file, Duration.ZERO);
        Files.writeString(file, "\n");
        assertThat(token.accepts("Bearer kept")).isTrue();
        Files.delete(file);
        assertThat(token.accepts("Bearer kept")).isTrue();
        Files.writeString(file, "back\n");
        assertThat(token.accepts("Bearer kept")).isFalse();
        assertThat(token.accepts("Bearer back")).isTrue();
    }

    @Test
    void theFileIsReadAgainAtMostOncePerRefreshInterval() throws Exception {
        Path file = dir.resolve("admin-token");
        Files.writeString(file, "first\n");
        AdminToken token = new AdminToken(null, file, Duration.ofHours(1));
        Files.writeString(file, "second\n");
        // within the interval the tokens read at start hold
        assertThat(token.accepts("Bearer first")).isTrue();
        assertThat(token.accepts("Bearer second")).isFalse();
    }

    @Test
    void withoutATokenOneIsGeneratedIntoAnOwnerOnlyFileAndKeptAcrossRestarts() throws Exception {
        Path file = dir.resolve("data").resolve("admin-token");
        AdminToken first = new AdminToken(null, file, Duration.ZERO);
        String generated = Files.readString(file).trim();
        assertThat(generated).hasSizeGreaterThanOrEqualTo(32);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
        assertThat(first.accepts("Bearer " + generated)).isTrue();

        AdminToken restarted = new AdminToken(null, file, Duration.ZERO);
        assertThat(restarted.accepts("Bearer " + generated)).isTrue();
        assertThat(Files.readString(file).trim()).isEqualTo(generated);

        Files.delete(file);
        AdminToken fresh = new AdminToken(null, file, Duration.ZERO);
        String other = Files.readString(file).trim();
        assertThat(other).isNotEqualTo(generated);
        assertThat(fresh.accepts("Bearer " + other)).isTrue();
    }
}
