package dev.streamtrain.control;

import io.quarkus.runtime.Startup;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;

/**
 * The bearer tokens that the state-changing training routes accept.
 * <ul>
 * <li>{@code streamtrain.admin.token} set: that one token, for the life of the process.</li>
 * <li>Otherwise the token file ({@code streamtrain.admin.token-file}): every non-blank line of it is a token, and the
 * file is read again when it changes (checked at most once per {@link #REFRESH}), so a token is rotated without a
 * restart: add the new line, move the clients over, remove the old line. A Kubernetes Secret mounted as a volume is
 * such a file (the kubelet swaps it in place when the Secret changes). A file that disappears or becomes empty
 * keeps the tokens last read (a rotation half done must not lock the operators out), with a warning.</li>
 * <li>No token configured and no file: a random token is generated at start and written to the file, readable by
 * the owner only, whose path is logged (at start, so that it is there before anyone needs it).</li>
 * </ul>
 * Tokens are compared in constant time, against every accepted token whichever matches; they are never logged.
 */
@Startup
@ApplicationScoped
public class AdminToken {

    private static final Logger LOG = Logger.getLogger(AdminToken.class);

    /** How often, at most, the token file is read again. */
    static final Duration REFRESH = Duration.ofSeconds(1);

    private final Path file;
    private final long refreshNanos;
    private volatile List<byte[]> tokens;
    private long readAt;
    private String fileContent;

    @Inject
    AdminToken(ControlConfig config) {
        this(config.token().filter(t -> !t.isBlank()).orElse(null), Path.of(config.tokenFile()), REFRESH);
    }

    /** With {@code fixed} null, the tokens come from {@code file} (generated there when it holds none). */
    AdminToken(String fixed, Path file, Duration refresh) {
        this.refreshNanos = refresh.toNanos();
        if (fixed != null) {
            this.file = null;
            this.tokens = List.of(fixed.trim().getBytes(StandardCharsets.UTF_8));
            return;
        }
        this.file = file;
        String content = read(file);
        List<byte[]> found = content == null ? List.of() : parse(content);
        if (found.isEmpty()) {
            content = generate(file);
            found = parse(content);
        } else {
            LOG.infof("Admin tokens for /v1/training/* read from %s (%d); the file is watched: edit it to rotate",
                    file.toAbsolutePath(), found.size());
        }
        this.fileContent = content;
        this.tokens = found;
        this.readAt = System.nanoTime();
    }

    /** Whether the Authorization header carries an accepted token (compared in constant time). */
    public boolean accepts(String authorization) {
        if (authorization == null || !authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return false;
        }
        byte[] offered = authorization.substring(7).trim().getBytes(StandardCharsets.UTF_8);
        boolean accepted = false;
        for (byte[] token : current()) {
            // no early exit: the time taken does not say which token matched
            accepted |= MessageDigest.isEqual(offered, token);
        }
        return accepted;
    }

    /** How many tokens are accepted now (for the status of a rotation; never the tokens themselves). */
    public int count() {
        return current().size();
    }

    private List<byte[]> current() {
        if (file == null) {
            return tokens;
        }
        synchronized (this) {
            long now = System.nanoTime();
            if (now - readAt >= refreshNanos) {
                readAt = now;
                refresh();
            }
            return tokens;
        }
    }

    private void refresh() {
        String content = read(file);
        if (content == null || content.equals(fileContent)) {
            return;
        }
        List<byte[]> found = parse(content);
        fileContent = content;
        if (found.isEmpty()) {
            LOG.warnf("The admin token file %s holds no token: the %d token(s) read before stay accepted",
                    file.toAbsolutePath(), tokens.size());
            return;
        }
        tokens = found;
        LOG.infof("Admin tokens changed in %s: %d accepted now", file.toAbsolutePath(), found.size());
    }

    private static List<byte[]> parse(String content) {
        return Arrays.stream(content.split("\\R")).map(String::trim).filter(line -> !line.isEmpty())
                .map(line -> line.getBytes(StandardCharsets.UTF_8)).toList();
    }

    private static String read(Path file) {
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            return null;
        } catch (IOException | RuntimeException e) {
            LOG.warnf("The admin token file %s cannot be read (%s): the tokens read before stay accepted",
                    file.toAbsolutePath(), e.getMessage());
            return null;
        }
    }

    private static String generate(Path file) {
        byte[] random = new byte[24];
        new SecureRandom().nextBytes(random);
        String token = Base64.getUrlEncoder().withoutPadding().encodeToString(random);
        String content = token + "\n";
        try {
            if (file.getParent() != null) {
                Files.createDirectories(file.getParent());
            }
            Files.deleteIfExists(file);
            Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            Files.writeString(file, content);
            LOG.infof("No streamtrain.admin.token configured: generated one for /v1/training/*, written to %s"
                    + " (watched: edit the file to rotate)", file.toAbsolutePath());
        } catch (IOException | UnsupportedOperationException e) {
            LOG.warnf("No streamtrain.admin.token configured, and the generated one cannot be written to %s (%s):"
                    + " the training-control routes cannot be used until a token is configured", file, e.getMessage());
        }
        return content;
    }
}
