package dev.streamtrain.support;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A schema registry for the tests, on loopback, with the part of the Confluent-compatible REST API that producers
 * and the service use: {@code POST /subjects/{subject}/versions} registers a schema and answers its id (the same id
 * for the same text), {@code GET /schemas/ids/{id}} answers {@code {"schema", "schemaType"}} or 404 with error code
 * 40403, as Confluent's registry and Apicurio's ccompat API do. It stands in for Apicurio Registry, whose app cannot
 * be assembled from the Maven repository reachable here (see docs/encodings.md). Counts lookups, so that tests can
 * check the service's cache.
 */
public final class SchemaRegistryServer implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final HttpServer server;
    private final Map<Integer, Map<String, String>> schemas = new ConcurrentHashMap<>();
    private final Map<String, Integer> ids = new ConcurrentHashMap<>();
    private final AtomicInteger nextId = new AtomicInteger(1);
    private final List<Integer> lookups = new CopyOnWriteArrayList<>();

    public SchemaRegistryServer() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", this::handle);
        server.start();
    }

    public String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    /** The ids looked up with GET /schemas/ids/{id}, in order. */
    public List<Integer> lookups() {
        return lookups;
    }

    /** Registers {@code schema} ({@code AVRO} or {@code PROTOBUF}) under {@code subject} over HTTP, as a producer does. */
    public static int register(String url, String subject, String schemaType, String schema) {
        try {
            String body = JSON.writeValueAsString(Map.of("schemaType", schemaType, "schema", schema));
            HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create(url + "/subjects/" + subject + "/versions"))
                    .header("Content-Type", "application/vnd.schemaregistry.v1+json")
                    .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() != 200) {
                throw new IllegalStateException("registering " + subject + ": " + response.statusCode() + " "
                        + response.body());
            }
            return JSON.readTree(response.body()).get("id").asInt();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private void handle(HttpExchange exchange) throws IOException {
        String[] path = exchange.getRequestURI().getPath().split("/");
        String method = exchange.getRequestMethod();
        if (method.equals("GET") && path.length == 4 && path[1].equals("schemas") && path[2].equals("ids")) {
            int id = Integer.parseInt(path[3]);
            lookups.add(id);
            Map<String, String> schema = schemas.get(id);
            if (schema == null) {
                reply(exchange, 404, Map.of("error_code", 40403, "message", "Schema " + id + " not found"));
            } else {
                reply(exchange, 200, schema);
            }
        } else if (method.equals("POST") && path.length == 4 && path[1].equals("subjects")
                && path[3].equals("versions")) {
            JsonNode body = JSON.readTree(exchange.getRequestBody());
            String type = body.path("schemaType").asText("AVRO");
            String text = body.path("schema").asText();
            int id = ids.computeIfAbsent(type + "\n" + text, key -> {
                int next = nextId.getAndIncrement();
                schemas.put(next, Map.of("schema", text, "schemaType", type));
                return next;
            });
            reply(exchange, 200, Map.of("id", id));
        } else {
            reply(exchange, 404, Map.of("error_code", 404, "message", "no route " + method + " " + exchange.getRequestURI()));
        }
    }

    private static void reply(HttpExchange exchange, int status, Object body) throws IOException {
        byte[] bytes = JSON.writeValueAsBytes(body);
        exchange.getResponseHeaders().add("Content-Type", "application/vnd.schemaregistry.v1+json");
        exchange.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
