package dev.streamtrain.training;

/**
 * What the trainer knows of the stream beyond its buffer: whether records it has not received yet are already
 * waiting in the source. The {@link ExampleBatcher} asks while a short mini-batch lingers: in the middle of a
 * backlog it waits for a full batch instead, so that batch boundaries depend on the records alone and not on how
 * fast they are delivered (a replay after a restore cuts the same mini-batches as the first run).
 * Called on the training thread, about every 10 ms while a short batch waits: must be cheap and must not block.
 */
public interface Backlog {

    /**
     * What is known of one partition of the source: the offset its reading started from in this assignment and
     * its end offset (one past its last record), as last seen.
     */
    record Edge(long readFrom, long end) {
    }

    /** A source that is never known to be behind: linger always applies (unit tests, serving-only replicas). */
    Backlog NONE = new Backlog() {
        @Override
        public boolean behind() {
            return false;
        }

        @Override
        public long deliveries() {
            return 0;
        }
    };

    /**
     * Whether, for some partition the trainer reads, records beyond those handed to it are known to exist (its
     * position is short of the partition's end offset). False when nothing is known.
     */
    boolean behind();

    /**
     * A count that grows with every record the source delivers, whatever becomes of it (trained, dropped as
     * already trained, dead-lettered): the batcher's stall clock restarts whenever it changes.
     */
    long deliveries();

    /** Per partition read now, what is known of its extent; partitions whose end is not known yet are left out. */
    default java.util.Map<String, Edge> edges() {
        return java.util.Map.of();
    }
}
