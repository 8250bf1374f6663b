package dev.streamtrain.ingest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.avro.Schema;
import org.apache.avro.SchemaParseException;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Schemas by id from a schema registry with the Confluent-compatible REST API ({@code GET /schemas/ids/{id}}),
 * compiled once into what the decoders need ({@link AvroLayout}, {@link ProtobufSchema}) and cached for good: a
 * schema id never changes its schema. An id the registry does not know (404) is remembered for
 * {@link #UNKNOWN_TTL}, so that a stream of such records does not hammer the registry. A registry that cannot be
 * reached is retried with back-off on the calling (ingest worker) thread, which holds the partition back rather than
 * dead-letter good records. Thread-safe.
 */
final class SchemaRegistry {

    private static final Logger LOG = Logger.getLogger(SchemaRegistry.class);
    static final Duration UNKNOWN_TTL = Duration.ofSeconds(30);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final String base;
    private final Duration timeout;
    private final HttpClient http;
    private final Map<Integer, Object> schemas = new ConcurrentHashMap<>();
    private final Map<Integer, Long> unknownUntil = new ConcurrentHashMap<>();

    SchemaRegistry(String url, Duration timeout) {
        this.base = url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
        this.timeout = timeout;
        this.http = HttpClient.newBuilder().connectTimeout(timeout).build();
    }

    /** The compiled schema of {@code id}: an {@link AvroLayout} or a {@link ProtobufSchema}; throws the rejection. */
    Object schema(int id) {
        Object schema = schemas.get(id);
        if (schema == null) {
            Long until = unknownUntil.get(id);
            if (until != null && System.nanoTime() - until < 0) {
                throw unknown(id);
            }
            schema = schemas.computeIfAbsent(id, this::fetch);
        }
        if (schema instanceof RejectedRecordException rejection) {
            throw rejection;
        }
        return schema;
    }

    private Object fetch(int id) {
        HttpRequest request = HttpRequest.newBuilder(URI.create(base + "/schemas/ids/" + id)).timeout(timeout)
                .header("Accept", "application/vnd.schemaregistry.v1+json, application/json").GET().build();
        long backoff = 250;
        for (int attempt = 1; ; attempt++) {
            try {
                HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
                if (response.statusCode() == 404) {
                    unknownUntil.put(id, System.nanoTime() + UNKNOWN_TTL.toNanos());
                    throw unknown(id);
                }
                if (response.statusCode() == 200) {
                    unknownUntil.remove(id);
                    return compile(id, JSON.readTree(response.body()));
                }
                LOG.warnf("Schema registry %s answered %d to the lookup of schema %d (attempt %d); retrying: "
                        + "records of this schema wait", base, response.statusCode(), id, attempt);
            } catch (IOException e) {
                LOG.warnf("Schema registry %s cannot be reached for schema %d (attempt %d: %s); retrying: records of "
                        + "this schema wait", base, id, attempt, e.toString());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new RegistryInterruptedException();
            }
            try {
                Thread.sleep(backoff);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new RegistryInterruptedException();
            }
            backoff = Math.min(backoff * 2, 10_000);
        }
    }

    /** Compiles a registry answer; a schema the service cannot use is cached as its rejection. */
    private static Object compile(int id, JsonNode answer) {
        String type = answer.path("schemaType").asText("AVRO");
        String text = answer.path("schema").asText();
        try {
            return switch (type) {
                case "AVRO" -> AvroLayout.of(id, new Schema.Parser().parse(text));
                case "PROTOBUF" -> ProtobufSchema.parse(id, text);
                default -> new RejectedRecordException(RejectReason.SCHEMA_MISMATCH,
                        "schema " + id + " is " + type + "; Avro and Protobuf schemas are supported");
            };
        } catch (RejectedRecordException e) {
            return e;
        } catch (SchemaParseException | IllegalArgumentException e) {
            return new RejectedRecordException(RejectReason.SCHEMA_MISMATCH,
                    "schema " + id + " cannot be parsed as " + type + ": " + e.getMessage());
        }
    }

    private static RejectedRecordException unknown(int id) {
        return new RejectedRecordException(RejectReason.UNKNOWN_SCHEMA, "the schema registry has no schema " + id);
    }

    /** The ingest thread was interrupted (the service stops) while it waited for the registry. */
    static final class RegistryInterruptedException extends RuntimeException {
        RegistryInterruptedException() {
            super("interrupted while waiting for the schema registry", null, false, false);
        }
    }
}
