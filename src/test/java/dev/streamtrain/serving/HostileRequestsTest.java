package dev.streamtrain.serving;

import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import dev.streamtrain.support.FactorySnapshotProfile;
import dev.streamtrain.support.KafkaBrokerResource;
import inference.GRPCInferenceServiceGrpc;
import inference.GrpcPredictV2.ModelInferRequest;
import inference.GrpcPredictV2.ModelInferRequest.InferInputTensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Requests meant to hurt, against the running service: each is refused with a 4xx (RESOURCE_EXHAUSTED over gRPC)
 * or cut off after a bounded wait, and an ordinary request is answered meanwhile and afterwards. The limits:
 * {@code quarkus.http.limits.max-body-size} (10 MiB), Jackson's nesting depth (1,000), the shape checks,
 * {@code streamtrain.serving.max-request-rows} (here 1,000), {@code streamtrain.serving.request-body-timeout}
 * (here 2 s) and {@code quarkus.http.idle-timeout} (here 4 s). See docs/hardening.md.
 */
@QuarkusTest
@TestProfile(HostileRequestsTest.Limits.class)
@QuarkusTestResource(value = KafkaBrokerResource.class, restrictToAnnotatedClass = true)
class HostileRequestsTest {

    private static final int FEATURES = 64;
    private static final Duration BODY_TIMEOUT = Duration.ofSeconds(2);
    private static final Duration IDLE_TIMEOUT = Duration.ofSeconds(4);

