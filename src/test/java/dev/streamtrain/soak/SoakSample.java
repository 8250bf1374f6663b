package dev.streamtrain.soak;

import java.util.Locale;

/**
 * One 10-second sample of a soak run: the service's memory (RSS from {@code /proc}, heap, heap right after a full
 * collection when this sample forced one, ND4J's off-heap bytes), its cumulative GC time (forced collections left
 * out), its cumulative training and checkpoint counts, the inference figures of the window, and the JVM's own
 * memory, classes and compile time ({@link JvmSample}). NaN: not measured in this sample.
 */
record SoakSample(double seconds, long rssBytes, long heapUsedBytes, double heapAfterGcBytes, long offHeapBytes,
                  double gcSeconds, long trainedExamples, long producedRecords, long checkpointsOk,
                  long checkpointsFailed, long rejectedRecords, double restP50Ms, double restP99Ms,
                  double grpcP50Ms, double grpcP99Ms, long inferenceOk, long inferenceErrors, String phase,
                  long heapCommittedBytes, long nonHeapUsedBytes, long directBufferBytes, JvmSample jvm) {

    static final String CSV_HEADER = "seconds,rss_bytes,heap_used_bytes,heap_after_gc_bytes,offheap_bytes,"
            + "gc_seconds_total,trained_examples_total,produced_records_total,checkpoints_ok_total,"
            + "checkpoints_failed_total,rejected_records_total,rest_p50_ms,rest_p99_ms,grpc_p50_ms,grpc_p99_ms,"
            + "inference_ok,inference_errors,phase,heap_committed_bytes,nonheap_used_bytes,direct_buffer_bytes,"
            + JvmSample.CSV_HEADER;

    /** A row of {@code soak.csv}, as {@link #csv()} wrote it: a finished run's chart can be drawn again. */
    static SoakSample parse(String line) {
        String[] f = line.split(",", -1);
        return new SoakSample(Double.parseDouble(f[0]), Long.parseLong(f[1]), Long.parseLong(f[2]),
                f[3].isEmpty() ? Double.NaN : Double.parseDouble(f[3]), Long.parseLong(f[4]), Double.parseDouble(f[5]),
                Long.parseLong(f[6]), Long.parseLong(f[7]), Long.parseLong(f[8]), Long.parseLong(f[9]),
                Long.parseLong(f[10]), Double.parseDouble(f[11]), Double.parseDouble(f[12]), Double.parseDouble(f[13]),
                Double.parseDouble(f[14]), Long.parseLong(f[15]), Long.parseLong(f[16]), f[17], Long.parseLong(f[18]),
                Long.parseLong(f[19]), Long.parseLong(f[20]), new JvmSample(Long.parseLong(f[21]),
                Long.parseLong(f[22]), Long.parseLong(f[23]), Long.parseLong(f[24]), Long.parseLong(f[25]),
                Long.parseLong(f[26]), Long.parseLong(f[27]), Long.parseLong(f[28]), Long.parseLong(f[29]),
                Double.parseDouble(f[30])));
    }

    double minutes() {
        return seconds / 60;
    }

    String csv() {
        return String.format(Locale.ROOT, "%.1f,%d,%d,%s,%d,%.3f,%d,%d,%d,%d,%d,%.2f,%.2f,%.2f,%.2f,%d,%d,%s,%d,%d,%d,%s",
                seconds, rssBytes, heapUsedBytes, Double.isNaN(heapAfterGcBytes) ? "" : Long.toString((long) heapAfterGcBytes),
                offHeapBytes, gcSeconds, trainedExamples, producedRecords, checkpointsOk, checkpointsFailed,
                rejectedRecords, restP50Ms, restP99Ms, grpcP50Ms, grpcP99Ms, inferenceOk, inferenceErrors, phase,
                heapCommittedBytes, nonHeapUsedBytes, directBufferBytes, jvm.csv());
    }
}
