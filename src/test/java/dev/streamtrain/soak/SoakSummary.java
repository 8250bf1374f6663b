package dev.streamtrain.soak;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The soak run as a Markdown table, one row per period: training throughput, memory at the period's end (heap: the
 * last reading after a full GC), GC time, the worst 10-second inference p99 of each protocol, errors, checkpoints,
 * and what happened (broker down, storage down).
 */
final class SoakSummary {

    private static final double MIB = 1024.0 * 1024;

    private SoakSummary() {
    }

    /** {@code sampleSeconds}: the nominal interval; a sample belongs to the period of its due time, late or not. */
    static void write(List<SoakSample> samples, int sampleSeconds, int periodSeconds, Path file) throws IOException {
        List<String> lines = new ArrayList<>();
        lines.add("| minutes | trained ex/s | produced rec/s | RSS MiB | heap after full GC MiB | off-heap MiB "
                + "| GC ms/s | REST p99 ms (worst 10 s) | gRPC p99 ms (worst 10 s) | inference errors "
                + "| checkpoints ok / failed | events |");
        lines.add("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
        SoakSample previous = samples.get(0);
        for (int from = 0; from < samples.size(); ) {
            int period = ((from + 1) * sampleSeconds - 1) / periodSeconds;
            int to = from;
            while (to + 1 < samples.size() && ((to + 2) * sampleSeconds - 1) / periodSeconds == period) {
                to++;
            }
            SoakSample last = samples.get(to);
            double seconds = last.seconds() - previous.seconds();
            double heapAfterGc = Double.NaN;
            double restP99 = 0;
            double grpcP99 = 0;
            long errors = 0;
            Set<String> events = new LinkedHashSet<>();
            for (int i = from; i <= to; i++) {
                SoakSample s = samples.get(i);
                heapAfterGc = Double.isNaN(s.heapAfterGcBytes()) ? heapAfterGc : s.heapAfterGcBytes();
                restP99 = Math.max(restP99, Double.isNaN(s.restP99Ms()) ? 0 : s.restP99Ms());
                grpcP99 = Math.max(grpcP99, Double.isNaN(s.grpcP99Ms()) ? 0 : s.grpcP99Ms());
                errors += s.inferenceErrors();
                if (!s.phase().equals("steady")) {
                    events.add(s.phase());
                }
            }
            boolean first = seconds <= 0;
            lines.add(String.format(Locale.ROOT, "| %d–%d | %s | %s | %.0f | %.1f | %.1f | %s | %.1f | %.1f | %d | %d / %d | %s |",
                    period * periodSeconds / 60, (period + 1) * periodSeconds / 60,
                    first ? "–" : String.format(Locale.ROOT, "%.0f", (last.trainedExamples() - previous.trainedExamples()) / seconds),
                    first ? "–" : String.format(Locale.ROOT, "%.0f", (last.producedRecords() - previous.producedRecords()) / seconds),
                    last.rssBytes() / MIB, heapAfterGc / MIB, last.offHeapBytes() / MIB,
                    first ? "–" : String.format(Locale.ROOT, "%.1f", (last.gcSeconds() - previous.gcSeconds()) * 1000 / seconds),
                    restP99, grpcP99, errors, last.checkpointsOk() - (first ? 0 : previous.checkpointsOk()),
                    last.checkpointsFailed() - (first ? 0 : previous.checkpointsFailed()), String.join(", ", events)));
            previous = last;
            from = to + 1;
        }
        Files.write(file, lines);
    }
}
