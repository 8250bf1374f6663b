package dev.streamtrain.support;

import java.lang.management.ManagementFactory;

/**
 * The heap one call allocates on the calling thread (HotSpot's per-thread allocation counter), checked against a
 * budget proportional to the input's size. A fuzz target uses it to show that a length, count or shape field in
 * its input never makes the reader allocate what the field claims: a 40-byte input that says "2,000,000,000 rows"
 * must cost kilobytes, not gigabytes. Native (off-heap) allocations are not counted.
 */
public final class HeapBudget {

    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    /** The work under measurement; it may throw the reader's typed refusals, which are passed on. */
    @FunctionalInterface
    public interface Work {
        void run() throws Exception;
    }

    private HeapBudget() {
    }

    /**
     * Runs {@code work} twice and fails with {@link AssertionError} when the second run allocated more than
     * {@code perInputByte * inputBytes + fixed} bytes on this thread, whether it returned or threw. The first run
     * is not measured: loading and instrumenting the classes a new path needs allocates megabytes once, which is
     * not what the input costs. The work must therefore give the same result twice (a reader, not a writer).
     */
    public static void within(long inputBytes, long perInputByte, long fixed, Work work) throws Exception {
        try {
            work.run();
        } catch (Exception | AssertionError first) {
            // the measured run below throws it again
        }
        long before = THREADS.getCurrentThreadAllocatedBytes();
        try {
            work.run();
        } finally {
            long allocated = THREADS.getCurrentThreadAllocatedBytes() - before;
            long budget = perInputByte * inputBytes + fixed;
            if (allocated > budget) {
                throw new AssertionError("reading " + inputBytes + " bytes of input allocated " + allocated
                        + " bytes of heap; the budget is " + perInputByte + " per input byte + " + fixed + " = "
                        + budget + ": a size field in the input is trusted before it is checked");
            }
        }
    }
}
