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
    /** protocol, then operation, then outcome: looked up without building a key, so a request allocates nothing here. */
    private final Map<String, Map<String, Map<String, Timer>>> timers = new ConcurrentHashMap<>();
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
        timer(protocol, operation, outcome).record(nanos, TimeUnit.NANOSECONDS);
    }

    /** The timer of one protocol, operation and outcome, registered on first use and kept bound after it. */
    Timer timer(String protocol, String operation, String outcome) {
        Map<String, Timer> outcomes = timers.computeIfAbsent(protocol, p -> new ConcurrentHashMap<>())
                .computeIfAbsent(operation, o -> new ConcurrentHashMap<>());
        Timer timer = outcomes.get(outcome);
        if (timer == null) {
            timer = outcomes.computeIfAbsent(outcome, o -> Timer.builder("streamtrain.inference")
                    .tag("model", model).tag("protocol", protocol).tag("operation", operation).tag("outcome", outcome)
                    .description("Inference requests: latency and count by protocol, operation and outcome")
                    .publishPercentileHistogram()
                    .minimumExpectedValue(Duration.ofNanos(100_000))
                    .maximumExpectedValue(Duration.ofSeconds(10))
                    .register(registry));
        }
        return timer;
    }
}
