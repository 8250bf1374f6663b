package dev.streamtrain.ingest;

import org.junit.jupiter.api.Test;

import java.util.OptionalLong;

import static org.assertj.core.api.Assertions.assertThat;

/** A partition is behind until every record up to its end offset is delivered; a trailing marker is allowed for. */
class LiveEdgeTest {

    private static final long QUIET = LiveEdge.QUIET.toNanos();
    private final LiveEdge edge = new LiveEdge();

    @Test
    void aPartitionIsBehindUntilItsRecordsUpToTheEndAreDelivered() {
        edge.assigned("t-0", 10L, 7L, 0);
        assertThat(edge.behind(0)).isTrue();
        edge.delivered("t-0", 7, 1);
        edge.delivered("t-0", 8, 2);
        assertThat(edge.behind(2 + QUIET)).as("offset 9 not delivered, not fetched either").isTrue();
        edge.delivered("t-0", 9, 3);
        assertThat(edge.behind(3)).isFalse();
        assertThat(edge.deliveries()).isEqualTo(3);
    }

    @Test
    void recordsFetchedBeyondTheKnownEndMoveTheEnd() {
        edge.assigned("t-0", 10L, 10L, 0);
        assertThat(edge.behind(0)).isFalse();
        // the consumer fetched up to 15 (the end it learnt is 20)
        edge.fetched("t-0", 15, OptionalLong.of(5));
        assertThat(edge.behind(1)).isTrue();
        for (long offset = 10; offset < 20; offset++) {
            edge.delivered("t-0", offset, 2);
        }
        assertThat(edge.behind(2)).isFalse();
        // a lag not known yet keeps the end; a position beyond it raises the target
        edge.fetched("t-0", 21, OptionalLong.empty());
        assertThat(edge.behind(3)).isTrue();
    }

    @Test
    void aDeliveryBeyondTheLastKnownPositionMeansTheKnownEndIsStale() {
        edge.assigned("t-0", 10L, 10L, 0);
        // records 10 and 11 were produced, fetched and delivered before the position was read again
        edge.delivered("t-0", 10, 1);
        edge.delivered("t-0", 11, 1);
        assertThat(edge.behind(1 + QUIET)).isTrue();
        edge.fetched("t-0", 12, OptionalLong.of(0));
        assertThat(edge.behind(2)).isFalse();
    }

    @Test
    void aTransactionMarkerAtTheEndCountsAsTheEndOnceEverythingIsFetchedAndQuiet() {
        // offsets 0..8 are records, 9 the commit marker: the end is 10, delivery stops at 9
        edge.assigned("t-0", 10L, 0L, 0);
        for (long offset = 0; offset < 9; offset++) {
            edge.delivered("t-0", offset, 100);
        }
        assertThat(edge.behind(100 + QUIET)).as("the consumer has not fetched to the end yet").isTrue();
        edge.fetched("t-0", 10, OptionalLong.of(0));
        assertThat(edge.behind(100 + QUIET / 2)).as("the last record may still be on its way").isTrue();
        assertThat(edge.behind(100 + QUIET)).isFalse();
    }

    @Test
    void everyAssignedPartitionMustBeAtItsEndAndARevokedOneNoLongerCounts() {
        edge.assigned("t-0", 5L, 5L, 0);
        edge.assigned("t-1", 8L, 3L, 0);
        assertThat(edge.behind(0)).isTrue();
        edge.forget("t-1");
        assertThat(edge.behind(0)).isFalse();
        // a delivery of a partition no longer assigned is progress, not knowledge
        edge.delivered("t-1", 3, 1);
        assertThat(edge.deliveries()).isEqualTo(1);
        assertThat(edge.partitions()).containsExactly("t-0");
        // assigned again: what was known before is gone
        edge.assigned("t-1", 8L, null, 2);
        assertThat(edge.behind(2 + 10 * QUIET)).as("no position: behind until known").isTrue();
    }

    @Test
    void withNoPartitionAssignedNothingIsBehind() {
        assertThat(edge.behind(0)).isFalse();
    }
}
