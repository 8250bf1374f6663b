package dev.streamtrain.ops;

import java.util.Arrays;
import java.util.List;

/** The memory-related flags of a JAVA_OPTS_APPEND value; where a flag repeats, the JVM takes the last one. */
record K8sJvmFlags(double heapPercent, long offHeapBytes, boolean exitOnOutOfMemory, String javacppCacheDir) {

    static K8sJvmFlags parse(String javaOpts) {
        List<String> flags = Arrays.asList(javaOpts.trim().split("\\s+"));
        String percent = last(flags, "-XX:MaxRAMPercentage=");
        String maxBytes = last(flags, "-Dorg.bytedeco.javacpp.maxbytes=");
        if (percent == null || maxBytes == null) {
            throw new AssertionError("JAVA_OPTS_APPEND must set -XX:MaxRAMPercentage and -Dorg.bytedeco.javacpp.maxbytes"
                    + " (otherwise heap and off-heap default to fractions of the limit that do not fit it): " + javaOpts);
        }
        return new K8sJvmFlags(Double.parseDouble(percent), javacppBytes(maxBytes),
                flags.contains("-XX:+ExitOnOutOfMemoryError"), last(flags, "-Dorg.bytedeco.javacpp.cachedir="));
    }

    long heapBytes(long memoryLimit) {
        return (long) (memoryLimit * heapPercent / 100);
    }

    /** JavaCPP 1.5.7's Pointer.parseBytes: digits, then nothing, k(b), m(b), g(b) or t(b) in any case (x 1024). */
    static long javacppBytes(String value) {
        int digits = 0;
        while (digits < value.length() && Character.isDigit(value.charAt(digits))) {
            digits++;
        }
        long size = Long.parseLong(value.substring(0, digits));
        int power = switch (value.substring(digits).trim().toLowerCase()) {
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
