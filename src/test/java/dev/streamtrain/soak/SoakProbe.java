package dev.streamtrain.soak;

import org.HdrHistogram.Histogram;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

import dev.streamtrain.loadtest.SteadyInference;
import dev.streamtrain.support.ServiceProcess;

/**
 * Takes the samples of a soak run from outside the service, as an operator's tools would: its Prometheus text at
 * {@code /q/metrics}, its resident set from {@code /proc/<pid>/status}, and the inference clients' windows. Every
 * {@code fullGcEvery}-th sample first asks for a full collection ({@code jcmd <pid> GC.run}), so that the heap it
 * reads is what is live: the only heap figure a slow leak cannot hide in (between full collections the old
 * generation grows with whatever is promoted, leaked or not). Those forced pauses are left out of the GC time.
 */
final class SoakProbe {

    private final ServiceProcess service;
    private final SteadyInference rest;
    private final SteadyInference grpc;
    private final LongSupplier produced;
    private final int fullGcEvery;
    private final long start = System.nanoTime();
    private int taken;
    private String firstError;

    SoakProbe(ServiceProcess service, SteadyInference rest, SteadyInference grpc, LongSupplier produced,
              int fullGcEvery) {
        this.service = service;
        this.rest = rest;
        this.grpc = grpc;
        this.produced = produced;
        this.fullGcEvery = fullGcEvery;
    }

    double elapsedSeconds() {
        return (System.nanoTime() - start) / 1e9;
    }

    SoakSample sample(String phase) throws IOException, InterruptedException {
        boolean forced = taken++ % fullGcEvery == fullGcEvery - 1;
        if (forced) {
            fullGc();
        }
        PrometheusText metrics = new PrometheusText(service.get("/q/metrics"));
        SteadyInference.Window r = rest.window();
        SteadyInference.Window g = grpc.window();
        if (firstError == null) {
            firstError = r.firstError() != null ? "REST: " + r.firstError() : g.firstError() != null ? "gRPC: " + g.firstError() : null;
        }
        long heapUsed = (long) metrics.sum("jvm_memory_used_bytes", "area=\"heap\"");
        return new SoakSample(elapsedSeconds(), rssBytes(), heapUsed, forced ? heapUsed : Double.NaN,
                (long) metrics.sum("streamtrain_offheap_bytes", ""),
                metrics.sum("jvm_gc_pause_seconds_sum", "") - metrics.sum("jvm_gc_pause_seconds_sum", "Diagnostic Command"),
                (long) metrics.sum("streamtrain_examples_trained_total", ""), produced.getAsLong(),
                (long) metrics.sum("streamtrain_checkpoints_total", "result=\"success\""),
                (long) metrics.sum("streamtrain_checkpoints_total", "result=\"failure\""),
                (long) metrics.sum("streamtrain_records_rejected_total", ""),
                ms(r.latencies(), 50), ms(r.latencies(), 99), ms(g.latencies(), 50), ms(g.latencies(), 99),
                r.ok() + g.ok(), r.errors() + g.errors(), phase,
                (long) metrics.sum("jvm_memory_committed_bytes", "area=\"heap\""),
                (long) metrics.sum("jvm_memory_used_bytes", "area=\"nonheap\""),
                (long) metrics.sum("jvm_buffer_memory_used_bytes", "id=\"direct\""), JvmSample.from(metrics));
    }

    /** The first error of an inference request in the run, if any: the test names it when it fails. */
    String firstInferenceError() {
        return firstError;
    }

    private long rssBytes() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(service.pid()), "status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        }
        throw new IOException("no VmRSS in /proc/" + service.pid() + "/status");
    }

    private void fullGc() throws IOException, InterruptedException {
        Process jcmd = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(),
                Long.toString(service.pid()), "GC.run").redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        if (!jcmd.waitFor(60, TimeUnit.SECONDS) || jcmd.exitValue() != 0) {
            jcmd.destroyForcibly();
            throw new IOException("jcmd " + service.pid() + " GC.run failed");
        }
    }

    private static double ms(Histogram latencies, double percentile) {
        return latencies.getTotalCount() == 0 ? Double.NaN : latencies.getValueAtPercentile(percentile) / 1000.0;
    }

    /** The sums of Prometheus series by name and a fragment of their labels. */
    record PrometheusText(String text) {

        double sum(String name, String labelFragment) {
            double sum = 0;
            for (String line : text.split("\n")) {
                if (line.startsWith(name) && (line.charAt(name.length()) == '{' || line.charAt(name.length()) == ' ')
                        && line.contains(labelFragment)) {
                    double value = Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
                    sum += Double.isFinite(value) ? value : 0;
                }
            }
            return sum;
        }
    }
}
