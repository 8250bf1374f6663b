package dev.streamtrain.cluster;

import org.apache.kafka.clients.CommonClientConfigs;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import dev.streamtrain.checkpoint.FileCheckpointStore;
import dev.streamtrain.embedded.EmbeddedKafka;
import dev.streamtrain.model.MiniBatch;
import dev.streamtrain.model.Network;
import dev.streamtrain.model.spec.ModelSpec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Two members exchange a round through a real broker's compacted sync topic: one replica inline, one through the
 * checkpoint store (a file store here; the S3 adapter is the same interface). Both read both parts, and the averages
 * they compute are the same bits.
 */
class SyncTopicTest {

    private static EmbeddedKafka broker;
    private static Map<String, Object> client;

    @TempDir
    Path storeRoot;

    @BeforeAll
    static void start() {
        broker = EmbeddedKafka.start();
        client = Map.of(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        SyncTopic.ensureTopic(client, (short) 1);
        SyncTopic.ensureTopic(client, (short) 1); // a second member finds it there
    }

    @AfterAll
    static void stop() {
        if (broker != null) {
            broker.close();
        }
    }

    @Test
    void twoMembersCompleteARoundInlineAndThroughTheStoreAndAverageAlike() throws Exception {
        LocalSgdRun.Stream digits = LocalSgdRun.Stream.of("digits", 2);
        ModelSpec spec = digits.spec(32, 16, 4);
        Network a = new Network(spec);
        Network b = new Network(spec);
        Network.Replica start = a.replica();
        train(a, digits, spec, 0, 3);
        train(b, digits, spec, 3, 5);
        FileCheckpointStore store = new FileCheckpointStore(storeRoot);
        try (SyncTopic memberA = new SyncTopic(client, store, 1 << 20);
             SyncTopic memberB = new SyncTopic(client, store, 1024)) {
            SyncMessage sentA = memberA.publish("digits", "a", 1, 0, Map.of("streamtrain.examples-0", 48L), 48, 3,
                    a.replica());
            SyncMessage sentB = memberB.publish("digits", "b", 1, 0, Map.of("streamtrain.examples-1", 32L), 32, 2,
                    b.replica());
            assertThat(sentA.inlineReplica()).isNotNull();
            assertThat(sentB.replicaKey()).isEqualTo("digits/sync/1/0/b.replica");
            assertThat(store.get(sentB.replicaKey())).isPresent();

            Network.Replica[] averages = new Network.Replica[2];
            SyncTopic[] readers = {memberA, memberB};
            for (int r = 0; r < 2; r++) {
                List<SyncMessage> parts = readRound(readers[r], 0, Set.of("a", "b"));
                assertThat(parts).extracting(SyncMessage::member).containsExactly("a", "b");
                assertThat(parts.get(1).offsets()).containsEntry("streamtrain.examples-1", 32L);
                List<Contribution> contributions = new ArrayList<>();
                for (SyncMessage part : parts) {
                    contributions.add(new Contribution(part.member(), part.examples(), part.steps(),
                            readers[r].replica(part, spec.inputs())));
                }
                assertThat(contributions.get(1).replica().parameters()).isEqualTo(b.parameters());
                assertThat(contributions.get(0).replica().optimizerState()).isEqualTo(a.optimizerState());
                averages[r] = ModelAveraging.average(start, contributions);
            }
            assertThat(averages[1].parameters()).isEqualTo(averages[0].parameters());
            assertThat(averages[1].optimizerState()).isEqualTo(averages[0].optimizerState());
            assertThat(averages[0].normalizer().count()).isEqualTo(80);

            store.delete(sentB.replicaKey());
            assertThatThrownBy(() -> memberA.replica(sentB, spec.inputs()))
                    .hasMessageContaining("not in the store at digits/sync/1/0/b.replica");
        }
    }

    private static List<SyncMessage> readRound(SyncTopic topic, long round, Set<String> members) {
        RoundBook book = new RoundBook();
        Instant deadline = Instant.now().plusSeconds(60);
        while (Instant.now().isBefore(deadline)) {
            for (SyncMessage m : topic.poll("digits", Duration.ofMillis(200))) {
                book.offer(m);
            }
            Optional<List<SyncMessage>> parts = book.complete(round, members);
            if (parts.isPresent()) {
                return parts.get();
            }
        }
        throw new AssertionError("round " + round + " did not complete in 60 s; missing " + book.missing(round, members));
    }

    private static void train(Network network, LocalSgdRun.Stream data, ModelSpec spec, int fromBatch, int toBatch) {
        MiniBatch batch = new MiniBatch(spec.batchSize(), spec.inputs(), spec.outputs());
        float[] y = new float[data.classes()];
        for (int bIndex = fromBatch; bIndex < toBatch; bIndex++) {
            batch.clear();
            for (int row = bIndex * spec.batchSize(); row < (bIndex + 1) * spec.batchSize(); row++) {
                java.util.Arrays.fill(y, 0f);
                y[data.labels()[row]] = 1f;
                batch.add(data.features()[row], y, 1f, 0);
            }
            network.step(batch, false, 0);
        }
    }
}
