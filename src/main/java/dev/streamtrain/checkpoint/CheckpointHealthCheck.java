package dev.streamtrain.checkpoint;

import io.smallrye.health.api.Wellness;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;

/**
 * Checkpoint storage health, under {@code /q/health/well} (and {@code /q/health}): down, "degraded", while
 * writes fail. Deliberately neither readiness nor liveness: the model still serves and learns during a
 * storage outage, and a restart would not bring the storage back.
 */
@Wellness
@ApplicationScoped
public class CheckpointHealthCheck implements HealthCheck {

    private final CheckpointService checkpoints;

    CheckpointHealthCheck(CheckpointService checkpoints) {
        this.checkpoints = checkpoints;
    }

    @Override
    public HealthCheckResponse call() {
        var response = HealthCheckResponse.named("checkpoints").withData("store", checkpoints.storeDescription());
        checkpoints.lastDurable().ifPresent(m -> response.withData("last-step", m.step())
                .withData("last-time", m.time().toString()));
        int failures = checkpoints.failuresInARow();
        if (failures > 0) {
            return response.down().withData("state", "degraded").withData("failures-in-a-row", failures)
                    .withData("last-error", checkpoints.lastError().orElse("")).build();
        }
        return response.up().build();
    }
}
