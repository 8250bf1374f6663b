package dev.streamtrain.ops;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.S3Object;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static dev.streamtrain.support.ServiceEndpoint.at;

import dev.streamtrain.demo.DigitsDataset;
import dev.streamtrain.embedded.EmbeddedKafka;
import dev.streamtrain.support.PodmanContainer;
import dev.streamtrain.support.Records;
import dev.streamtrain.support.S3ProxyServer;
import dev.streamtrain.support.ServiceEndpoint;
import inference.GRPCInferenceServiceGrpc;
import inference.GrpcPredictV2.InferTensorContents;
import inference.GrpcPredictV2.ModelInferRequest;
import inference.GrpcPredictV2.ModelInferResponse;

/**
 * The built image, run as the manifests run it (non-root, read-only root filesystem, /tmp a tmpfs, 1 GiB),
 * against a Kafka broker and an S3 API server on the host, checked from outside only: a trainer container
 * becomes ready, trains from the records sent to the topic, writes its checkpoints to the bucket and answers
 * V2 inference over REST and gRPC with Prometheus series on /q/metrics; a serving-only container loads the
 * newest checkpoint from the bucket, follows the trainer's next one, and answers with the trainer's weights.
 * Runs in the {@code container-image} Maven profile, on the image {@code docker/build-image.sh} built
 * (system property {@code streamtrain.image}). Start time, resident memory and the image's size go to
 * {@code target/container/measurements.txt}; each container's output to {@code target/it-logs}. The containers are
 * named after their port, so that two runs on one host do not meet.
 */
class ContainerImageIT {

    private static final String BUCKET = "streamtrain";
    private static final String TOKEN = "image-it-token";
    private static final int RECORDS = 1500;
    private static final Duration START_DEADLINE = Duration.ofSeconds(180);
    private static final Pattern SERIES = Pattern.compile("(?m)^(streamtrain_[a-z0-9_]+)[{ ]");
    private static final ObjectMapper JSON = new ObjectMapper();

    private static String image;
    private static EmbeddedKafka broker;
    private static S3ProxyServer s3;
    private final Map<String, String> measurements = new LinkedHashMap<>();

    @BeforeAll
    static void start() {
        image = System.getProperty("streamtrain.image", "");
        assertThat(image).as("the image to check (system property streamtrain.image)").isNotBlank();
        assertThat(PodmanContainer.imageExists(image)).as(image + " in podman's storage; build it with"
                + " docker/build-image.sh, or run this check through ./mvnw verify -Pcontainer-image").isTrue();
        broker = EmbeddedKafka.start();
        broker.createTopics(Map.of("streamtrain.examples", 1, "streamtrain.examples.dlq", 1, "streamtrain.events", 1));
        s3 = S3ProxyServer.start(null);
        s3.createBucket(BUCKET);
    }

    @AfterAll
    static void stop() {
        if (s3 != null) {
            s3.close();
        }
        if (broker != null) {
            broker.close();
        }
    }

    @Test
    void aTrainerAndAServingReplicaFromTheImage() throws Exception {
        DigitsDataset data = DigitsDataset.load();
        int trainerPort = ServiceEndpoint.freePort();
        try (PodmanContainer trainer = PodmanContainer.start(image, "streamtrain-it-trainer-" + trainerPort,
                environment(trainerPort, "train", Map.of()))) {
            withLogsOnFailure(trainer, () -> checkTrainer(trainer, trainerPort, data));
            int replicaPort = ServiceEndpoint.freePort();
            // the JVM flags of the serving Deployment (k8s/040-Deployment-streamtrain-serving.yaml), which replace the image's
            Map<String, String> manifestFlags = Map.of("JAVA_OPTS_APPEND", "-XX:MaxRAMPercentage=35 -XX:+ExitOnOutOfMemoryError"
                    + " -Dorg.bytedeco.javacpp.maxbytes=256m -Dorg.bytedeco.javacpp.cachedir=/tmp/javacpp -Djava.io.tmpdir=/tmp");
            try (PodmanContainer replica = PodmanContainer.start(image, "streamtrain-it-serving-" + replicaPort,
                    environment(replicaPort, "serve", manifestFlags))) {
                withLogsOnFailure(replica, () -> checkReplica(replica, replicaPort, trainer, trainerPort, data));
                withLogsOnFailure(replica, () -> assertThat(replica.stop()).as("replica's exit status after SIGTERM").isIn(0, 143));
            }
            withLogsOnFailure(trainer, () -> assertThat(trainer.stop()).as("trainer's exit status after SIGTERM").isIn(0, 143));
        } finally {
            writeMeasurements();
        }
    }

