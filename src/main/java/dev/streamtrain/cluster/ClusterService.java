package dev.streamtrain.cluster;

import io.smallrye.common.annotation.Identifier;
import io.smallrye.reactive.messaging.kafka.KafkaClientService;
import io.smallrye.reactive.messaging.kafka.KafkaConsumer;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.context.Dependent;
import jakarta.enterprise.inject.Produces;
import org.apache.kafka.clients.admin.Admin;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import dev.streamtrain.checkpoint.CheckpointConfig;
import dev.streamtrain.checkpoint.CheckpointStore;
import dev.streamtrain.checkpoint.CheckpointStores;
import dev.streamtrain.model.spec.ModelSpec;
import dev.streamtrain.training.GroupRounds;

/**
 * This trainer's membership in a group of trainers of one model, when {@code streamtrain.cluster.enabled}: the sync
 * topic's clients, the {@link GroupMember} the trainer rounds with (produced as its {@link GroupRounds}), and the
 * {@link GroupRebalance} the examples channel's rebalance listener calls. A member whose round timed out asks the
 * examples consumer to rejoin the group, on the consumer's polling thread.
 */
@ApplicationScoped
public class ClusterService {

    private static final Logger LOG = Logger.getLogger(ClusterService.class);

    private final GroupMember member;
    private final GroupRebalance rebalance;
    private final SyncTopic topic;
    private final CheckpointStore store;
    private final ScheduledExecutorService rejoins;

    ClusterService(ClusterConfig config, ModelSpec spec, CheckpointConfig checkpoint, KafkaClientService clients,
                   @Identifier("default-kafka-broker") Map<String, Object> kafka,
                   @ConfigProperty(name = "mp.messaging.incoming.examples.session.timeout.ms", defaultValue = "45000")
                   long sessionTimeoutMs,
                   @ConfigProperty(name = "mp.messaging.incoming.examples.topic") String examplesTopic) {
        if (!config.enabled()) {
            member = null;
            rebalance = null;
            topic = null;
            store = null;
            rejoins = null;
            return;
        }
        require(config.period() >= 1, "streamtrain.cluster.period", "must be >= 1");
        require(!spec.optimizer().autoLearningRate(), "streamtrain.cluster.enabled",
                "cannot be combined with learning-rate: auto (the tuner's population is not averaged)");
        Duration roundTimeout = config.roundTimeout().orElse(Duration.ofMillis(2 * sessionTimeoutMs));
        require(roundTimeout.toMillis() > sessionTimeoutMs, "streamtrain.cluster.round-timeout",
                "must be longer than the examples consumer's session.timeout.ms (" + sessionTimeoutMs + " ms), or"
                        + " live members leave the group before Kafka has removed a dead one");
        Map<String, Object> client = new HashMap<>(kafka);
        ExamplesTopicCheck.requireNotCompacted(client, examplesTopic);
        SyncTopic.ensureTopic(client, (short) config.syncReplication());
        store = CheckpointStores.open(checkpoint);
        topic = new SyncTopic(client, store, config.inlineLimit());
        member = new GroupMember(spec.name(), topic, spec.inputs(),
                new GroupMember.Settings(config.period(), roundTimeout, config.restRound()));
        // the consumer waits for the training thread's join, which may take the whole round time-out
        rebalance = new GroupRebalance(member, Admin.create(client), roundTimeout.plusSeconds(30));
        rejoins = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread thread = new Thread(r, "streamtrain-cluster-rejoin");
            thread.setDaemon(true);
            return thread;
        });
        rejoins.scheduleWithFixedDelay(() -> rejoinIfAsked(clients), 1, 1, TimeUnit.SECONDS);
        LOG.infof("Model %s trains in a group of trainers: averaging every %d steps, rounds time out after %d s",
                spec.name(), config.period(), roundTimeout.toSeconds());
    }

    private void rejoinIfAsked(KafkaClientService clients) {
        if (!member.rejoinRequested()) {
            return;
        }
        try {
            KafkaConsumer<Object, Object> consumer = clients.getConsumer("examples");
            if (consumer != null) {
                consumer.runOnPollingThread(c -> {
                    c.enforceRebalance();
                    return true;
                }).await().atMost(Duration.ofSeconds(30));
            }
        } catch (RuntimeException e) {
            LOG.warnf("Could not ask the examples consumer to rejoin its group (%s); Kafka removes this member when"
                    + " its poll interval runs out", e.getMessage());
        }
    }

    private static void require(boolean ok, String key, String message) {
        if (!ok) {
            throw new IllegalArgumentException("Refusing to start: " + key + " " + message);
        }
    }

    /** The trainer's side of the group; null when this trainer trains alone. */
    @Produces
    @Dependent
    GroupRounds rounds() {
        return member;
    }

    /** The consumer's side of the group; empty when this trainer trains alone. */
    public Optional<GroupRebalance> rebalance() {
        return Optional.ofNullable(rebalance);
    }

    /** This member's status; empty when this trainer trains alone. */
    public Optional<GroupStatus> status() {
        return member == null ? Optional.empty() : Optional.of(member.status());
    }

    @PreDestroy
    void close() {
        if (member == null) {
            return;
        }
        rejoins.shutdownNow();
        rebalance.close();
        topic.close();
        store.close();
    }
}
