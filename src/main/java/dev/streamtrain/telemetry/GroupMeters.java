package dev.streamtrain.telemetry;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.FunctionTimer;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.Startup;
import jakarta.enterprise.context.ApplicationScoped;

import java.util.concurrent.TimeUnit;
import java.util.function.ToDoubleFunction;

import dev.streamtrain.cluster.ClusterService;
import dev.streamtrain.cluster.GroupStatus;
import dev.streamtrain.model.spec.ModelSpec;

/**
 * The meters of a member of a group of trainers ({@code streamtrain.cluster.enabled}; none otherwise), tagged with
 * the model: rounds by outcome, the time rounds waited for the group, the members and generation it trains in, its
 * last round, and its staleness (steps trained since the last average). See docs/metrics.md.
 */
@Startup
@ApplicationScoped
public class GroupMeters {

    GroupMeters(MeterRegistry registry, ModelSpec spec, ClusterService cluster) {
        if (cluster.status().isEmpty()) {
            return;
        }
        GroupStatus status = cluster.status().get();
        String model = spec.name();
        rounds(registry, model, status, "complete", GroupStatus::roundsComplete);
        rounds(registry, model, status, "abandoned", GroupStatus::roundsAbandoned);
        rounds(registry, model, status, "timed-out", GroupStatus::roundsTimedOut);
        FunctionTimer.builder("streamtrain.sync.round", status, GroupStatus::roundsEnded,
                        GroupStatus::roundSecondsTotal, TimeUnit.SECONDS)
                .tag("model", model)
                .description("Time a member's rounds took from its part published to the average assigned (or the"
                        + " round given up)")
                .register(registry);
        gauge(registry, "streamtrain.sync.members", model, status,
                "Members of the generation this trainer trains in (0 between generations)", GroupStatus::members);
        gauge(registry, "streamtrain.sync.generation", model, status,
                "The consumer group's generation this trainer trains in", GroupStatus::generation);
        gauge(registry, "streamtrain.sync.round.number", model, status,
                "The last round completed in the generation", GroupStatus::round);
        gauge(registry, "streamtrain.sync.staleness.steps", model, status,
                "Steps this member trained since the last average", GroupStatus::stepsSinceAverage);
        gauge(registry, "streamtrain.sync.writer", model, status,
                "1 when this member writes the group's checkpoints in its generation", s -> s.writer() ? 1 : 0);
    }

    private static void rounds(MeterRegistry registry, String model, GroupStatus status, String outcome,
                               ToDoubleFunction<GroupStatus> count) {
        FunctionCounter.builder("streamtrain.sync.rounds", status, count)
                .tag("model", model).tag("outcome", outcome)
                .description("Averaging rounds this member ended, by outcome").register(registry);
    }

    private static void gauge(MeterRegistry registry, String name, String model, GroupStatus status,
                              String description, ToDoubleFunction<GroupStatus> value) {
        Gauge.builder(name, status, value).tag("model", model).description(description).register(registry);
    }
}
