package dev.streamtrain.telemetry;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import dev.streamtrain.ServiceConfig;
import dev.streamtrain.model.spec.ModelSpec;
import dev.streamtrain.training.Backlog;
import dev.streamtrain.training.OnlineTrainer;
import dev.streamtrain.training.TrainerService;

/**
 * How far the model is behind its topic: {@code streamtrain_model_lag_records{model,partition}} = the partition's end
 * offset − the offset of the next record none of whose examples is in the model. Unlike the Kafka client's
 * {@code records_lag_max} (log end − the consumer's position), it counts what is fetched or buffered but not trained
 * yet, it is per partition, and it is there between polls, so "the topic is quiet" (lag 0, no steps) and "the trainer
 * is stuck" (lag > 0, no steps) can be told apart. Before the model has trained a record of a partition, the
 * position is where reading started (the checkpoint's, or the consumer's reset position).
 * <p>
 * A gauge per partition the trainer holds, registered once the partition's end is known and removed when the
 * partition is revoked; the value is computed when scraped. The set of partitions is looked at every second.
 */
@ApplicationScoped
public class ModelLagMeter {

    static final String NAME = "streamtrain.model.lag.records";
    private static final Duration RESCAN = Duration.ofSeconds(1);

    private final MeterRegistry registry;
    private final String model;
    private final Backlog backlog;
    private final TrainerService service;
    private final ServiceConfig config;
    private final Map<String, Meter> gauges = new ConcurrentHashMap<>();
    private ScheduledExecutorService rescanner;

    ModelLagMeter(MeterRegistry registry, ModelSpec spec, Backlog backlog, TrainerService service,
                  ServiceConfig config) {
        this.registry = registry;
        this.model = spec.name();
        this.backlog = backlog;
        this.service = service;
        this.config = config;
    }

    void start(@Observes StartupEvent event) {
        if (!config.trains()) {
            return;
        }
        rescanner = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread thread = new Thread(r, "streamtrain-lag-meter");
            thread.setDaemon(true);
            return thread;
        });
        rescanner.scheduleWithFixedDelay(this::rescan, 0, RESCAN.toMillis(), TimeUnit.MILLISECONDS);
    }

    void stop(@Observes ShutdownEvent event) {
        if (rescanner != null) {
            rescanner.shutdownNow();
        }
    }

    /** Registers the gauges of newly known partitions and removes those of partitions no longer held. */
    void rescan() {
        Map<String, Backlog.Edge> edges = backlog.edges();
        for (String partition : edges.keySet()) {
            gauges.computeIfAbsent(partition, p -> Gauge.builder(NAME, this, m -> m.lag(p))
                    .description("Records in the topic's partition not yet trained into the model (end offset"
                            + " minus the model's position)")
                    .tag("model", model).tag("partition", p).register(registry));
        }
        gauges.keySet().removeIf(partition -> {
            if (edges.containsKey(partition)) {
                return false;
            }
            registry.remove(gauges.get(partition));
            return true;
        });
    }

    /** The partition's lag now, or NaN when it is not held any more (the gauge is about to go). */
    double lag(String partition) {
        Backlog.Edge edge = backlog.edges().get(partition);
        if (edge == null) {
            return Double.NaN;
        }
        OnlineTrainer trainer = service.trainer();
        Long trained = trainer == null ? null : trainer.position().next().get(partition);
        long position = trained != null ? trained : edge.readFrom();
        return position < 0 ? Double.NaN : Math.max(0, edge.end() - position);
    }
}