    private void checkTrainer(PodmanContainer trainer, int port, DigitsDataset data) throws Exception {
        long started = System.nanoTime();
        awaitReady(trainer, port);
        measurements.put("trainer: seconds from `podman run` to ready", seconds(started));
        assertThat(trainer.exec("id", "-u").output().strip()).as("the container's user").isEqualTo("185");
        assertThat(trainer.exec("touch", "/deployments/probe").exitCode()).as("writing to the root filesystem").isNotZero();

        try (Records kafka = new Records(broker.bootstrapServers())) {
            kafka.sendAll("streamtrain.examples", Records.digits(data, 0, RECORDS));
        }
        awaitPosition(port, RECORDS);
        long examples = at(port).json("/v1/training/status").path("examples").asLong();
        long step = at(port).post("/v1/training/checkpoint", "", TOKEN).path("step").asLong();
        assertThat(step).as("steps trained from the records").isPositive();
        assertThat(checkpointObjects()).as("checkpoint objects in s3://" + BUCKET + "/checkpoints/")
                .anyMatch(key -> key.startsWith(String.format("checkpoints/digits/%012d/", step)));

        JsonNode rest = at(port).post("/v2/models/digits/infer", probe(data, 0, 1), null);
        assertThat(rest.path("model_version").asText()).isEqualTo(Long.toString(step));
        assertThat(rest.path("outputs").get(0).path("data")).as("REST inference answer").hasSize(10);
        assertThat(grpcInfer(port, data, 0).getOutputs(0).getContents().getFp32ContentsList())
                .as("gRPC inference answer").hasSize(10);

        String metrics = at(port).text("/q/metrics");
        // examples trained: the records less those held out for the held-out loss
        assertThat(examples).as("examples trained").isBetween(RECORDS * 8L / 10, (long) RECORDS);
        assertThat(metrics).contains("streamtrain_examples_trained_total{model=\"digits\"} " + examples + ".0");
        assertThat(series(metrics)).as("streamtrain_* series on /q/metrics").hasSizeGreaterThan(10);
        recordMemory("trainer", trainer);
    }

