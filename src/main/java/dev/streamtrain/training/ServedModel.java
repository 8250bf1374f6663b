package dev.streamtrain.training;

import jakarta.enterprise.context.ApplicationScoped;

import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;

import dev.streamtrain.model.ModelSnapshot;

/**
 * The snapshot that serving answers from. The trainer publishes a new immutable snapshot every few steps;
 * readers take the current one with a single volatile read, so a request never sees weights mid-update.
 */
@ApplicationScoped
public class ServedModel {

    private final AtomicReference<ModelSnapshot> current = new AtomicReference<>();

    public void publish(ModelSnapshot snapshot) {
        current.set(snapshot);
    }

    public Optional<ModelSnapshot> current() {
        return Optional.ofNullable(current.get());
    }
}
