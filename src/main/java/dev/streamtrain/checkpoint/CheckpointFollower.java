package dev.streamtrain.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import dev.streamtrain.model.ModelSnapshot;
import dev.streamtrain.model.spec.ModelSpec;
import dev.streamtrain.training.SavedTraining;
import dev.streamtrain.training.ServedModel;
import dev.streamtrain.ServiceConfig;
import dev.streamtrain.serving.ServingConfig;

/**
 * The serving-only replica ({@code streamtrain.mode=serve}): serves the newest valid checkpoint of the model
 * and swaps in each newer one, told by the trainer's {@code checkpoint-saved} events on the training events
 * topic and, in case an event is missed, by looking in the store every {@code streamtrain.serving.poll-interval}.
 * Loading runs on one thread, "streamtrain-follower", so versions only ever go forward. A checkpoint that does
 * not verify is skipped (the older one keeps serving). Before the first checkpoint exists the replica is not
 * ready (503), like a trainer before its first snapshot.
 */
@ApplicationScoped
public class CheckpointFollower {

    private static final Logger LOG = Logger.getLogger(CheckpointFollower.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final ServiceConfig service;
    private final ServingConfig config;
    private final ModelSpec spec;
    private final ServedModel served;
    private final CheckpointService checkpoints;
    private volatile ScheduledExecutorService loader;
    private volatile long servedStep = -1;

    CheckpointFollower(ServiceConfig service, ServingConfig config, ModelSpec spec, ServedModel served, CheckpointService checkpoints) {
        this.service = service;
        this.config = config;
        this.spec = spec;
        this.served = served;
        this.checkpoints = checkpoints;
    }

    void start(@Observes @Priority(20) StartupEvent event) {
        if (service.trains()) {
            return;
        }
        loader = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread thread = new Thread(r, "streamtrain-follower");
            thread.setDaemon(true);
            return thread;
        });
        long every = config.pollInterval().toMillis();
        loader.scheduleWithFixedDelay(this::loadNewest, 0, every, TimeUnit.MILLISECONDS);
        LOG.infof("Model %s: following checkpoints in %s (checkpoint-saved events, and the store every %d s)",
                spec.name(), checkpoints.storeDescription(), every / 1000);
    }

    void stop(@Observes ShutdownEvent event) throws InterruptedException {
        ScheduledExecutorService running = loader;
        if (running != null) {
            running.shutdownNow();
            // a load in progress finishes before the store closes
            running.awaitTermination(10, TimeUnit.SECONDS);
        }
    }

    /** A training event; {@code checkpoint-saved} of this model, newer than the served one, is loaded. */
    @Incoming("training-events")
    public void event(String value) {
        JsonNode event;
        try {
            event = JSON.readTree(value);
        } catch (IOException e) {
            LOG.debugf("Ignoring a training event that is not JSON: %s", e.getMessage());
            return;
        }
        if (event == null || !"checkpoint-saved".equals(event.path("type").asText())
                || !spec.name().equals(event.path("model").asText())) {
            return;
        }
        long step = event.path("step").asLong(-1);
        ScheduledExecutorService running = loader;
        if (step > servedStep && running != null && !running.isShutdown()) {
            running.execute(() -> {
                if (step > servedStep) {
                    loadNewest();
                }
            });
        }
    }

    /** The step of the checkpoint being served; -1 before the first one. */
    public long servedStep() {
        return servedStep;
    }

    // newest first: the first that verifies wins; older ones than the served one are never gone back to
    private void loadNewest() {
        try {
            for (long step : checkpoints.steps()) {
                if (step <= servedStep) {
                    return;
                }
                if (load(step)) {
                    return;
                }
            }
        } catch (Exception | LinkageError | OutOfMemoryError e) {
            // caught whatever it is: an exception escaping a scheduled task would end the polling for good
            LOG.warnf("Model %s: cannot look for a newer checkpoint in %s (%s); version %d keeps serving, retrying"
                    + " in %d s", spec.name(), checkpoints.storeDescription(), e.getMessage(), servedStep,
                    config.pollInterval().toSeconds());
        }
    }

    private boolean load(long step) throws IOException {
        long start = System.nanoTime();
        SavedTraining saved;
        try {
            saved = checkpoints.restore(step);
        } catch (Checkpoints.InvalidCheckpointException e) {
            // an incomplete folder may be one being written right now: its manifest comes last
            LOG.debugf("Model %s: checkpoint %d is not usable (yet): %s", spec.name(), step, e.getMessage());
            return false;
        }
        ModelSnapshot snapshot = saved.network().snapshot(step, saved.savedAt());
        served.publish(snapshot);
        servedStep = step;
        LOG.infof("Model %s: serving version %d (checkpoint written %s, loaded in %d ms)", spec.name(), step,
                saved.savedAt(), (System.nanoTime() - start) / 1_000_000);
        return true;
    }
}
