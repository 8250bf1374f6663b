package dev.streamtrain.ops;

import java.util.Arrays;
import java.util.List;

/**
 * The memory-related flags of a JAVA_OPTS_APPEND value; where a flag repeats, the JVM takes the last one.
 * {@code offHeapMaxBytes} is the value of -Dorg.bytedeco.javacpp.maxbytes as written (it may be relative to the heap).
 */
record K8sJvmFlags(double heapPercent, String offHeapMaxBytes, boolean exitOnOutOfMemory, String javacppCacheDir) {

    static K8sJvmFlags parse(String javaOpts) {
        List<String> flags = Arrays.asList(javaOpts.trim().split("\\s+"));
        String percent = last(flags, "-XX:MaxRAMPercentage=");
        String maxBytes = last(flags, "-Dorg.bytedeco.javacpp.maxbytes=");
        if (percent == null || maxBytes == null) {
            throw new AssertionError("JAVA_OPTS_APPEND must set -XX:MaxRAMPercentage and -Dorg.bytedeco.javacpp.maxbytes"
                    + " (otherwise heap and off-heap default to fractions of the limit that do not fit it): " + javaOpts);
        }
        K8sJvmFlags parsed = new K8sJvmFlags(Double.parseDouble(percent), maxBytes,
                flags.contains("-XX:+ExitOnOutOfMemoryError"), last(flags, "-Dorg.bytedeco.javacpp.cachedir="));
        parsed.offHeapBytes(1L << 30); // refuses what JavaCPP cannot parse, whatever the limit
        return parsed;
    }

    long heapBytes(long memoryLimit) {
        return (long) (memoryLimit * heapPercent / 100);
    }

    /** ND4J's off-heap cap in a container with this memory limit (a percentage is of the heap). */
    long offHeapBytes(long memoryLimit) {
        return javacppBytes(offHeapMaxBytes, heapBytes(memoryLimit));
    }

    /**
     * JavaCPP 1.5.7's Pointer.parseBytes(value, relativeTo): digits, then nothing, k(b), m(b), g(b) or t(b) in any
     * case (x 1024), or % (of relativeTo, which for maxbytes is the maximum heap, Runtime.maxMemory()).
     */
    static long javacppBytes(String value, long relativeTo) {
        int digits = 0;
        while (digits < value.length() && Character.isDigit(value.charAt(digits))) {
            digits++;
        }
        if (digits == 0) {
            throw new AssertionError("JavaCPP cannot parse maxbytes " + value + " (it would not start)");
        }
        long size = Long.parseLong(value.substring(0, digits));
        String unit = value.substring(digits).trim().toLowerCase();
        if (unit.equals("%")) {
            return size * relativeTo / 100;
        }
        int power = switch (unit) {
            case "" -> 0;
            case "k", "kb" -> 1;
            case "m", "mb" -> 2;
            case "g", "gb" -> 3;
            case "t", "tb" -> 4;
            default -> throw new AssertionError("JavaCPP cannot parse maxbytes " + value + " (it would not start)");
        };
        return size << (10 * power);
    }

    private static String last(List<String> flags, String prefix) {
        String found = null;
        for (String flag : flags) {
            if (flag.startsWith(prefix)) {
                found = flag.substring(prefix.length());
            }
        }
        return found;
    }
}
