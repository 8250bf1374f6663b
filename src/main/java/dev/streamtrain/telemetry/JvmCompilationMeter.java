package dev.streamtrain.telemetry;

import io.micrometer.core.instrument.binder.MeterBinder;
import io.micrometer.core.instrument.binder.jvm.JvmCompilationMetrics;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;

/**
 * The JIT's cumulative compilation time, {@code jvm_compilation_time_ms_total} (Micrometer's binder over the
 * {@code CompilationMXBean}), which Quarkus does not bind itself. It tells a JIT still warming up (compile time and
 * code cache growing together) from a leak (memory growing while compile time stands still); the soak reads it.
 */
public class JvmCompilationMeter {

    @Produces
    @Singleton
    MeterBinder jvmCompilation() {
        return new JvmCompilationMetrics();
    }
}
