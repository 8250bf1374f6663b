package dev.streamtrain.serving;

import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.streamtrain.support.FactorySnapshotProfile;
import dev.streamtrain.support.HelmTestScript;
import dev.streamtrain.support.KafkaBrokerResource;
import dev.streamtrain.support.ServingTlsResource;
import dev.streamtrain.support.TestCertificates;
import inference.GRPCInferenceServiceGrpc;
import inference.GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub;
import inference.GrpcPredictV2.InferTensorContents;
import inference.GrpcPredictV2.ModelInferRequest;
import inference.GrpcPredictV2.ModelInferRequest.InferInputTensor;
import inference.GrpcPredictV2.ModelReadyRequest;
import inference.GrpcPredictV2.ServerLiveRequest;

/**
 * Serving over TLS only, with a token required (ServingTlsResource): REST and gRPC from clients that trust the test
 * CA and from clients that do not; the token's refusals on both protocols, its rotation by rewriting the file, the
 * refusal counters, health and metrics open, and no token in the log.
 */
@QuarkusTest
@TestProfile(FactorySnapshotProfile.class)
@QuarkusTestResource(value = KafkaBrokerResource.class, restrictToAnnotatedClass = true)
@QuarkusTestResource(value = ServingTlsResource.class, restrictToAnnotatedClass = true)
class SecuredServingTest {

    private static final String INFER_BODY = "{\"inputs\":[{\"name\":\"input\",\"shape\":[1,64],\"datatype\":\"FP32\","
            + "\"data\":[" + String.join(",", Collections.nCopies(64, "3")) + "]}]}";

    @TestHTTPResource(value = "/", tls = true)
    URL https;

