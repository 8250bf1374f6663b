package dev.streamtrain.serving;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import dev.streamtrain.support.FactorySnapshotProfile;
import dev.streamtrain.support.KafkaBrokerResource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The connection cap ({@code quarkus.http.limits.max-connections}, here 16): with as many connections open as the cap
 * allows, one more is closed unanswered, the open ones are still answered, and a new connection is answered again
 * once one of them has gone. REST and gRPC share the server, and so the cap. See docs/hardening.md.
 */
@QuarkusTest
@TestProfile(ConnectionCapTest.Cap.class)
@QuarkusTestResource(value = KafkaBrokerResource.class, restrictToAnnotatedClass = true)
class ConnectionCapTest {

    private static final int CAP = 16;
    private static final byte[] LIVE = "GET /v2/health/live HTTP/1.1\r\nHost: localhost\r\n\r\n"
            .getBytes(StandardCharsets.US_ASCII);

    /** The served snapshots of the other serving tests, with a small cap so that the test is quick. */
    public static class Cap extends FactorySnapshotProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("quarkus.http.limits.max-connections", Integer.toString(CAP));
        }
    }

    @TestHTTPResource("/")
    URL root;

    @Test
    void aConnectionOverTheCapIsClosedUnansweredAndTheOthersAreServed() throws Exception {
        List<Socket> held = new ArrayList<>();
        try {
            // other connections of the test run (the framework's, an earlier test's) may still be open: fill up to
            // the cap, whatever it takes, and count on each connection held having been answered
            while (true) {
                Socket socket = connect();
                String answer = ask(socket);
                if (!answer.startsWith("HTTP/1.1 200")) {
                    socket.close();
                    assertThat(held).as("connections answered before the cap was reached").isNotEmpty()
                            .hasSizeLessThanOrEqualTo(CAP);
                    assertThat(answer).as("the answer on a connection over the cap: none, it is closed").isEmpty();
                    break;
                }
                held.add(socket);
                assertThat(held).as("connections answered: at most the cap").hasSizeLessThanOrEqualTo(CAP);
            }
            try (Socket over = connect()) {
                assertThat(ask(over)).as("another connection over the cap").isEmpty();
            }
            for (Socket socket : held) {
                assertThat(ask(socket)).as("a keep-alive connection within the cap, asked again").startsWith("HTTP/1.1 200");
            }
            held.remove(0).close();
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200)).untilAsserted(() -> {
                try (Socket fresh = connect()) {
                    assertThat(ask(fresh)).as("a new connection once one has gone").startsWith("HTTP/1.1 200");
                }
            });
        } finally {
            for (Socket socket : held) {
                socket.close();
            }
        }
    }

    private Socket connect() throws IOException {
        Socket socket = new Socket(root.getHost(), root.getPort());
        socket.setSoTimeout(30_000);
        return socket;
    }

    /** Sends a liveness request and returns the head of the answer, or "" when the connection closed first. */
    private static String ask(Socket socket) throws IOException {
        try {
            socket.getOutputStream().write(LIVE);
            socket.getOutputStream().flush();
            InputStream in = socket.getInputStream();
            StringBuilder head = new StringBuilder();
            for (int b = in.read(); b >= 0; b = in.read()) {
                head.append((char) b);
                if (head.length() >= 4 && head.substring(head.length() - 4).equals("\r\n\r\n")) {
                    String text = head.toString().toLowerCase();
                    int at = text.indexOf("content-length:");
                    int length = at < 0 ? 0 : Integer.parseInt(text.substring(at + 15, text.indexOf('\r', at)).trim());
                    in.readNBytes(length);
                    return head.toString();
                }
            }
            return head.toString();
        } catch (SocketException reset) {
            return ""; // closed by the service while writing or reading: no answer
        }
    }
}
