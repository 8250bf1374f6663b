package dev.streamtrain.telemetry;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.Startup;
import jakarta.enterprise.context.ApplicationScoped;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import dev.streamtrain.ingest.RejectReason;
import dev.streamtrain.model.spec.ModelSpec;

/** Counts records sent to the dead-letter topic: {@code streamtrain_records_rejected_total{model,reason}}. */
// created at start, not on first use: its counters must exist before the first rejection
@Startup
@ApplicationScoped
public class RejectionMeter {

    private final MeterRegistry registry;
    private final String model;
    private final Map<String, Counter> counters = new ConcurrentHashMap<>();

    RejectionMeter(MeterRegistry registry, ModelSpec spec) {
        this.registry = registry;
        this.model = spec.name();
        // every reason's counter exists from the start at 0, so that rate() and increase() see the first rejection
        for (RejectReason reason : RejectReason.values()) {
            counter(reason.code());
        }
    }

    public void rejected(String reason) {
        counter(reason).increment();
    }

    private Counter counter(String reason) {
        return counters.computeIfAbsent(reason, r -> Counter.builder("streamtrain.records.rejected")
                .description("Records sent to the dead-letter topic, by reason")
                .tag("model", model).tag("reason", r)
                .register(registry));
    }

    public double total() {
        return counters.values().stream().mapToDouble(Counter::count).sum();
    }
}
