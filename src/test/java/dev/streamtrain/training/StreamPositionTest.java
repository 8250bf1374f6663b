package dev.streamtrain.training;

import org.junit.jupiter.api.Test;

import java.util.Map;

import dev.streamtrain.support.TestRecord;

import static org.assertj.core.api.Assertions.assertThat;

/** What a restored position lets through: nothing the model holds, everything it does not. */
class StreamPositionTest {

    private final StreamPosition position = new StreamPosition(Map.of("t-0", 10L, "t-1", 4L),
            Map.of("t-1", new StreamPosition.Partial("t-1", 4, 2)));

    @Test
    void recordsBeforeTheNextOffsetAreDroppedAndLaterOnesPass() {
        assertThat(position.untrained(block("t-0", 9, 1))).isNull();
        assertThat(position.untrained(block("t-0", 10, 1))).isNotNull();
        assertThat(position.untrained(block("t-1", 3, 1))).isNull();
        assertThat(position.untrained(block("t-2", 0, 1))).as("a partition it does not know").isNotNull();
    }

    @Test
    void thePartlyTrainedRecordKeepsOnlyItsUntrainedRows() {
        ExampleBlock tail = position.untrained(block("t-1", 4, 5));
        assertThat(tail.count()).isEqualTo(3);
        // features of row r are (r, r + 0.5); labels (r)
        assertThat(tail.features()).containsExactly(2f, 2.5f, 3f, 3.5f, 4f, 4.5f);
        assertThat(tail.labels()).containsExactly(2f, 3f, 4f);
        assertThat(tail.weights()).containsExactly(12f, 13f, 14f);
        assertThat(tail.source().offset()).isEqualTo(4);
        assertThat(tail.firstRow()).as("rows of the record before the tail").isEqualTo(2);
        assertThat(tail.tail(1).firstRow()).isEqualTo(3);
        assertThat(position.untrained(block("t-1", 5, 2))).isNotNull();
    }

    @Test
    void seeksToThePartlyTrainedRecordOrTheNextOffset() {
        assertThat(position.seekOffset("t-0")).hasValue(10);
        assertThat(position.seekOffset("t-1")).hasValue(4);
        assertThat(position.seekOffset("t-9")).isEmpty();
        StreamPosition forgotten = position.forget("t-1");
        assertThat(forgotten.seekOffset("t-1")).isEmpty();
        assertThat(forgotten.partials()).isEmpty();
        assertThat(forgotten.untrained(block("t-1", 0, 1))).isNotNull();
    }

    private static ExampleBlock block(String partition, long offset, int rows) {
        float[] x = new float[rows * 2];
        float[] y = new float[rows];
        float[] w = new float[rows];
        for (int r = 0; r < rows; r++) {
            x[2 * r] = r;
            x[2 * r + 1] = r + 0.5f;
            y[r] = r;
            w[r] = 10 + r;
        }
        return new ExampleBlock(rows, x, y, w, new TestRecord(partition, offset));
    }
}
