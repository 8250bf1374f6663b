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

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.streamtrain.support.CheckedServedModel;
import dev.streamtrain.support.KafkaBrokerResource;
import dev.streamtrain.support.Records;
import dev.streamtrain.training.TrainerService;
import dev.streamtrain.training.TrainingEvent;
import dev.streamtrain.training.TrainingEvents;

/**
 * A model that explodes on good data, through the real broker with the production defaults: plain SGD at the
 * spec's largest rate (10) on five shuffled passes of the wine data. Every non-finite step is blamed on the model,
 * never on the records: it is rolled back to the last good state, the rate backed off and the batch trained again,
 * until the rate is one the model can learn at. No record is dead-lettered, every one is trained or held out, no
 * snapshot with a non-finite output is ever served, and the served model ends up classifying the wine well.
 */
@QuarkusTest
@TestProfile(SgdExplosionTest.Profile.class)
@QuarkusTestResource(value = KafkaBrokerResource.class, restrictToAnnotatedClass = true)
class SgdExplosionTest {

    private static final Logger LOG = Logger.getLogger(SgdExplosionTest.class);

    public static class Profile implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("streamtrain.model.spec", "src/test/resources/specs/wine-sgd-10.yaml", "test.probe-dataset", "wine",
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
    void theExplosionIsRolledBackNoGoodRecordIsDeadLetteredAndTheModelLearns() {
        List<String[]> records = WineStream.records(0, 5);
        try (Records kafka = new Records(bootstrapServers)) {
            kafka.sendAll(KafkaBrokerResource.EXAMPLES, records);
            await().atMost(Duration.ofSeconds(120)).until(() -> service.trainer().recordsByPartition().values()
                    .stream().mapToLong(Long::longValue).sum() == records.size());
            // no good record is dead-lettered for a broken model
            assertThat(kafka.endOffset(KafkaBrokerResource.DLQ)).isZero();
        }
        List<TrainingEvent> recent = events.recent();
        List<TrainingEvent> nonFinite = recent.stream().filter(e -> e.type().equals("non-finite-loss")).toList();
        double accuracy = WineStream.accuracy(served.current().orElseThrow());
        LOG.infof("sgd at 10 on wine: %d non-finite steps, %d rollbacks, rate now %s, prequential accuracy %.3f,"
                        + " served accuracy %.3f, %d published", nonFinite.size(),
                recent.stream().filter(e -> e.type().equals("rolled-back")).count(), service.trainer().learningRate(),
                service.trainer().stats().accuracy(), accuracy, served.published());

        assertThat(nonFinite).isNotEmpty().allMatch(e -> "model".equals(e.detail().get("blamed")));
        assertThat(recent).anyMatch(e -> e.type().equals("rolled-back"));
        assertThat(service.trainer().learningRate()).isLessThan(10);
        // never a non-finite answer, and a model that learned: chance is 0.40 (the largest class)
        assertThat(served.published()).isGreaterThan(3);
        assertThat(served.nonFinite()).isZero();
        assertThat(accuracy).isGreaterThan(0.85);
        assertThat(service.trainer().stats().recentAccuracy()).isGreaterThan(0.8);
    }
}
