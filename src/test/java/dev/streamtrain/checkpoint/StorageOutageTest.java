package dev.streamtrain.checkpoint;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.equalTo;

import dev.streamtrain.demo.DigitsDataset;
import dev.streamtrain.support.KafkaBrokerResource;
import dev.streamtrain.support.Records;
import dev.streamtrain.support.S3ProxyResource;
import dev.streamtrain.training.TrainerService;

/**
 * The checkpoint store is an S3 API server that goes away for a while: training goes on, the failures are
 * visible (metric, event, a degraded health check, readiness still up), and checkpoints resume, with the
 * newest state, once the server is back.
 */
@QuarkusTest
@QuarkusTestResource(value = KafkaBrokerResource.class, restrictToAnnotatedClass = true)
@QuarkusTestResource(value = S3ProxyResource.class, restrictToAnnotatedClass = true)
class StorageOutageTest {

    @Inject
    TrainerService service;

    @Inject
    CheckpointService checkpoints;

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrapServers;

    @Test
    void trainingGoesOnDuringAnOutageAndCheckpointsResumeAfterIt() {
        DigitsDataset data = DigitsDataset.load();
        try (Records kafka = new Records(bootstrapServers)) {
            kafka.sendAll(KafkaBrokerResource.EXAMPLES, Records.digits(data, 0, 400));
            await().atMost(Duration.ofSeconds(60)).until(() -> checkpoints.lastDurable()
                    .filter(m -> m.step() == service.trainer().step() && service.trainer().stats().examples() == 400)
                    .isPresent());
            assertThat(checkpoints.storeDescription()).startsWith("s3://" + S3ProxyResource.BUCKET + "/test");

            S3ProxyResource.server().stop();
            kafka.sendAll(KafkaBrokerResource.EXAMPLES, Records.digits(data, 400, 1200));
            await().atMost(Duration.ofSeconds(60)).until(() -> service.trainer().stats().examples() == 1200
                    && checkpoints.failuresInARow() >= 2);
            long stepDuringOutage = service.trainer().step();
            assertThat(checkpoints.lastDurable().orElseThrow().step()).isLessThan(stepDuringOutage);
            given().get("/q/health/ready").then().statusCode(200);
            given().get("/q/health/well").then().statusCode(503)
                    .body("checks.find { it.name == 'checkpoints' }.data.state", equalTo("degraded"));
            assertThat(given().get("/q/metrics").asString())
                    .containsPattern("streamtrain_checkpoints_total\\{model=\"digits\",result=\"failure\"} [1-9]");
            assertThat(given().get("/v1/training/status").jsonPath().getList("events.type", String.class))
                    .contains("checkpoint-failed");

            S3ProxyResource.server().restart();
            await().atMost(Duration.ofSeconds(30)).until(() -> checkpoints.lastDurable()
                    .filter(m -> m.step() == stepDuringOutage).isPresent());
            assertThat(checkpoints.failuresInARow()).isZero();
            given().get("/q/health/well").then().statusCode(200);
            // its offsets cover everything trained during the outage
            assertThat(checkpoints.lastDurable().orElseThrow().offsets())
                    .containsEntry(KafkaBrokerResource.EXAMPLES + "-0", 1200L);
        }
    }
}
