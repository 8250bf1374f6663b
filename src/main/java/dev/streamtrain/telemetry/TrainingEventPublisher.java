package dev.streamtrain.telemetry;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.smallrye.reactive.messaging.kafka.api.OutgoingKafkaRecordMetadata;
import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.inject.Instance;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Emitter;
import org.eclipse.microprofile.reactive.messaging.Message;
import org.eclipse.microprofile.reactive.messaging.OnOverflow;
import org.jboss.logging.Logger;

import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import dev.streamtrain.model.spec.ModelSpec;
import dev.streamtrain.training.TrainingEvent;
import dev.streamtrain.training.TrainingEvents;

/**
 * Publishes training events to the {@code events} channel (topic {@code streamtrain.events}, JSON, key = the
 * model name), counts them in {@code streamtrain_health_events_total{type}}, logs them, and keeps the latest
 * for the status route. Sending never blocks the caller: a full buffer or an unreachable broker loses the
 * event on the topic only (it is still logged and counted). Events of the start (a restored checkpoint)
 * happen before the messaging channels exist: they are held and sent once the channels have started.
 */
@ApplicationScoped
public class TrainingEventPublisher implements TrainingEvents {

    private static final Logger LOG = Logger.getLogger(TrainingEventPublisher.class);
    private static final int KEPT = 100;
    private static final ObjectMapper JSON = new ObjectMapper().registerModule(new JavaTimeModule())
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS);

    private final Instance<Emitter<String>> emitters;
    private final MeterRegistry registry;
    private final String model;
    private final ArrayDeque<TrainingEvent> recent = new ArrayDeque<>();
    private final List<TrainingEvent> held = new ArrayList<>();
    private volatile Emitter<String> emitter;

    TrainingEventPublisher(@Channel("events") @OnOverflow(value = OnOverflow.Strategy.BUFFER, bufferSize = 1024)
                           Instance<Emitter<String>> emitters, MeterRegistry registry, ModelSpec spec) {
        this.emitters = emitters;
        this.registry = registry;
        this.model = spec.name();
        TYPES.forEach(this::counter);
    }

    // after the messaging channels have started (they start at an earlier observer priority)
    void channelsStarted(@Observes @Priority(5000) StartupEvent event) {
        List<TrainingEvent> waiting;
        synchronized (held) {
            emitter = emitters.get();
            waiting = List.copyOf(held);
            held.clear();
        }
        waiting.forEach(this::send);
    }

    @Override
    public void publish(String type, long step, Map<String, Object> detail) {
        TrainingEvent event = new TrainingEvent(type, model, step, Instant.now(), detail);
        synchronized (recent) {
            if (recent.size() == KEPT) {
                recent.removeFirst();
            }
            recent.addLast(event);
        }
        counter(type).increment();
        LOG.infof("Training event %s of model %s at step %d: %s", type, model, step, detail);
        synchronized (held) {
            if (emitter == null) {
                held.add(event);
                return;
            }
        }
        send(event);
    }

    private Counter counter(String type) {
        return Counter.builder("streamtrain.health.events").tag("model", model).tag("type", type)
                .description("Training events, by type").register(registry);
    }

    private void send(TrainingEvent event) {
        String type = event.type();
        try {
            Message<String> message = Message.of(JSON.writeValueAsString(event))
                    .addMetadata(OutgoingKafkaRecordMetadata.<String>builder().withKey(model).build())
                    .withNack(e -> {
                        LOG.warnf("Training event %s of model %s not written to Kafka: %s", type, model, e.getMessage());
                        return CompletableFuture.completedFuture(null);
                    });
            emitter.send(message);
        } catch (JsonProcessingException | RuntimeException e) {
            LOG.warnf("Training event %s of model %s not written to Kafka: %s", type, model, e.getMessage());
        }
    }

    @Override
    public List<TrainingEvent> recent() {
        synchronized (recent) {
            return List.copyOf(recent);
        }
    }
}