    private final List<String> logged = Collections.synchronizedList(new ArrayList<>());
    private final Handler capture = new Handler() {
        @Override
        public void publish(LogRecord record) {
            logged.add(record.getMessage() + " " + Arrays.toString(record.getParameters()));
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };
    private ManagedChannel trusted;

    @BeforeEach
    void connect() throws Exception {
        java.util.logging.Logger.getLogger("").addHandler(capture);
        trusted = NettyChannelBuilder.forAddress(https.getHost(), https.getPort())
                .sslContext(GrpcSslContexts.forClient().trustManager(certificates().caPem().toFile()).build())
                .build();
    }

    @AfterEach
    void disconnect() throws InterruptedException {
        java.util.logging.Logger.getLogger("").removeHandler(capture);
        trusted.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }

    private static TestCertificates certificates() {
        return ServingTlsResource.certificates();
    }

    private HttpResponse<String> rest(SSLContext tls, String method, String path, String authorization)
            throws Exception {
        HttpClient client = HttpClient.newBuilder().sslContext(tls).connectTimeout(Duration.ofSeconds(10)).build();
        HttpRequest.Builder request = HttpRequest.newBuilder(https.toURI().resolve(path))
                .timeout(Duration.ofSeconds(30)).header("Content-Type", "application/json");
        if (authorization != null) {
            request.header("Authorization", authorization);
        }
        request.method(method, method.equals("POST") ? HttpRequest.BodyPublishers.ofString(INFER_BODY)
                : HttpRequest.BodyPublishers.noBody());
        return client.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static ModelInferRequest inferRequest() {
        InferTensorContents.Builder contents = InferTensorContents.newBuilder();
        for (int i = 0; i < 64; i++) {
            contents.addFp32Contents(3f);
        }
        return ModelInferRequest.newBuilder().setModelName("digits")
                .addInputs(InferInputTensor.newBuilder().setName("input").setDatatype("FP32").addShape(1).addShape(64)
                        .setContents(contents))
                .build();
    }

    private GRPCInferenceServiceBlockingStub stub(ManagedChannel channel, String authorization) {
        GRPCInferenceServiceBlockingStub stub = GRPCInferenceServiceGrpc.newBlockingStub(channel)
                .withDeadlineAfter(30, TimeUnit.SECONDS);
        if (authorization == null) {
            return stub;
        }
        Metadata metadata = new Metadata();
        metadata.put(GrpcTokenInterceptor.AUTHORIZATION, authorization);
        return stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(metadata));
    }

    @Test
    void restOverTlsAnswersAClientThatTrustsTheCaAndHandshakesWithNoOtherClient() throws Exception {
        assertThat(https.getProtocol()).isEqualTo("https");
        HttpResponse<String> answer = rest(certificates().sslContext(false), "POST", "/v2/models/digits/infer",
                "Bearer " + ServingTlsResource.TOKEN);
        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
        assertThat(answer.body()).contains("\"model_name\":\"digits\"");

        // the JDK's default trust store does not hold the test CA
        assertThatThrownBy(() -> rest(SSLContext.getDefault(), "GET", "/v2/health/live", null))
                .hasCauseInstanceOf(SSLHandshakeException.class);
    }

    /**
     * The chart's {@code helm test} script with serving TLS and a token set follows them: HTTPS trusting the Secret's
     * CA ({@code ca.crt}, or else the chain in {@code tls.crt}) and the Secret's token, here pointed at local copies;
     * with a token the service does not take, or no CA it can verify with, it fails.
     */
    @Test
    void theChartsHelmTestScriptWithTlsAndATokenPassesAgainstThisService() throws Exception {
        String script = HelmTestScript.render(Map.of("tls.existingSecret", "streamtrain-tls",
                "servingToken.existingSecret", "streamtrain-serving-token"));
        assertThat(script).contains("base=https://streamtrain-serving:8080");
        Path dir = Files.createTempDirectory(certificates().dir(), "helm-test");
        Path withCa = Files.createDirectories(dir.resolve("with-ca"));
        Files.copy(certificates().caPem(), withCa.resolve("ca.crt"));
        Path chainOnly = Files.createDirectories(dir.resolve("chain-only"));
        certificates().writeServerPem(chainOnly.resolve("tls.crt"), chainOnly.resolve("tls.key"));
        Path token = Files.createDirectories(dir.resolve("token"));
        Files.writeString(token.resolve("token"), ServingTlsResource.TOKEN + "\n");
        Path wrongToken = Files.createDirectories(dir.resolve("wrong-token"));
        Files.writeString(wrongToken.resolve("token"), "not-" + ServingTlsResource.TOKEN + "\n");
        String base = "base=https://localhost:" + https.getPort();

        for (Path tls : List.of(withCa, chainOnly)) {
            assertThat(HelmTestScript.run(script, Map.of("base=https://streamtrain-serving:8080", base,
                    "/etc/streamtrain/tls/", tls + "/", "/etc/streamtrain/serving-token/", token + "/")))
                    .as("with %s", tls.getFileName()).contains("inference answered");
        }
        assertThat(HelmTestScript.run(script, Map.of("base=https://streamtrain-serving:8080", base,
                "/etc/streamtrain/tls/", withCa + "/", "/etc/streamtrain/serving-token/", wrongToken + "/")))
                .as("a wrong token").isNull();
        assertThat(HelmTestScript.run(script, Map.of("base=https://streamtrain-serving:8080", base,
                "/etc/streamtrain/tls/", wrongToken + "/", "/etc/streamtrain/serving-token/", token + "/")))
                .as("no CA").isNull();
    }

    @Test
    void grpcOverTlsAnswersAClientThatTrustsTheCaAndNoOtherClient() throws Exception {
        var answer = stub(trusted, "Bearer " + ServingTlsResource.TOKEN).modelInfer(inferRequest());
        assertThat(answer.getModelName()).isEqualTo("digits");
        assertThat(answer.getOutputs(0).getShapeList()).containsExactly(1L, 10L);

        ManagedChannel untrusted = NettyChannelBuilder.forAddress(https.getHost(), https.getPort())
                .sslContext(GrpcSslContexts.forClient().build()).build();
        ManagedChannel plaintext = NettyChannelBuilder.forAddress(https.getHost(), https.getPort())
                .usePlaintext().build();
        try {
            for (ManagedChannel channel : List.of(untrusted, plaintext)) {
                assertThatThrownBy(() -> stub(channel, null).serverLive(ServerLiveRequest.getDefaultInstance()))
                        .isInstanceOfSatisfying(StatusRuntimeException.class,
                                e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
            }
        } finally {
            untrusted.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            plaintext.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    @Test
    void inferenceRefusesWithoutTheTokenAndCountsTheRefusalsWhileHealthAndMetricsStayOpen() throws Exception {
        SSLContext tls = certificates().sslContext(false);
        String wrong = "Bearer not-" + ServingTlsResource.TOKEN;
        for (String path : List.of("/v2", "/v2/models/digits")) {
            assertThat(rest(tls, "GET", path, null).statusCode()).as(path).isEqualTo(401);
        }
        HttpResponse<String> missing = rest(tls, "POST", "/v2/models/digits/infer", null);
        assertThat(missing.statusCode()).isEqualTo(401);
        assertThat(missing.headers().firstValue("WWW-Authenticate")).hasValue("Bearer realm=\"streamtrain\"");
        assertThat(missing.body()).contains("Authorization: Bearer");
        assertThat(rest(tls, "POST", "/v2/models/digits/explain", wrong).statusCode()).isEqualTo(401);
        assertThat(rest(tls, "POST", "/v2/models/digits/infer", "Basic " + ServingTlsResource.TOKEN).statusCode())
                .isEqualTo(401);
        for (String open : List.of("/v2/health/live", "/v2/health/ready", "/v2/models/digits/ready",
                "/q/health/ready")) {
            assertThat(rest(tls, "GET", open, null).statusCode()).as(open).isEqualTo(200);
        }

        assertThatThrownBy(() -> stub(trusted, null).modelInfer(inferRequest()))
                .isInstanceOfSatisfying(StatusRuntimeException.class,
                        e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED));
        assertThatThrownBy(() -> stub(trusted, wrong).modelInfer(inferRequest()))
                .isInstanceOfSatisfying(StatusRuntimeException.class,
                        e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED));
        assertThat(stub(trusted, null).serverLive(ServerLiveRequest.getDefaultInstance()).getLive()).isTrue();
        assertThat(stub(trusted, null).modelReady(ModelReadyRequest.newBuilder().setName("digits").build())
                .getReady()).isTrue();

        String metrics = rest(tls, "GET", "/q/metrics", null).body();
        assertThat(counter(metrics, "rest", "missing")).isGreaterThanOrEqualTo(3);
        assertThat(counter(metrics, "rest", "invalid")).isGreaterThanOrEqualTo(2);
        assertThat(counter(metrics, "grpc", "missing")).isGreaterThanOrEqualTo(1);
        assertThat(counter(metrics, "grpc", "invalid")).isGreaterThanOrEqualTo(1);
        assertThat(logged).noneMatch(line -> line.contains(ServingTlsResource.TOKEN));
    }

    @Test
    void rewritingTheTokenFileRotatesTheTokenWithoutARestart() throws Exception {
        SSLContext tls = certificates().sslContext(false);
        String old = "Bearer " + ServingTlsResource.TOKEN;
        String rotated = "serving-token-two";
        try {
            Files.writeString(ServingTlsResource.tokenFile(), ServingTlsResource.TOKEN + "\n" + rotated + "\n");
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
                    assertThat(rest(tls, "POST", "/v2/models/digits/infer", "Bearer " + rotated).statusCode())
                            .isEqualTo(200));
            assertThat(rest(tls, "POST", "/v2/models/digits/infer", old).statusCode()).isEqualTo(200);

            Files.writeString(ServingTlsResource.tokenFile(), rotated + "\n");
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
                    assertThat(rest(tls, "POST", "/v2/models/digits/infer", old).statusCode()).isEqualTo(401));
            assertThat(stub(trusted, "Bearer " + rotated).modelInfer(inferRequest()).getModelName())
                    .isEqualTo("digits");
            assertThatThrownBy(() -> stub(trusted, old).modelInfer(inferRequest()))
                    .isInstanceOf(StatusRuntimeException.class);
            assertThat(logged).noneMatch(line -> line.contains(rotated) || line.contains(ServingTlsResource.TOKEN));
        } finally {
            Files.writeString(ServingTlsResource.tokenFile(), ServingTlsResource.TOKEN + "\n");
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
                    assertThat(rest(tls, "POST", "/v2/models/digits/infer", old).statusCode()).isEqualTo(200));
        }
    }

    private static double counter(String metrics, String protocol, String reason) {
        return metrics.lines()
                .filter(line -> line.startsWith("streamtrain_serving_refused_total{")
                        && line.contains("protocol=\"" + protocol + "\"") && line.contains("reason=\"" + reason + "\""))
                .mapToDouble(line -> Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1)))
                .findFirst().orElse(0);
    }
}
