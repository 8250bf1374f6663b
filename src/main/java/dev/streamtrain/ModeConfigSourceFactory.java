package dev.streamtrain;

import io.smallrye.config.ConfigSourceContext;
import io.smallrye.config.ConfigSourceFactory;
import io.smallrye.config.ConfigValue;
import io.smallrye.config.PropertiesConfigSource;
import org.eclipse.microprofile.config.spi.ConfigSource;

import java.util.List;
import java.util.Map;

/**
 * Turns {@code streamtrain.mode} into the messaging channels it implies, so that a deployment sets one key:
 * {@code train} consumes the examples topic; {@code serve} (a serving-only replica) must not join the trainer's
 * consumer group (it would take partitions from the trainer) and instead follows the training events topic.
 * These are defaults (ordinal below application.properties): an explicit {@code ...enabled} setting wins.
 */
public class ModeConfigSourceFactory implements ConfigSourceFactory {

    static final String EXAMPLES = "mp.messaging.incoming.examples.enabled";
    static final String FOLLOW = "mp.messaging.incoming.training-events.enabled";
    // a replica publishes no events: the producer's connection is no readiness matter (a broker outage must not
    // take every replica out of its Service at once)
    static final String EVENTS_READINESS = "mp.messaging.outgoing.events.health-readiness-enabled";

    @Override
    public Iterable<ConfigSource> getConfigSources(ConfigSourceContext context) {
        ConfigValue mode = context.getValue("streamtrain.mode");
        boolean serve = mode != null && mode.getValue() != null && "serve".equals(mode.getValue().trim());
        return List.of(new PropertiesConfigSource(Map.of(EXAMPLES, String.valueOf(!serve), FOLLOW, String.valueOf(serve),
                EVENTS_READINESS, String.valueOf(!serve)), "streamtrain.mode", 200));
    }
}
