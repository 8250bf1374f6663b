package dev.streamtrain.serving;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.Startup;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.jboss.logging.Logger;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import dev.streamtrain.control.TokenFile;
import dev.streamtrain.model.spec.ModelSpec;

/**
 * The bearer tokens that inference requires when {@code streamtrain.serving.token-file} is set (off by default): the
 * file's lines, watched like the admin token file ({@link TokenFile}), so that they rotate without a restart. A file
 * that is absent or empty at start refuses every request until a token is written there: a replica configured to
 * require a token never serves without one. Refusals are counted
 * ({@code streamtrain_serving_refused_total{protocol, reason="missing"|"invalid"}}), never logged. Called on event-loop
 * and worker threads; the file is read again at most once per {@link #REFRESH}.
 */
@Startup
@ApplicationScoped
public class ServingToken {

    private static final Logger LOG = Logger.getLogger(ServingToken.class);

    /** How often, at most, the token file is read again. */
    static final Duration REFRESH = Duration.ofSeconds(1);

    private final TokenFile file;
    private final MeterRegistry registry;
    private final String model;
    private final Map<String, Counter> refusals = new ConcurrentHashMap<>();

    @Inject
    ServingToken(ServingConfig config, MeterRegistry registry, ModelSpec spec) {
        this.registry = registry;
        this.model = spec.name();
        this.file = config.tokenFile().filter(path -> !path.isBlank())
                .map(path -> new TokenFile(Path.of(path), REFRESH, "serving token file")).orElse(null);
        if (file == null) {
            return;
        }
        int count = file.current().size();
        if (count == 0) {
            LOG.warnf("streamtrain.serving.token-file is %s, which holds no token: every inference request is refused"
                    + " (401 / UNAUTHENTICATED) until one is written there", file.path().toAbsolutePath());
        } else {
            LOG.infof("Inference requires a bearer token: %d read from %s, which is watched (edit it to rotate)",
                    count, file.path().toAbsolutePath());
        }
    }

    /** Whether inference requires a token at all. */
    public boolean required() {
        return file != null;
    }

    /**
     * Whether a request with this {@code Authorization} value may be answered; a refusal is counted for
     * {@code protocol} ({@code rest}, {@code grpc}).
     */
    public boolean admits(String authorization, String protocol) {
        if (file == null || TokenFile.matches(authorization, file.current())) {
            return true;
        }
        String reason = authorization == null || authorization.isBlank() ? "missing" : "invalid";
        refusals.computeIfAbsent(protocol + '|' + reason, k -> Counter.builder("streamtrain.serving.refused")
                .description("Inference requests refused for want of a valid serving token")
                .tag("model", model).tag("protocol", protocol).tag("reason", reason)
                .register(registry)).increment();
        return false;
    }
}
