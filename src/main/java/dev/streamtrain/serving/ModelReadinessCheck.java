package dev.streamtrain.serving;

import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

import dev.streamtrain.training.ServedModel;

/** Readiness: down until a model snapshot is published for serving (the Kafka connector adds its own check). */
@Readiness
@ApplicationScoped
public class ModelReadinessCheck implements HealthCheck {

    private final ServedModel served;

    ModelReadinessCheck(ServedModel served) {
        this.served = served;
    }

    @Override
    public HealthCheckResponse call() {
        var builder = HealthCheckResponse.named("model");
        return served.current()
                .map(s -> builder.up().withData("model", s.spec().name()).withData("version", s.version()).build())
                .orElseGet(() -> builder.down().withData("reason", "no model snapshot published yet").build());
    }
}
