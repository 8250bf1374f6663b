package dev.streamtrain.soak;

/**
 * What the JVM itself holds besides the heap, from its {@code java.lang.management} beans as Micrometer exposes them:
 * metaspace (class metadata, and the JIT's profiles of warm methods), the code cache by segment (non-methods: the
 * JVM's own stubs; profiled: tier-2/3 code; non-profiled: C2's final code), classes loaded now and unloaded so far,
 * and the JIT's cumulative compile time. A JIT warming up grows the code cache and metaspace while its compile time
 * grows; a class leak grows the count of classes ever loaded; neither shows in the heap.
 */
record JvmSample(long metaspaceUsedBytes, long metaspaceCommittedBytes, long codeNonMethodsBytes,
                 long codeProfiledBytes, long codeNonProfiledBytes, long codeCacheCommittedBytes,
                 long codeCacheMaxBytes, long classesLoaded, long classesUnloaded, double compileSeconds) {

    static final String CSV_HEADER = "metaspace_used_bytes,metaspace_committed_bytes,code_non_methods_bytes,"
            + "code_profiled_bytes,code_non_profiled_bytes,code_cache_committed_bytes,code_cache_max_bytes,"
            + "classes_loaded,classes_unloaded_total,jit_compile_seconds_total";

    static JvmSample from(SoakProbe.PrometheusText metrics) {
        String codeHeap = "id=\"CodeHeap '";
        return new JvmSample((long) metrics.sum("jvm_memory_used_bytes", "id=\"Metaspace\""),
                (long) metrics.sum("jvm_memory_committed_bytes", "id=\"Metaspace\""),
                (long) metrics.sum("jvm_memory_used_bytes", codeHeap + "non-nmethods"),
                (long) metrics.sum("jvm_memory_used_bytes", codeHeap + "profiled"),
                (long) metrics.sum("jvm_memory_used_bytes", codeHeap + "non-profiled"),
                (long) metrics.sum("jvm_memory_committed_bytes", codeHeap),
                (long) metrics.sum("jvm_memory_max_bytes", codeHeap),
                (long) metrics.sum("jvm_classes_loaded_classes", ""),
                (long) metrics.sum("jvm_classes_unloaded_classes_total", ""),
                metrics.sum("jvm_compilation_time_ms_total", "") / 1000);
    }

    long codeCacheUsedBytes() {
        return codeNonMethodsBytes + codeProfiledBytes + codeNonProfiledBytes;
    }

    /** Every class loaded since the start: a class leak grows it even when the leaked classes are unloaded again. */
    long classesEverLoaded() {
        return classesLoaded + classesUnloaded;
    }

    String csv() {
        return String.format(java.util.Locale.ROOT, "%d,%d,%d,%d,%d,%d,%d,%d,%d,%.3f", metaspaceUsedBytes,
                metaspaceCommittedBytes, codeNonMethodsBytes, codeProfiledBytes, codeNonProfiledBytes,
                codeCacheCommittedBytes, codeCacheMaxBytes, classesLoaded, classesUnloaded, compileSeconds);
    }
}
