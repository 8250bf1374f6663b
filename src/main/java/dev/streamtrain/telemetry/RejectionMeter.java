package dev.streamtrain.telemetry;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.enterprise.context.ApplicationScoped;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import dev.streamtrain.model.ModelSpec;

/** Counts records sent to the dead-letter topic: {@code streamtrain_records_rejected_total{model,reason}}. */
@ApplicationScoped
public class RejectionMeter {

    private final MeterRegistry registry;
    private final String model;
    private final Map<String, Counter> counters = new ConcurrentHashMap<>();

    RejectionMeter(MeterRegistry registry, ModelSpec spec) {
        this.registry = registry;
        this.model = spec.name();
    }

    public void rejected(String reason) {
        counters.computeIfAbsent(reason, r -> Counter.builder("streamtrain.records.rejected")
                .description("Records sent to the dead-letter topic, by reason")
                .tag("model", model).tag("reason", r)
                .register(registry)).increment();
    }

    public double total() {
        return counters.values().stream().mapToDouble(Counter::count).sum();
    }
}
