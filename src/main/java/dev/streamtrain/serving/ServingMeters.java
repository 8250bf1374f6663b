package dev.streamtrain.serving;

import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import jakarta.enterprise.context.ApplicationScoped;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import dev.streamtrain.model.spec.ModelSpec;

/**
 * Inference requests by protocol ({@code rest}, {@code grpc}), operation ({@code infer}, {@code explain},
 * {@code metadata}, ...) and outcome: {@code streamtrain_inference_seconds} (a timer, so its {@code _count} is
 * the request count), with histogram buckets from 100 µs to 10 s so that Prometheus can compute quantiles
 * over any window and across replicas.
 */
@ApplicationScoped
public class ServingMeters {

    private final MeterRegistry registry;
    private final String model;
    private final Map<String, Timer> timers = new ConcurrentHashMap<>();
    private final DistributionSummary batchRows;

    ServingMeters(MeterRegistry registry, ModelSpec spec) {
        this.registry = registry;
        this.model = spec.name();
        batchRows = DistributionSummary.builder("streamtrain.inference.batch.rows").tag("model", model)
                .description("Rows per forward pass of inference: concurrent requests are answered together")
                .register(registry);
    }

    void batch(int rows) {
        batchRows.record(rows);
    }

    void record(String protocol, String operation, String outcome, long nanos) {
        timers.computeIfAbsent(protocol + '|' + operation + '|' + outcome, k -> Timer.builder("streamtrain.inference")
                        .tag("model", model).tag("protocol", protocol).tag("operation", operation).tag("outcome", outcome)
                        .description("Inference requests: latency and count by protocol, operation and outcome")
                        .publishPercentileHistogram()
                        .minimumExpectedValue(Duration.ofNanos(100_000))
                        .maximumExpectedValue(Duration.ofSeconds(10))
                        .register(registry))
                .record(nanos, TimeUnit.NANOSECONDS);
    }
}
