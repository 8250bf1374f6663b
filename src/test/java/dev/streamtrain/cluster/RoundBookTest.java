package dev.streamtrain.cluster;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Map;
import java.util.Set;

import dev.streamtrain.model.Network;
import dev.streamtrain.model.OnlineNormalizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class RoundBookTest {

    private static SyncMessage said(String member, int generation, long round) {
        return new SyncMessage("m", member, generation, round, Map.of(), 1, 1, new byte[1], null);
    }

    @Test
    void aRoundCompletesWhenEveryMemberOfTheGenerationHasSaidItsPart() {
        RoundBook book = new RoundBook();
        assertThat(book.offer(said("b", 3, 0))).isTrue();
        assertThat(book.complete(0, Set.of("a", "b"))).isEmpty();
        assertThat(book.missing(0, Set.of("a", "b"))).containsExactly("a");
        book.offer(said("a", 3, 1)); // a is ahead of where we look: kept for round 1
        book.offer(said("a", 3, 0));
        assertThat(book.complete(0, Set.of("a", "b")).orElseThrow()).extracting(SyncMessage::member)
                .containsExactly("a", "b");
        // a late copy of a complete round is dropped; the next round still has a's part
        assertThat(book.offer(said("b", 3, 0))).isFalse();
        assertThat(book.missing(1, Set.of("a", "b"))).containsExactly("b");
    }

    @Test
    void aNewGenerationAbandonsTheRoundsOfTheOldOneForEveryone() {
        RoundBook book = new RoundBook();
        book.offer(said("a", 3, 5));
        book.offer(said("b", 4, 0)); // a rebalance: b already speaks in generation 4
        assertThat(book.generation()).isEqualTo(4);
        assertThat(book.offer(said("b", 3, 5))).isFalse();
        assertThat(book.complete(5, Set.of("a"))).isEmpty();
        book.offer(said("a", 4, 0));
        assertThat(book.complete(0, Set.of("a", "b"))).isPresent();
    }

    @Test
    void aReplicaSurvivesTheBytesAndAForgedOneIsRefusedBeforeAnythingIsAllocated() {
        OnlineNormalizer normalizer = new OnlineNormalizer(3);
        normalizer.update(new float[] {1, 2, 3, 4, 5, 7}, 2);
        Network.Replica replica = new Network.Replica(new float[] {1.5f, -2f, Float.MIN_VALUE}, new float[] {0.25f}, 42,
                normalizer);
        Network.Replica back = ReplicaCodec.decode(ReplicaCodec.encode(replica), 3);
        assertThat(back.parameters()).isEqualTo(replica.parameters());
        assertThat(back.optimizerState()).isEqualTo(replica.optimizerState());
        assertThat(back.iteration()).isEqualTo(42);
        assertThat(back.normalizer().toBytes()).isEqualTo(normalizer.toBytes());

        byte[] bytes = ReplicaCodec.encode(replica);
        byte[] truncated = java.util.Arrays.copyOf(bytes, bytes.length - 1);
        assertThatThrownBy(() -> ReplicaCodec.decode(truncated, 3)).hasMessageContaining("claims 3 parameters");
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putInt(8, Integer.MAX_VALUE);
        assertThatThrownBy(() -> ReplicaCodec.decode(bytes, 3)).isInstanceOf(ReplicaCodec.InvalidReplicaException.class)
                .hasMessageContaining("claims 2147483647 parameters");
        assertThatThrownBy(() -> ReplicaCodec.decode(ReplicaCodec.encode(replica), 4))
                .hasMessageContaining("does not fit the model");
        assertThatThrownBy(() -> ReplicaCodec.decode(new byte[30], 3)).hasMessageContaining("wrong magic");
        assertThat(SyncTopic.decodeOffsets(SyncTopic.encodeOffsets(Map.of("t-0", 5L, "t-12", 0L))))
                .containsExactlyEntriesOf(new java.util.TreeMap<>(Map.of("t-0", 5L, "t-12", 0L)));
    }
}