    private void checkReplica(PodmanContainer replica, int port, PodmanContainer trainer, int trainerPort,
                              DigitsDataset data) throws Exception {
        long started = System.nanoTime();
        awaitReady(replica, port);
        measurements.put("serving replica: seconds from `podman run` to ready", seconds(started));
        String probe = probe(data, 0, 3);
        long loaded = version(port);
        assertThat(loaded).as("the replica loaded the newest checkpoint at start").isEqualTo(version(trainerPort));
        assertThat(at(port).post("/v2/models/digits/infer", probe, null).path("outputs"))
                .isEqualTo(at(trainerPort).post("/v2/models/digits/infer", probe, null).path("outputs"));
        assertThat(at(port).text("/v1/training/status", 409)).as("training control on a replica").isNotNull();

        // it follows the trainer's next checkpoint (announced on the events topic)
        try (Records kafka = new Records(broker.bootstrapServers())) {
            kafka.sendAll("streamtrain.examples", Records.digits(data, RECORDS, RECORDS + 300));
        }
        awaitPosition(trainerPort, RECORDS + 300);
        long next = at(trainerPort).post("/v1/training/checkpoint", "", TOKEN).path("step").asLong();
        assertThat(next).isGreaterThan(loaded);
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(250)).until(() -> version(port) == next);
        await().atMost(Duration.ofSeconds(10)).until(() -> version(trainerPort) == next);
        assertThat(at(port).post("/v2/models/digits/infer", probe, null).path("outputs")).as("the replica answers with the trainer's weights")
                .isEqualTo(at(trainerPort).post("/v2/models/digits/infer", probe, null).path("outputs"));
        assertThat(grpcInfer(port, data, 1).getModelVersion()).isEqualTo(Long.toString(next));
        assertThat(at(port).text("/q/metrics")).contains("streamtrain_model_staleness_seconds{model=\"digits\"}");
        recordMemory("serving replica", replica);
    }

    private static Map<String, String> environment(int port, String mode, Map<String, String> extra) {
        Map<String, String> environment = new HashMap<>();
        environment.put("QUARKUS_HTTP_PORT", Integer.toString(port));
        environment.put("STREAMTRAIN_MODE", mode);
        environment.put("KAFKA_BOOTSTRAP_SERVERS", broker.bootstrapServers());
        environment.put("STREAMTRAIN_CHECKPOINT_ROOT", "s3://" + BUCKET + "/checkpoints");
        environment.put("STREAMTRAIN_CHECKPOINT_S3_ENDPOINT", s3.endpoint());
        environment.put("STREAMTRAIN_CHECKPOINT_S3_REGION", "us-east-1");
        environment.put("STREAMTRAIN_CHECKPOINT_S3_PATH_STYLE", "true");
        environment.put("AWS_ACCESS_KEY_ID", s3.accessKey());
        environment.put("AWS_SECRET_ACCESS_KEY", s3.secretKey());
        environment.put("AWS_EC2_METADATA_DISABLED", "true");
        environment.put("STREAMTRAIN_ADMIN_TOKEN", TOKEN);
        environment.putAll(extra);
        return environment;
    }

    private static void awaitReady(PodmanContainer container, int port) {
        await().atMost(START_DEADLINE).pollInterval(Duration.ofMillis(250)).until(() -> {
            if (!container.isRunning()) {
                throw new IllegalStateException("the container exited with " + container.inspect("{{.State.ExitCode}}")
                        + " while starting");
            }
            return at(port).status("/q/health/ready") == 200;
        });
    }

    /** Waits until the trainer has taken {@code records} records of the topic (trained or held out). */
    private static void awaitPosition(int port, long records) {
        await().atMost(Duration.ofSeconds(180)).pollInterval(Duration.ofMillis(500)).until(() ->
                at(port).json("/v1/training/status").path("records").path("streamtrain.examples-0").asLong() == records);
    }

    private List<String> checkpointObjects() {
        try (S3Client client = s3.client()) {
            return client.listObjectsV2Paginator(b -> b.bucket(BUCKET).prefix("checkpoints/")).contents().stream()
                    .map(S3Object::key).toList();
        }
    }

    private static ModelInferResponse grpcInfer(int port, DigitsDataset data, int row) throws InterruptedException {
        ManagedChannel channel = ManagedChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
        try {
            InferTensorContents.Builder contents = InferTensorContents.newBuilder();
            for (double feature : features(data, row)) {
                contents.addFp32Contents((float) feature);
            }
            return GRPCInferenceServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS)
                    .modelInfer(ModelInferRequest.newBuilder().setModelName("digits").addInputs(
                            ModelInferRequest.InferInputTensor.newBuilder().setName("input").setDatatype("FP32")
                                    .addShape(1).addShape(64).setContents(contents)).build());
        } finally {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    private static String probe(DigitsDataset data, int from, int rows) throws IOException {
        List<Double> values = new ArrayList<>();
        for (int row = from; row < from + rows; row++) {
            for (double feature : features(data, row)) {
                values.add(feature);
            }
        }
        return "{\"inputs\":[{\"name\":\"input\",\"shape\":[" + rows + ",64],\"datatype\":\"FP32\",\"data\":"
                + JSON.writeValueAsString(values) + "}]}";
    }

    private static double[] features(DigitsDataset data, int row) {
        try {
            JsonNode values = JSON.readTree(data.toJson(row)).path("features");
            double[] features = new double[values.size()];
            for (int i = 0; i < features.length; i++) {
                features[i] = values.get(i).asDouble();
            }
            return features;
        } catch (IOException e) {
            throw new IllegalStateException("digits row " + row + " is not JSON", e);
        }
    }

    private static long version(int port) throws Exception {
        if (at(port).status("/v2/models/digits/ready") != 200) {
            return -1;
        }
        return at(port).json("/v2/models/digits").path("versions").get(0).asLong();
    }

    private static java.util.Set<String> series(String metrics) {
        java.util.Set<String> names = new java.util.TreeSet<>();
        Matcher matcher = SERIES.matcher(metrics);
        while (matcher.find()) {
            names.add(matcher.group(1));
        }
        return names;
    }

    /** The resident memory of the container's JVM (the container's main process), from the host's /proc. */
    private void recordMemory(String role, PodmanContainer container) throws IOException {
        Path status = Path.of("/proc", container.inspect("{{.State.Pid}}"), "status");
        for (String line : Files.readAllLines(status)) {
            if (line.startsWith("VmRSS:") || line.startsWith("VmHWM:")) {
                measurements.put(role + ": " + line.substring(0, 5) + " (" + (line.startsWith("VmRSS") ? "resident now" : "peak resident") + ")",
                        line.substring(6).strip());
            }
        }
    }

    private void writeMeasurements() throws IOException {
        measurements.put("image", image);
        Path file = Files.createDirectories(Path.of("target", "container")).resolve("measurements.txt");
        StringBuilder text = new StringBuilder();
        measurements.forEach((key, value) -> text.append(key).append(": ").append(value).append('\n'));
        Files.writeString(file, text);
        System.out.print(text);
    }

    private interface Check {
        void run() throws Exception;
    }

    /** Runs the check; a failure carries the end of the container's output, which holds the reason. */
    private static void withLogsOnFailure(PodmanContainer container, Check check) throws Exception {
        try {
            check.run();
        } catch (Exception | AssertionError e) {
            throw new AssertionError(e.getMessage() + "\n---- the container's output ends:\n" + container.logTail(), e);
        }
    }

    private static String seconds(long startedNanos) {
        return String.format(java.util.Locale.ROOT, "%.1f", (System.nanoTime() - startedNanos) / 1e9);
    }
}