    /** The served snapshots of the other serving tests, with tighter limits than the defaults so tests are quick. */
    public static class Limits extends FactorySnapshotProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("streamtrain.serving.request-body-timeout", BODY_TIMEOUT.toSeconds() + "s",
                    "quarkus.http.idle-timeout", IDLE_TIMEOUT.toSeconds() + "s",
                    "streamtrain.serving.max-request-rows", "1000");
        }
    }

    @TestHTTPResource("/")
    URL root;

    private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    private static String request(String shape, String data) {
        return "{\"inputs\":[{\"name\":\"input\",\"shape\":" + shape + ",\"datatype\":\"FP32\",\"data\":" + data + "}]}";
    }

    private static String row() {
        return "[" + String.join(",", Collections.nCopies(FEATURES, "1.5")) + "]";
    }

    private HttpResponse<String> post(HttpRequest.BodyPublisher body) throws Exception {
        return client.send(HttpRequest.newBuilder(URI.create(root + "v2/models/digits/infer"))
                .timeout(Duration.ofSeconds(60)).header("content-type", "application/json").POST(body).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> post(String body) throws Exception {
        return post(HttpRequest.BodyPublishers.ofString(body));
    }

    /** An ordinary one-row request is answered, correctly shaped. */
    private void anOrdinaryRequestIsAnswered() throws Exception {
        HttpResponse<String> response = post(request("[1,64]", row()));
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        assertThat(response.body()).contains("\"shape\":[1,10]");
    }

    @Test
    void anOversizedBodyGets413WhetherItsLengthIsDeclaredOrNot() throws Exception {
        long eleven = 11 << 20;
        assertThat(sendWhileReading("Content-Length: " + eleven, new EndlessJsonRows(eleven))).startsWith("HTTP/1.1 413");
        // chunked, no Content-Length: refused once 10 MiB have arrived, not read to the end
        assertThat(sendWhileReading("Transfer-Encoding: chunked", new EndlessJsonRows(Long.MAX_VALUE)))
                .startsWith("HTTP/1.1 413");
        anOrdinaryRequestIsAnswered();
    }

    @Test
    void deeplyNestedJsonGets400() throws Exception {
        String brackets = "[".repeat(100_000) + "]".repeat(100_000);
        HttpResponse<String> response = post(request("[1,64]", brackets));
        assertThat(response.statusCode()).as(response.body()).isEqualTo(400);
        assertThat(response.body()).contains("nesting depth");
        anOrdinaryRequestIsAnswered();
    }

    @Test
    void shapesWhoseProductOverflowsGet400() throws Exception {
        for (String shape : List.of("[9223372036854775807,64]", "[4611686018427387904,64]", "[-4611686018427387904,64]",
                "[67108864,67108864]", "[2147483648,64]", "[1,64,9223372036854775807]")) {
            HttpResponse<String> response = post(request(shape, row()));
            assertThat(response.statusCode()).as(shape + ": " + response.body()).isEqualTo(400);
        }
        anOrdinaryRequestIsAnswered();
    }

    @Test
    void aMillionRowsAreRefusedBeforeTheyAreRead() throws Exception {
        // the header alone: refused by the row limit, whatever data follows
        HttpResponse<String> claimed = post(request("[1000000,64]", "[" + row() + "]"));
        assertThat(claimed.statusCode()).isEqualTo(400);
        assertThat(claimed.body()).contains("1000000 rows; send 1 to 1000");
        // the configured limit holds exactly: 1,000 rows are answered, 1,001 are not
        String thousand = "[" + String.join(",", Collections.nCopies(1000, row())) + "]";
        assertThat(post(request("[1000,64]", thousand)).statusCode()).isEqualTo(200);
        assertThat(post(request("[1001,64]", thousand)).statusCode()).isEqualTo(400);
        // a real million rows (about 260 MB of JSON): the body limit refuses it long before the end
        assertThat(sendWhileReading("Transfer-Encoding: chunked", new EndlessJsonRows(Long.MAX_VALUE)))
                .startsWith("HTTP/1.1 413");
        // over gRPC: a message over the 10 MiB limit (here 45,000 FP32 rows) gets RESOURCE_EXHAUSTED; a million
        // rows (256 MB) are cut off as well, by RESOURCE_EXHAUSTED or, while the client is still sending, by the
        // server resetting the stream (UNAVAILABLE); a claim of a million rows without them is INVALID_ARGUMENT
        ManagedChannel channel = ManagedChannelBuilder.forAddress(root.getHost(), root.getPort()).usePlaintext().build();
        try {
            var stub = GRPCInferenceServiceGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS);
            assertThatThrownBy(() -> stub.modelInfer(grpcRows(45_000))).isInstanceOfSatisfying(
                    StatusRuntimeException.class,
                    e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED));
            ModelInferRequest million = grpcRows(1_000_000);
            assertThatThrownBy(() -> stub.modelInfer(million)).isInstanceOfSatisfying(StatusRuntimeException.class,
                    e -> assertThat(e.getStatus().getCode()).isIn(Status.Code.RESOURCE_EXHAUSTED,
                            Status.Code.UNAVAILABLE));
            ModelInferRequest claimedOnly = million.toBuilder().clearRawInputContents().build();
            assertThatThrownBy(() -> stub.modelInfer(claimedOnly)).isInstanceOfSatisfying(StatusRuntimeException.class,
                    e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT));
        } finally {
            channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
        }
        anOrdinaryRequestIsAnswered();
    }

    private static ModelInferRequest grpcRows(int rows) {
        return ModelInferRequest.newBuilder().setModelName("digits")
                .addInputs(InferInputTensor.newBuilder().setName("input").setDatatype("FP32").addShape(rows)
                        .addShape(FEATURES))
                .addRawInputContents(com.google.protobuf.ByteString.copyFrom(new byte[rows * FEATURES * 4]))
                .build();
    }

    /**
     * A client that sends its body one byte a second: the service answers 408 and closes the connection once
     * {@code request-body-timeout} has passed, rather than waiting for as long as the client likes; an ordinary
     * request is answered while it trickles.
     */
    @Test
    void aBodySentOneByteASecondIsCutOffAfterTheDeadline() throws Exception {
        String body = request("[1,64]", row());
        try (Socket socket = new Socket(root.getHost(), root.getPort())) {
            socket.setSoTimeout((int) (BODY_TIMEOUT.toMillis() * 10));
            OutputStream out = socket.getOutputStream();
            out.write(("POST /v2/models/digits/infer HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                    + "Content-Length: " + body.length() + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            long start = System.nanoTime();
            Thread trickle = new Thread(() -> {
                try {
                    for (byte b : body.getBytes(StandardCharsets.US_ASCII)) {
                        out.write(b);
                        out.flush();
                        Thread.sleep(1000);
                    }
                } catch (IOException | InterruptedException closed) {
                    // the service closed the connection: what this test waits for
                }
            });
            trickle.setDaemon(true);
            trickle.start();
            anOrdinaryRequestIsAnswered();
            String answer = readUntilClosed(socket.getInputStream());
            long waited = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            trickle.interrupt();
            assertThat(answer).startsWith("HTTP/1.1 408").contains("request-body-timeout");
            assertThat(waited).as("cut off after the deadline, long before the body's %d s", body.length())
                    .isGreaterThanOrEqualTo(BODY_TIMEOUT.toMillis() - 100).isLessThan(BODY_TIMEOUT.toMillis() * 10);
        }
        anOrdinaryRequestIsAnswered();
    }

    /**
     * 2,000 keep-alive connections that each send one request and then sit idle: an ordinary request is answered
     * while they are open, and the service closes every one of them once {@code quarkus.http.idle-timeout} passes.
     */
    @Test
    void twoThousandIdleKeepAliveConnectionsAreAnsweredThenClosed() throws Exception {
        List<Socket> sockets = new ArrayList<>();
        try {
            byte[] live = "GET /v2/health/live HTTP/1.1\r\nHost: localhost\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
            for (int i = 0; i < 2000; i++) {
                Socket socket = new Socket(root.getHost(), root.getPort());
                socket.setSoTimeout((int) (IDLE_TIMEOUT.toMillis() * 15));
                socket.getOutputStream().write(live);
                sockets.add(socket);
            }
            for (Socket socket : sockets) {
                assertThat(readResponseHead(socket.getInputStream())).startsWith("HTTP/1.1 200");
            }
            long start = System.nanoTime();
            anOrdinaryRequestIsAnswered();
            int closed = 0;
            for (Socket socket : sockets) {
                // the rest of the first answer, then the end of the stream when the service closes the connection
                readUntilClosed(socket.getInputStream());
                closed++;
            }
            long waited = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertThat(closed).isEqualTo(2000);
            assertThat(waited).as("all closed by the idle timeout").isLessThan(IDLE_TIMEOUT.toMillis() * 15);
        } finally {
            for (Socket socket : sockets) {
                socket.close();
            }
        }
        anOrdinaryRequestIsAnswered();
    }

    /**
     * Sends an infer request with the given length header and body (chunked when it says so) from another thread,
     * and returns the head of the answer, which may come before the body is all sent.
     */
    private String sendWhileReading(String lengthHeader, InputStream body) throws Exception {
        boolean chunked = lengthHeader.startsWith("Transfer-Encoding");
        try (Socket socket = new Socket(root.getHost(), root.getPort())) {
            socket.setSoTimeout(60_000);
            OutputStream out = socket.getOutputStream();
            out.write(("POST /v2/models/digits/infer HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                    + lengthHeader + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            Thread sender = new Thread(() -> {
                byte[] buffer = new byte[64 * 1024];
                try {
                    for (int n = body.read(buffer); n > 0; n = body.read(buffer)) {
                        if (chunked) {
                            out.write((Integer.toHexString(n) + "\r\n").getBytes(StandardCharsets.US_ASCII));
                        }
                        out.write(buffer, 0, n);
                        if (chunked) {
                            out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
                        }
                    }
                    if (chunked) {
                        out.write("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                    }
                } catch (IOException closed) {
                    // the service stopped reading and closed: expected once it has answered
                }
            });
            sender.setDaemon(true);
            sender.start();
            String head = readResponseHead(socket.getInputStream());
            socket.close();
            sender.join(60_000);
            return head;
        }
    }

    private static String readResponseHead(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        while (!head.toString(StandardCharsets.US_ASCII).endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                break;
            }
            head.write(b);
        }
        return head.toString(StandardCharsets.US_ASCII);
    }

    /** Everything until the service closes the connection; a read timeout fails the test. */
    private static String readUntilClosed(InputStream in) throws IOException {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        byte[] buffer = new byte[4096];
        try {
            for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
                all.write(buffer, 0, n);
            }
        } catch (SocketTimeoutException e) {
            throw new AssertionError("the service kept the connection open; it sent: " + all, e);
        } catch (java.net.SocketException reset) {
            // closed with a reset: closed all the same
        }
        return all.toString(StandardCharsets.US_ASCII);
    }

    /**
     * A request body of a million 64-feature rows (about 260 MB, generated as it is read, never held), or its first
     * {@code limit} bytes.
     */
    private static final class EndlessJsonRows extends InputStream {
        private final byte[] head = "{\"inputs\":[{\"name\":\"input\",\"shape\":[1000000,64],\"datatype\":\"FP32\",\"data\":["
                .getBytes(StandardCharsets.US_ASCII);
        private final byte[] row = (row() + ",").getBytes(StandardCharsets.US_ASCII);
        private long position;
        private final long end;

        EndlessJsonRows(long limit) {
            end = Math.min(limit, head.length + 1_000_000L * row.length);
        }

        @Override
        public int read() {
            if (position >= end) {
                return -1;
            }
            long p = position++;
            return p < head.length ? head[(int) p] : row[(int) ((p - head.length) % row.length)];
        }
    }
}
