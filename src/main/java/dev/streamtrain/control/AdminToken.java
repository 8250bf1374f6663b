package dev.streamtrain.control;

import io.quarkus.runtime.Startup;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;
import java.util.List;

/**
 * The bearer tokens that the state-changing training routes accept.
 * <ul>
 * <li>{@code streamtrain.admin.token} set: that one token, for the life of the process.</li>
 * <li>Otherwise the token file ({@code streamtrain.admin.token-file}), a {@link TokenFile}: every non-blank line of
 * it is a token, and the file is read again when it changes (checked at most once per {@link #REFRESH}), so a token
 * is rotated without a restart.</li>
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

    private final List<byte[]> fixed;
    private final TokenFile file;

    @Inject
    AdminToken(ControlConfig config) {
        this(config.token().filter(t -> !t.isBlank()).orElse(null), Path.of(config.tokenFile()), REFRESH);
    }

    /** With {@code fixed} null, the tokens come from {@code file} (generated there when it holds none). */
    AdminToken(String fixed, Path file, Duration refresh) {
        if (fixed != null) {
            this.fixed = List.of(fixed.trim().getBytes(StandardCharsets.UTF_8));
            this.file = null;
            return;
        }
        this.fixed = null;
        TokenFile tokens = new TokenFile(file, refresh, "admin token file");
        if (tokens.current().isEmpty()) {
            generate(file);
            tokens = new TokenFile(file, refresh, "admin token file");
        } else {
            LOG.infof("Admin tokens for /v1/training/* read from %s (%d); the file is watched: edit it to rotate",
                    file.toAbsolutePath(), tokens.current().size());
        }
        this.file = tokens;
    }

    /** Whether the Authorization header carries an accepted token (compared in constant time). */
    public boolean accepts(String authorization) {
        return TokenFile.matches(authorization, current());
    }

    /** How many tokens are accepted now (for the status of a rotation; never the tokens themselves). */
    public int count() {
        return current().size();
    }

    private List<byte[]> current() {
        return file == null ? fixed : file.current();
    }

    private static void generate(Path file) {
        byte[] random = new byte[24];
        new SecureRandom().nextBytes(random);
        String token = Base64.getUrlEncoder().withoutPadding().encodeToString(random);
        try {
            if (file.getParent() != null) {
                Files.createDirectories(file.getParent());
            }
            Files.deleteIfExists(file);
            Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            Files.writeString(file, token + "\n");
            LOG.infof("No streamtrain.admin.token configured: generated one for /v1/training/*, written to %s"
                    + " (watched: edit the file to rotate)", file.toAbsolutePath());
        } catch (IOException | UnsupportedOperationException e) {
            LOG.warnf("No streamtrain.admin.token configured, and the generated one cannot be written to %s (%s):"
                    + " the training-control routes cannot be used until a token is configured", file, e.getMessage());
        }
    }
}
