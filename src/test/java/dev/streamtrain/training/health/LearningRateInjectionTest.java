package dev.streamtrain.training.health;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.streamtrain.support.CheckedServedModel;
import dev.streamtrain.support.KafkaBrokerResource;
import dev.streamtrain.support.Records;
import dev.streamtrain.training.TrainerService;
import dev.streamtrain.training.TrainingEvent;
import dev.streamtrain.training.TrainingEvents;

/**
 * An operator's mistake on a healthy model, through the real broker with the production defaults: Adam at 0.01 on
 * the wine data, then its rate set ×1000 through {@code PUT /v1/training/hyperparameters}. The explosion is caught
 * and undone (rolled back to the state before it, the rate backed off), the served model is back within 90 % of
 * its accuracy before the mistake within 2,000 examples, no record is dead-lettered and nothing non-finite is
 * ever served.
 */
@QuarkusTest
@TestProfile(LearningRateInjectionTest.Profile.class)
@QuarkusTestResource(value = KafkaBrokerResource.class, restrictToAnnotatedClass = true)
class LearningRateInjectionTest {

    private static final Logger LOG = Logger.getLogger(LearningRateInjectionTest.class);
    static final String TOKEN = "Bearer test-admin-token";
    /** Examples after the mistake within which the served model must be back: about 11 passes of wine. */
    static final int RECOVERY_EXAMPLES = 2000;

    public static class Profile implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("streamtrain.model.spec", "src/test/resources/specs/wine-adam.yaml", "test.probe-dataset", "wine",
                    // the production defaults, which the test profile changes for speed
                    "streamtrain.health.holdout.fraction", "0.05", "streamtrain.checkpoint.interval", "60s",
                    "streamtrain.training.publish-interval", "1s");
        }

        @Override
        public Set<Class<?>> getEnabledAlternatives() {
            return Set.of(CheckedServedModel.class);
        }
    }

    @Inject
    TrainerService service;

    @Inject
    CheckedServedModel served;

    @Inject
    TrainingEvents events;

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrapServers;

    @Test
    void aRateSetThousandTimesTooHighIsUndoneAndTheServedModelRecoversWithin2000Examples() {
        List<String[]> before = WineStream.records(0, 10);
        List<String[]> after = WineStream.records(10, (RECOVERY_EXAMPLES + 177) / 178);
        try (Records kafka = new Records(bootstrapServers)) {
            kafka.sendAll(KafkaBrokerResource.EXAMPLES, before);
            awaitDone(before.size());
            double preFault = WineStream.accuracy(served.current().orElseThrow());
            // ten healthy passes with the production defaults: no alarm, no rollback, the rate as the spec set it
            assertThat(events.recent()).noneMatch(e -> List.of("exploding-gradient", "vanishing-gradient",
                    "non-finite-loss", "rolled-back").contains(e.type()));
            assertThat(service.trainer().health().view().learningRateScale()).isEqualTo(1.0);
            double rate = service.trainer().learningRate();
            given().header("Authorization", TOKEN).contentType("application/json")
                    .body("{\"learning-rate\": " + rate * 1000 + "}")
                    .put("/v1/training/hyperparameters").then().statusCode(200);
            kafka.sendAll(KafkaBrokerResource.EXAMPLES, after);
            awaitDone(before.size() + after.size());
            double recovered = WineStream.accuracy(served.current().orElseThrow());
            List<TrainingEvent> recent = events.recent();
            LOG.infof("adam x1000 on wine: served accuracy %.3f before, %.3f %d examples after; %d explosions, %d"
                            + " rollbacks, rate now %s; %d published", preFault, recovered, after.size(),
                    count(recent, "exploding-gradient"), count(recent, "rolled-back"),
                    service.trainer().learningRate(), served.published());

            assertThat(preFault).isGreaterThan(0.9);
            assertThat(recent).anyMatch(e -> e.type().equals("exploding-gradient") || e.type().equals("non-finite-loss"));
            assertThat(recent).anyMatch(e -> e.type().equals("rolled-back"));
            assertThat(service.trainer().learningRate()).isLessThan(rate * 1000);
            assertThat(recovered).isGreaterThanOrEqualTo(0.9 * preFault);
            assertThat(kafka.endOffset(KafkaBrokerResource.DLQ)).isZero();
        }
        assertThat(served.nonFinite()).isZero();
    }

    private void awaitDone(long records) {
        await().atMost(Duration.ofSeconds(120)).until(() -> service.trainer().recordsByPartition().values()
                .stream().mapToLong(Long::longValue).sum() == records);
    }

    private static long count(List<TrainingEvent> events, String type) {
        return events.stream().filter(e -> e.type().equals(type)).count();
    }
}
