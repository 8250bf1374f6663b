package dev.streamtrain.telemetry;

import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Liveness;

import dev.streamtrain.training.TrainerService;

/**
 * Liveness: down when the training thread has died (its error is in the log), so that an orchestrator
 * restarts the process instead of leaving a service that serves but no longer learns.
 */
@Liveness
@ApplicationScoped
public class TrainerLivenessCheck implements HealthCheck {

    private final TrainerService trainer;

    TrainerLivenessCheck(TrainerService trainer) {
        this.trainer = trainer;
    }

    @Override
    public HealthCheckResponse call() {
        var response = HealthCheckResponse.named("trainer");
        if (!trainer.trains()) {
            return response.up().withData("mode", "serve").build();
        }
        if (!trainer.isTraining()) {
            return response.down().withData("reason", "the training thread is not running").build();
        }
        return response.up().withData("step", trainer.trainer().step()).build();
    }
}
