package dev.streamtrain.support;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The HTTP routes of a service listening on a port of this host (a container's published port, a process's), as a
 * client outside it calls them: GETs and JSON POSTs whose status is asserted, with the body in the failure message.
 */
public final class ServiceEndpoint {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    private final int port;

    private ServiceEndpoint(int port) {
        this.port = port;
    }

    /** The service on {@code 127.0.0.1:port}, plain HTTP. */
    public static ServiceEndpoint at(int port) {
        return new ServiceEndpoint(port);
    }

    /** A port that was free a moment ago, for a service about to start. */
    public static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    /** GET {@code path}, which must answer 200 with JSON. */
    public JsonNode json(String path) throws IOException, InterruptedException {
        return JSON.readTree(text(path));
    }

    /** GET {@code path}, which must answer 200; the body. */
    public String text(String path) throws IOException, InterruptedException {
        return text(path, 200);
    }

    /** GET {@code path}, which must answer {@code expected}; the body. */
    public String text(String path, int expected) throws IOException, InterruptedException {
        HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(10))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as("GET " + path + ": " + response.body()).isEqualTo(expected);
        return response.body();
    }

    /** POST a JSON body (with a bearer token when not null), which must answer 200 with JSON. */
    public JsonNode post(String path, String json, String token) throws IOException, InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(json));
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        HttpResponse<String> response = HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as("POST " + path + ": " + response.body()).isEqualTo(200);
        return JSON.readTree(response.body());
    }

    /** The status of a GET; -1 while nothing answers on the port. */
    public int status(String path) {
        try {
            return HTTP.send(HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(2)).build(),
                    HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    public URI uri(String path) {
        return URI.create("http://127.0.0.1:" + port + path);
    }
}
