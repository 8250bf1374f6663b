package dev.streamtrain.cluster;

import org.apache.kafka.clients.CommonClientConfigs;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import dev.streamtrain.checkpoint.FileCheckpointStore;
import dev.streamtrain.embedded.EmbeddedKafka;
import dev.streamtrain.model.ComputeSettings;
import dev.streamtrain.model.MiniBatch;
import dev.streamtrain.model.Network;
import dev.streamtrain.model.spec.ModelSpec;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Two members on their own threads, each with its own sync-topic clients on a real broker, train their halves of the
 * digits stream and average every 4 steps through the topic (one replica inline, the other through the store): the
 * rounds hold them in step, and they end with exactly the model and the prequential accuracy of the in-process
 * simulation ({@link LocalSgdRun}) — the distributed path computes what was measured.
 */
class GroupSyncTest {

    private static final int PERIOD = 4;
    private static EmbeddedKafka broker;
    private static Map<String, Object> client;

    @TempDir
    Path storeRoot;

    @BeforeAll
    static void start() {
        ComputeSettings.apply(Optional.of(1), null);
        broker = EmbeddedKafka.start();
        client = Map.of(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        SyncTopic.ensureTopic(client, (short) 1);
    }

    @AfterAll
    static void stop() {
        if (broker != null) {
            broker.close();
        }
    }

    /** What one member ends with. */
    record Ending(long correct, long examples, float[] parameters, long rounds) {
    }

    @Test
    void twoMembersAveragingThroughTheTopicComputeWhatTheSimulationMeasured() throws Exception {
        LocalSgdRun.Stream digits = LocalSgdRun.Stream.of("digits", 0);
        ModelSpec spec = digits.spec(128, 32, 7);
        LocalSgdRun.Result simulated = LocalSgdRun.run(digits, spec, 2, PERIOD);
        FileCheckpointStore store = new FileCheckpointStore(storeRoot);
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            List<Future<Ending>> members = new ArrayList<>();
            for (int m = 0; m < 2; m++) {
                int index = m;
                Callable<Ending> member = () -> runMember(digits, spec, store, index);
                members.add(pool.submit(member));
            }
            Ending a = members.get(0).get(5, TimeUnit.MINUTES);
            Ending b = members.get(1).get(5, TimeUnit.MINUTES);
            assertThat(a.parameters()).isEqualTo(b.parameters());
            assertThat(a.rounds()).isEqualTo(b.rounds()).isEqualTo(simulated.rounds());
            assertThat(a.correct() + b.correct()).isEqualTo(simulated.correct());
            assertThat(a.examples() + b.examples()).isEqualTo(simulated.examples()).isEqualTo(1797);
        } finally {
            pool.shutdownNow();
        }
    }

    private Ending runMember(LocalSgdRun.Stream data, ModelSpec spec, FileCheckpointStore store, int index)
            throws Exception {
        List<Integer> rows = new ArrayList<>();
        for (int i = 0; i < data.labels().length; i++) {
            if ((i % LocalSgdRun.PARTITIONS) % 2 == index) {
                rows.add(i);
            }
        }
        Network network = new Network(spec);
        network.scaleLearningRate(GroupRate.factor(spec.optimizer().type(), 2));
        // member b's replicas go through the store, a's travel inline
        try (SyncTopic topic = new SyncTopic(client, store, index == 0 ? 1 << 20 : 1024)) {
            GroupSync sync = new GroupSync("digits", "member-" + index, topic, spec.inputs(), PERIOD,
                    Duration.ofMinutes(2), network.replica());
            MiniBatch batch = new MiniBatch(spec.batchSize(), spec.inputs(), spec.outputs());
            float[] y = new float[data.classes()];
            long correct = 0;
            long examples = 0;
            for (int next = 0; next < rows.size(); next += spec.batchSize()) {
                batch.clear();
                int end = Math.min(rows.size(), next + spec.batchSize());
                for (int k = next; k < end; k++) {
                    Arrays.fill(y, 0f);
                    y[data.labels()[rows.get(k)]] = 1f;
                    batch.add(data.features()[rows.get(k)], y, 1f, 0);
                }
                correct += network.step(batch, false, 0).train().correct();
                examples += batch.size();
                boolean due = sync.stepped(batch.size());
                if (due || end == rows.size()) {
                    GroupSync.Outcome outcome = sync.sync(network, () -> 1, Set.of("member-0", "member-1"),
                            Map.of("streamtrain.examples-" + index, (long) end));
                    assertThat(outcome.kind()).isEqualTo(GroupSync.Outcome.Kind.COMPLETE);
                }
            }
            return new Ending(correct, examples, network.parameters(), sync.round());
        }
    }
}
