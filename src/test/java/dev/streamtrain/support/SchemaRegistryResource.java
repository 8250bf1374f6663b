package dev.streamtrain.support;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Map;

/** Starts a {@link SchemaRegistryServer} for a Quarkus test and points {@code streamtrain.schema-registry.url} at it. */
public class SchemaRegistryResource implements QuarkusTestResourceLifecycleManager {

    private SchemaRegistryServer server;

    @Override
    public Map<String, String> start() {
        try {
            server = new SchemaRegistryServer();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return Map.of("streamtrain.schema-registry.url", server.url());
    }

    @Override
    public void stop() {
        if (server != null) {
            server.close();
        }
    }
}
