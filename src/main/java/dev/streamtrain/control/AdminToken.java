package dev.streamtrain.control;

import io.quarkus.runtime.Startup;
import jakarta.enterprise.context.ApplicationScoped;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;

/**
 * The bearer token that the state-changing training routes require: the configured one, or, when none is
 * configured (the embedded default), a random one generated at start and written to a file readable by the
 * owner only, whose path is logged (at start, so that it is there before anyone needs it).
 */
@Startup
@ApplicationScoped
public class AdminToken {

    private static final Logger LOG = Logger.getLogger(AdminToken.class);

    private final byte[] token;

    AdminToken(ControlConfig config) {
        this.token = config.token().filter(t -> !t.isBlank()).orElseGet(() -> generate(Path.of(config.tokenFile())))
                .getBytes(StandardCharsets.UTF_8);
    }

    private static String generate(Path file) {
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
            LOG.infof("No streamtrain.admin.token configured: generated one for /v1/training/*, written to %s",
                    file.toAbsolutePath());
        } catch (IOException | UnsupportedOperationException e) {
            LOG.warnf("No streamtrain.admin.token configured, and the generated one cannot be written to %s (%s):"
                    + " the training-control routes cannot be used until a token is configured", file, e.getMessage());
        }
        return token;
    }

    /** Whether the Authorization header carries the token (compared in constant time). */
    public boolean accepts(String authorization) {
        if (authorization == null || !authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return false;
        }
        byte[] offered = authorization.substring(7).trim().getBytes(StandardCharsets.UTF_8);
        return MessageDigest.isEqual(offered, token);
    }
}
