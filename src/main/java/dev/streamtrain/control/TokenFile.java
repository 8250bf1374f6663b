package dev.streamtrain.control;

import org.jboss.logging.Logger;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;

/**
 * Bearer tokens kept in a file, one per non-blank line, read again when the file changes (checked at most once per
 * refresh interval), so that tokens rotate without a restart: add the new line, move the clients over, remove the old
 * line. A Kubernetes Secret mounted as a volume is such a file (the kubelet swaps it in place when the Secret
 * changes). A file that disappears or becomes empty keeps the tokens last read (a rotation half done must not lock
 * everyone out), with a warning. Shared by the admin token and the serving token; tokens are never logged.
 */
public final class TokenFile {

    private static final Logger LOG = Logger.getLogger(TokenFile.class);

    private final Path file;
    private final String purpose;
    private final long refreshNanos;
    private volatile List<byte[]> tokens;
    private long readAt;
    private String content;

    /** Reads {@code file} now (no tokens when it is absent or empty); {@code purpose} names it in log messages. */
    public TokenFile(Path file, Duration refresh, String purpose) {
        this.file = file;
        this.purpose = purpose;
        this.refreshNanos = refresh.toNanos();
        this.content = read(file, purpose);
        this.tokens = content == null ? List.of() : parse(content);
        this.readAt = System.nanoTime();
    }

    public Path path() {
        return file;
    }

    /** The tokens accepted now, after reading the file again if it may have changed. */
    public List<byte[]> current() {
        synchronized (this) {
            long now = System.nanoTime();
            if (now - readAt >= refreshNanos) {
                readAt = now;
                refresh();
            }
            return tokens;
        }
    }

    /**
     * Whether an {@code Authorization} header value ({@code Bearer <token>}, the scheme in any case) carries one of
     * {@code tokens}, compared in constant time against every one whichever matches.
     */
    public static boolean matches(String authorization, List<byte[]> tokens) {
        if (authorization == null || !authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return false;
        }
        byte[] offered = authorization.substring(7).trim().getBytes(StandardCharsets.UTF_8);
        boolean accepted = false;
        for (byte[] token : tokens) {
            // no early exit: the time taken does not say which token matched
            accepted |= MessageDigest.isEqual(offered, token);
        }
        return accepted;
    }

    private void refresh() {
        String read = read(file, purpose);
        if (read == null || read.equals(content)) {
            return;
        }
        List<byte[]> found = parse(read);
        content = read;
        if (found.isEmpty()) {
            LOG.warnf("The %s %s holds no token: the %d token(s) read before stay accepted", purpose,
                    file.toAbsolutePath(), tokens.size());
            return;
        }
        tokens = found;
        LOG.infof("Tokens changed in the %s %s: %d accepted now", purpose, file.toAbsolutePath(), found.size());
    }

    static List<byte[]> parse(String content) {
        return Arrays.stream(content.split("\\R")).map(String::trim).filter(line -> !line.isEmpty())
                .map(line -> line.getBytes(StandardCharsets.UTF_8)).toList();
    }

    private static String read(Path file, String purpose) {
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            return null;
        } catch (IOException | RuntimeException e) {
            LOG.warnf("The %s %s cannot be read (%s): the tokens read before stay accepted", purpose,
                    file.toAbsolutePath(), e.getMessage());
            return null;
        }
    }
}
