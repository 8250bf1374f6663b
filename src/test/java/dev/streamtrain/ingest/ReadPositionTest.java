package dev.streamtrain.ingest;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

import dev.streamtrain.support.TestRecord;
import dev.streamtrain.training.ExampleBlock;
import dev.streamtrain.training.StreamPosition;

/** Records are handed to the trainer once per process, whatever the consumer delivers again. */
class ReadPositionTest {

    private final ReadPosition position = new ReadPosition(() -> new StreamPosition(Map.of("t-0", 5L),
            Map.of("t-1", new StreamPosition.Partial("t-1", 7, 1))));

    @Test
    void beforeReadingAPartitionTheCheckpointDecides() {
        assertThat(position.seekOffset("t-0")).hasValue(5);
        assertThat(position.seekOffset("t-1")).hasValue(7);
        assertThat(position.seekOffset("t-2")).isEmpty();
        assertThat(position.admit(block("t-0", 4))).isNull();
        assertThat(position.admit(block("t-1", 7)).count()).isEqualTo(1);
        assertThat(position.hasRead("t-0")).isFalse();
        assertThat(position.hasRead("t-1")).isTrue();
    }

    @Test
    void recordsDeliveredAgainAfterARebalanceAreDropped() {
        for (long offset = 5; offset < 12; offset++) {
            assertThat(position.admit(block("t-0", offset))).isNotNull();
        }
        // the partition was revoked and assigned again: the consumer restarts at the committed offset, 8
        assertThat(position.seekOffset("t-0")).hasValue(12);
        for (long offset = 8; offset < 12; offset++) {
            assertThat(position.admit(block("t-0", offset))).as("offset %d", offset).isNull();
        }
        assertThat(position.admit(block("t-0", 12))).isNotNull();
    }

    @Test
    void inAGroupABadRecordDoesNotStallItsPartitionAndStalePollsAreDropped() {
        assertThat(position.inSequence("t-0", 3)).as("outside a group every record is in sequence").isTrue();
        position.restartInGroup(Map.of("t-0", 20L));
        // a poll fetched before the rebalance, from where this process had read
        for (long offset = 5; offset < 12; offset++) {
            assertThat(position.inSequence("t-0", offset)).as("stale offset %d", offset).isFalse();
        }
        assertThat(position.inSequence("t-2", 0)).as("a partition not assigned").isFalse();
        assertThat(position.inSequence("t-0", 20)).isTrue();
        assertThat(position.admit(block("t-0", 20))).isNotNull();
        // offset 21 is a bad record: in sequence, then dead-lettered, never admitted
        assertThat(position.inSequence("t-0", 21)).isTrue();
        assertThat(position.inSequence("t-0", 22)).as("the record after a dead-lettered one").isTrue();
        assertThat(position.admit(block("t-0", 22))).isNotNull();
        assertThat(position.inSequence("t-0", 22)).as("delivered again").isFalse();
        assertThat(position.inSequence("t-0", 24)).as("a gap: not the next offset").isFalse();
    }

    private static ExampleBlock block(String partition, long offset) {
        return new ExampleBlock(2, new float[4], new float[2], null, new TestRecord(partition, offset));
    }
}
