package dev.streamtrain.telemetry;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.quarkus.runtime.Startup;
import jakarta.enterprise.context.ApplicationScoped;
import org.bytedeco.javacpp.Pointer;

import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import java.util.function.ToDoubleFunction;

import dev.streamtrain.model.ModelSpec;
import dev.streamtrain.training.PrequentialStats;
import dev.streamtrain.training.ServedModel;
import dev.streamtrain.training.StepReport;
import dev.streamtrain.training.TrainerService;
import dev.streamtrain.training.TrainingListener;

/**
 * The training meters of DESIGN.md, each tagged with the model: examples and steps trained, train and
 * prequential loss and accuracy, learning rate, step time, native memory and the age of the served model.
 */
@Startup
@ApplicationScoped
public class TrainingMeters implements TrainingListener {

    private final Counter examples;
    private final Counter steps;
    private final Timer stepTime;
    private final TrainerService trainer;
    private final ServedModel served;
    private volatile double learningRate = Double.NaN;

    TrainingMeters(MeterRegistry registry, ModelSpec spec, TrainerService trainer, ServedModel served) {
        this.trainer = trainer;
        this.served = served;
        String model = spec.name();
        examples = Counter.builder("streamtrain.examples.trained").tag("model", model)
                .description("Examples the model has been trained on").register(registry);
        steps = Counter.builder("streamtrain.steps").tag("model", model)
                .description("Optimizer steps taken").register(registry);
        stepTime = Timer.builder("streamtrain.step").tag("model", model)
                .description("Time of one test-then-train step (forward, backward, update)").register(registry);
        gauge(registry, "streamtrain.train.loss", model, "Training loss of the last mini-batch",
                m -> m.stats().trainLoss());
        gauge(registry, "streamtrain.learning.rate", model, "Learning rate in force", m -> m.learningRate);
        for (String window : new String[] {"recent", "cumulative"}) {
            boolean recent = window.equals("recent");
            Gauge.builder("streamtrain.prequential.loss", this,
                            m -> recent ? m.stats().recentLoss() : m.stats().loss())
                    .tags("model", model, "window", window)
                    .description("Test-then-train loss: each batch scored before it is trained on").register(registry);
            if (spec.isClassification()) {
                Gauge.builder("streamtrain.prequential.accuracy", this,
                                m -> recent ? m.stats().recentAccuracy() : m.stats().accuracy())
                        .tags("model", model, "window", window)
                        .description("Test-then-train accuracy").register(registry);
            }
        }
        Gauge.builder("streamtrain.offheap", Pointer::totalBytes).baseUnit("bytes").tag("model", model)
                .description("Native memory held by ND4J/JavaCPP").register(registry);
        Gauge.builder("streamtrain.model.staleness", this, TrainingMeters::staleness).baseUnit("seconds")
                .tag("model", model).description("Age of the snapshot that serves").register(registry);
    }

    private void gauge(MeterRegistry registry, String name, String model, String help,
                       ToDoubleFunction<TrainingMeters> value) {
        Gauge.builder(name, this, value).tag("model", model).description(help).register(registry);
    }

    @Override
    public void onStep(StepReport report) {
        examples.increment(report.score().examples());
        steps.increment();
        stepTime.record(report.stepNanos(), TimeUnit.NANOSECONDS);
        learningRate = report.learningRate();
    }

    private PrequentialStats.Summary stats() {
        return trainer.trainer() == null ? PrequentialStats.Summary.EMPTY : trainer.trainer().stats();
    }

    private double staleness() {
        return served.current()
                .map(s -> Duration.between(s.createdAt(), Instant.now()).toNanos() / 1e9)
                .orElse(Double.NaN);
    }
}
