package dev.streamtrain.ops;

import dev.streamtrain.support.ServiceProcess;
import dev.streamtrain.support.TestCertificates;
import inference.GRPCInferenceServiceGrpc;
import inference.GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub;
import inference.GrpcPredictV2.InferTensorContents;
import inference.GrpcPredictV2.ModelInferRequest;
import inference.GrpcPredictV2.ModelInferRequest.InferInputTensor;
import inference.GrpcPredictV2.ServerLiveRequest;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Volume;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The chart's serving TLS and serving token, against the packaged service in its own JVM: the environment the chart
 * renders for {@code tls.existingSecret} and {@code servingToken.existingSecret} (taken from a rendering, the
 * Secrets' mount paths pointed at local files holding a generated certificate and a token), and nothing else of
 * TLS. REST over HTTPS and gRPC over TLS must answer on the one port, plaintext must not, and inference must
 * want the token.
 */
class ChartServingTlsIT {

    private static final Map<String, Object> SECURED = Map.of("tls.existingSecret", "streamtrain-tls",
            "servingToken.existingSecret", "streamtrain-serving-token");
    private static final String TOKEN = "chart-serving-token";
    private static final String INFER = "{\"inputs\":[{\"name\":\"input\",\"shape\":[1,64],\"datatype\":\"FP32\","
            + "\"data\":[" + String.join(",", Collections.nCopies(64, "3")) + "]}]}";

    private static TestCertificates certificates;
    private static ServiceProcess service;
    private static ManagedChannel channel;

    @BeforeAll
    static void start() throws IOException {
        Path work = Path.of("target", "chart-tls-it", UUID.randomUUID().toString()).toAbsolutePath();
        certificates = TestCertificates.generate(work.resolve("ca"));
        Path tlsSecret = Files.createDirectories(work.resolve("secrets/streamtrain-tls"));
        certificates.writeServerPem(tlsSecret.resolve("tls.crt"), tlsSecret.resolve("tls.key"));
        Path tokenSecret = Files.createDirectories(work.resolve("secrets/streamtrain-serving-token"));
        Files.writeString(tokenSecret.resolve("token"), TOKEN + "\n");

        Map<String, String> environment = securedEnvironment(work.resolve("secrets"));
        Map<String, String> properties = new HashMap<>();
        properties.put("streamtrain.demo.enabled", "true");
        properties.put("streamtrain.demo.passes", "1");
        properties.put("streamtrain.checkpoint.root", "file:" + work.resolve("checkpoints"));
        properties.put("streamtrain.admin.token", "it-admin-token");
        service = ServiceProcess.start("chart-tls-it", properties, environment, "/q/health/ready",
                certificates.sslContext(false));
        URI uri = service.uri("/");
        channel = NettyChannelBuilder.forAddress("localhost", uri.getPort())
                .sslContext(GrpcSslContexts.forClient().trustManager(certificates.caPem().toFile()).build()).build();
    }

    @AfterAll
    static void stop() throws InterruptedException {
        if (channel != null) {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
        if (service != null) {
            service.close();
        }
    }

    /**
     * What the chart adds to the trainer's container for TLS and the token (the same for the serving replicas'), the
     * paths under the Secrets' mounts moved to {@code secrets/<secret name>}; the HTTPS port is the test's own.
     */
    private static Map<String, String> securedEnvironment(Path secrets) {
        var plain = HelmRender.render("streamtrain");
        var secured = K8sObjects.parse(Map.of("secured", HelmRender.template("streamtrain", SECURED)));
        PodSpec pod = secured.deployment("trainer").getSpec().getTemplate().getSpec();
        Container container = pod.getContainers().get(0);
        List<EnvVar> added = container.getEnv().stream()
                .filter(e -> !env(plain.deployment("trainer").getSpec().getTemplate().getSpec()).contains(e)).toList();
        assertThat(added).as("the serving replicas get the same TLS and token settings")
                .isEqualTo(env(secured.deployment("serving").getSpec().getTemplate().getSpec()).stream()
                        .filter(e -> !env(plain.deployment("serving").getSpec().getTemplate().getSpec()).contains(e))
                        .toList());
        assertThat(added).extracting(EnvVar::getName).as("what the chart renders for serving TLS and the token")
                .contains("quarkus.tls.key-store.pem.0.cert", "STREAMTRAIN_SERVING_TOKEN_FILE");

        Map<String, Path> mounts = new LinkedHashMap<>();
        container.getVolumeMounts().forEach(mount -> pod.getVolumes().stream()
                .filter(v -> v.getName().equals(mount.getName()) && v.getSecret() != null).findFirst()
                .map(Volume::getSecret)
                .ifPresent(secret -> mounts.put(mount.getMountPath(), secrets.resolve(secret.getSecretName()))));
        assertThat(mounts).as("the Secrets are mounted").hasSize(3);
        int containerPort = container.getPorts().get(0).getContainerPort();

        Map<String, String> environment = new LinkedHashMap<>();
        for (EnvVar variable : added) {
            assertThat(variable.getValueFrom()).as("%s: a plain value", variable.getName()).isNull();
            String value = variable.getValue();
            for (var mount : mounts.entrySet()) {
                if (value.startsWith(mount.getKey() + "/")) {
                    value = mount.getValue() + value.substring(mount.getKey().length());
                    assertThat(Path.of(value)).as("%s: a file of its Secret", variable.getName()).exists();
                }
            }
            if (variable.getName().equals("QUARKUS_HTTP_SSL_PORT")) {
                // the one container port: ServiceProcess puts both ports on its own free port
                assertThat(value).isEqualTo(String.valueOf(containerPort));
                continue;
            }
            environment.put(variable.getName(), value);
        }
        return environment;
    }

    private static List<EnvVar> env(PodSpec pod) {
        return pod.getContainers().get(0).getEnv();
    }

    private static HttpResponse<String> rest(String method, String path, String token) throws Exception {
        HttpClient client = HttpClient.newBuilder().sslContext(certificates.sslContext(false))
                .connectTimeout(Duration.ofSeconds(10)).build();
        HttpRequest.Builder request = HttpRequest.newBuilder(service.uri(path)).timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/json")
                .method(method, method.equals("POST") ? HttpRequest.BodyPublishers.ofString(INFER)
                        : HttpRequest.BodyPublishers.noBody());
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        return client.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void restOverHttpsAnswersWithTheTokenAndRefusesWithoutIt() throws Exception {
        assertThat(service.uri("/").getScheme()).isEqualTo("https");
        HttpResponse<String> answer = rest("POST", "/v2/models/digits/infer", TOKEN);
        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
        assertThat(answer.body()).contains("\"model_name\":\"digits\"", "\"outputs\"");
        assertThat(rest("POST", "/v2/models/digits/infer", null).statusCode()).isEqualTo(401);
        assertThat(rest("POST", "/v2/models/digits/infer", "not-" + TOKEN).statusCode()).isEqualTo(401);
        assertThat(rest("GET", "/q/health/ready", null).statusCode()).as("probes need no token").isEqualTo(200);
        assertThat(rest("GET", "/q/metrics", null).body()).contains("streamtrain_");
    }

    @Test
    void plaintextHttpIsNotServedOnThePort() {
        URI plain = URI.create("http://127.0.0.1:" + service.uri("/").getPort() + "/q/health/live");
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        assertThatThrownBy(() -> client.send(HttpRequest.newBuilder(plain).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString()))
                .as("HTTP on the HTTPS port").isInstanceOf(IOException.class);
    }

    @Test
    void grpcOverTlsAnswersWithTheTokenAndRefusesWithoutIt() {
        var answer = stub(TOKEN).modelInfer(inferRequest());
        assertThat(answer.getModelName()).isEqualTo("digits");
        assertThat(answer.getOutputs(0).getShapeList()).containsExactly(1L, 10L);
        assertThat(stub(null).serverLive(ServerLiveRequest.getDefaultInstance()).getLive()).isTrue();
        assertThatThrownBy(() -> stub(null).modelInfer(inferRequest()))
                .isInstanceOfSatisfying(StatusRuntimeException.class,
                        e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED));

        ManagedChannel plaintext = NettyChannelBuilder.forAddress("localhost", service.uri("/").getPort())
                .usePlaintext().build();
        try {
            assertThatThrownBy(() -> GRPCInferenceServiceGrpc.newBlockingStub(plaintext)
                    .withDeadlineAfter(30, TimeUnit.SECONDS).serverLive(ServerLiveRequest.getDefaultInstance()))
                    .isInstanceOfSatisfying(StatusRuntimeException.class,
                            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
        } finally {
            plaintext.shutdownNow();
        }
    }

    private static GRPCInferenceServiceBlockingStub stub(String token) {
        GRPCInferenceServiceBlockingStub stub = GRPCInferenceServiceGrpc.newBlockingStub(channel)
                .withDeadlineAfter(30, TimeUnit.SECONDS);
        if (token == null) {
            return stub;
        }
        Metadata metadata = new Metadata();
        metadata.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + token);
        return stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(metadata));
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
}
