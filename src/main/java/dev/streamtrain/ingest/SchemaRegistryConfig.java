package dev.streamtrain.ingest;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

import java.time.Duration;
import java.util.Optional;

/** The schema registry of records in the Confluent wire format ({@code streamtrain.schema-registry.*}). */
@ConfigMapping(prefix = "streamtrain.schema-registry")
public interface SchemaRegistryConfig {

    /**
     * Base URL of a registry with the Confluent-compatible REST API (Confluent Schema Registry, Apicurio's
     * {@code /apis/ccompat/v7}, Karapace, Redpanda). Unset: wire-format records are dead-lettered as unknown-schema.
     */
    Optional<String> url();

    /** Timeout of one schema lookup; a registry that does not answer is retried, never blamed on the record. */
    @WithDefault("5s")
    Duration timeout();
}
