package dev.streamtrain.loadtest;

import com.sun.tools.attach.VirtualMachine;

import java.io.IOException;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;
import javax.management.MBeanServerConnection;
import javax.management.ObjectName;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXServiceURL;

/**
 * Reads, from the service's own JVM (attached by process id, the local management agent), what it spent over a
 * measurement window: heap bytes allocated by all its threads ({@code ThreadMXBean.getTotalThreadAllocatedBytes}),
 * its process CPU time, its collections and their time, and the allocation per thread group (thread names without
 * their trailing number). Allocation per request is a count of bytes, not a time: it does not move with the load of a
 * shared machine, which CPU time and latency do.
 */
final class ServiceProbe implements AutoCloseable {

    /** What the service had spent up to one moment. */
    record Reading(long nanos, long allocated, long cpuNanos, long collections, long collectionMillis,
                   Map<String, Long> allocatedByGroup) {
    }

    private final JMXConnector connector;
    private final com.sun.management.ThreadMXBean threads;
    private final com.sun.management.OperatingSystemMXBean os;
    private final List<GarbageCollectorMXBean> collectors;

    private ServiceProbe(JMXConnector connector) throws IOException, javax.management.JMException {
        this.connector = connector;
        MBeanServerConnection server = connector.getMBeanServerConnection();
        threads = ManagementFactory.newPlatformMXBeanProxy(server, ManagementFactory.THREAD_MXBEAN_NAME,
                com.sun.management.ThreadMXBean.class);
        os = ManagementFactory.newPlatformMXBeanProxy(server, ManagementFactory.OPERATING_SYSTEM_MXBEAN_NAME,
                com.sun.management.OperatingSystemMXBean.class);
        collectors = new java.util.ArrayList<>();
        for (ObjectName name : server.queryNames(new ObjectName(ManagementFactory.GARBAGE_COLLECTOR_MXBEAN_DOMAIN_TYPE
                + ",*"), null)) {
            collectors.add(ManagementFactory.newPlatformMXBeanProxy(server, name.toString(),
                    GarbageCollectorMXBean.class));
        }
    }

    /** Attaches to the JVM of process {@code pid} (same user), starting its local management agent if needed. */
    static ServiceProbe attach(long pid) throws Exception {
        VirtualMachine vm = VirtualMachine.attach(Long.toString(pid));
        try {
            String address = vm.startLocalManagementAgent();
            return new ServiceProbe(JMXConnectorFactory.connect(new JMXServiceURL(address)));
        } finally {
            vm.detach();
        }
    }

    Reading read() {
        long[] ids = threads.getAllThreadIds();
        ThreadInfo[] infos = threads.getThreadInfo(ids);
        long[] bytes = threads.getThreadAllocatedBytes(ids);
        Map<String, Long> groups = new HashMap<>();
        for (int i = 0; i < ids.length; i++) {
            if (infos[i] != null && bytes[i] >= 0) {
                groups.merge(group(infos[i].getThreadName()), bytes[i], Long::sum);
            }
        }
        long collections = 0;
        long millis = 0;
        for (GarbageCollectorMXBean collector : collectors) {
            collections += collector.getCollectionCount();
            millis += collector.getCollectionTime();
        }
        return new Reading(System.nanoTime(), threads.getTotalThreadAllocatedBytes(), os.getProcessCpuTime(),
                collections, millis, groups);
    }

    /** A thread's name without its trailing number: the event loops, the worker pool, ... each one group. */
    static String group(String thread) {
        return thread.replaceAll("[-#\\s]*\\d+$", "");
    }

    /**
     * The window between two readings per request: allocated bytes, CPU ms, the service's collections, and the three
     * thread groups that allocated most (bytes per request).
     */
    static String perRequest(Reading a, Reading b, long requests) {
        double n = Math.max(1, requests);
        double seconds = (b.nanos() - a.nanos()) / 1e9;
        Map<String, Long> delta = new HashMap<>();
        b.allocatedByGroup().forEach((k, v) -> delta.put(k, v - a.allocatedByGroup().getOrDefault(k, 0L)));
        String top = delta.entrySet().stream().sorted(Map.Entry.<String, Long>comparingByValue().reversed()).limit(3)
                .map(e -> String.format(Locale.ROOT, "%s %.0f", e.getKey(), e.getValue() / n))
                .collect(Collectors.joining(", "));
        return String.format(Locale.ROOT, "service over %.1f s, %d requests: %.0f bytes allocated per request (%.1f MB/s),"
                        + " %.3f ms CPU per request (%.2f cores), %d collections taking %d ms; bytes per request by thread: %s",
                seconds, requests, (b.allocated() - a.allocated()) / n, (b.allocated() - a.allocated()) / seconds / 1e6,
                (b.cpuNanos() - a.cpuNanos()) / 1e6 / n, (b.cpuNanos() - a.cpuNanos()) / 1e9 / seconds,
                b.collections() - a.collections(), b.collectionMillis() - a.collectionMillis(), top);
    }

    /**
     * Bytes and CPU per request over {@code before..after} less what the service spent per second without requests
     * over {@code quiet..before}, scaled to the window.
     */
    static String net(Reading quiet, Reading before, Reading after, long requests) {
        double n = Math.max(1, requests);
        double quietSeconds = (before.nanos() - quiet.nanos()) / 1e9;
        double seconds = (after.nanos() - before.nanos()) / 1e9;
        double bytesPerSecond = (before.allocated() - quiet.allocated()) / quietSeconds;
        double cpuPerSecond = (before.cpuNanos() - quiet.cpuNanos()) / quietSeconds;
        return String.format(Locale.ROOT, "service net of its %.2f MB/s and %.3f cores without requests: %.0f bytes"
                        + " allocated per request, %.3f ms CPU per request",
                bytesPerSecond / 1e6, cpuPerSecond / 1e9,
                (after.allocated() - before.allocated() - bytesPerSecond * seconds) / n,
                (after.cpuNanos() - before.cpuNanos() - cpuPerSecond * seconds) / 1e6 / n);
    }

    @Override
    public void close() throws IOException {
        connector.close();
    }
}
