package dev.streamtrain.telemetry;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.quarkus.runtime.Startup;
import jakarta.enterprise.context.ApplicationScoped;
import org.bytedeco.javacpp.Pointer;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.ToDoubleFunction;

import dev.streamtrain.model.EngineKind;
import dev.streamtrain.model.LayerHealth;
import dev.streamtrain.model.spec.ModelSpec;
import dev.streamtrain.model.StepResult;
import dev.streamtrain.training.PrequentialStats;
import dev.streamtrain.training.ServedModel;
import dev.streamtrain.training.StepReport;
import dev.streamtrain.training.TrainerService;
import dev.streamtrain.training.TrainingListener;
import dev.streamtrain.training.health.TrainingHealth;

/**
 * The training meters of DESIGN.md, each tagged with the model: examples and steps trained, train and
 * prequential loss and accuracy, learning rate, step time, native memory and the age of the served model.
 */
@Startup
@ApplicationScoped
public class TrainingMeters implements TrainingListener {

    private final MeterRegistry registry;
    private final String model;
    private final Counter examples;
    private final Counter steps;
    private final Timer stepTime;
    private final Timer scoreTime;
    private final Timer backwardTime;
    private final Timer updateTime;
    private final Timer monitorTime;
    private final Map<String, LayerHealth> layers = new ConcurrentHashMap<>();
    private volatile double examplesPerSecond = Double.NaN;
    private long rateMarkNanos = System.nanoTime();
    private double rateMarkExamples;
    private double examplesSoFar;
    private final TrainerService trainer;
    private final ServedModel served;
    private volatile double learningRate = Double.NaN;

    TrainingMeters(MeterRegistry registry, ModelSpec spec, TrainerService trainer, ServedModel served) {
        this.trainer = trainer;
        this.served = served;
        this.registry = registry;
        this.model = spec.name();
        examples = Counter.builder("streamtrain.examples.trained").tag("model", model)
                .description("Examples the model has been trained on").register(registry);
        steps = Counter.builder("streamtrain.steps").tag("model", model)
                .description("Optimizer steps taken").register(registry);
        stepTime = Timer.builder("streamtrain.step").tag("model", model)
                .description("Time of one test-then-train step (forward, backward, update)").register(registry);
        scoreTime = phase("score", "the test half: forward pass and per-example scores");
        backwardTime = phase("forward-backward", "DL4J's forward and backward pass");
        updateTime = phase("update", "the optimizer's update");
        monitorTime = phase("monitors", "the health monitors and their answers");
        gauge(registry, "streamtrain.examples.per.second", model, "Examples trained per second (over ~5 s)",
                m -> m.examplesPerSecond);
        gauge(registry, "streamtrain.learning.rate.scale", model,
                "Product of the learning-rate back-offs so far (1: none)", m -> m.health().learningRateScale());
        gauge(registry, "streamtrain.holdout.gap", model,
                "Recent held-out loss minus recent prequential (training) loss", m -> m.holdout().recentLoss()
                        - m.stats().recentLoss());
        for (String alarm : TrainingHealth.ALARMS) {
            Gauge.builder("streamtrain.health.alarm", this, m -> m.health().alarms().getOrDefault(alarm, false) ? 1 : 0)
                    .tags("model", model, "alarm", alarm)
                    .description("1 while the health alarm is raised").register(registry);
        }
        gauge(registry, "streamtrain.train.loss", model, "Training loss of the last mini-batch",
                m -> m.stats().trainLoss());
        gauge(registry, "streamtrain.learning.rate", model, "Learning rate in force", m -> m.learningRate);
        for (String window : new String[] {"recent", "cumulative"}) {
            boolean recent = window.equals("recent");
            Gauge.builder("streamtrain.prequential.loss", this,
                            m -> recent ? m.stats().recentLoss() : m.stats().loss())
                    .tags("model", model, "window", window)
                    .description("Test-then-train loss: each batch scored before it is trained on").register(registry);
            Gauge.builder("streamtrain.holdout.loss", this,
                            m -> recent ? m.holdout().recentLoss() : m.holdout().loss())
                    .tags("model", model, "window", window)
                    .description("Loss on held-out examples (never trained on)").register(registry);
            if (spec.isClassification()) {
                Gauge.builder("streamtrain.prequential.accuracy", this,
                                m -> recent ? m.stats().recentAccuracy() : m.stats().accuracy())
                        .tags("model", model, "window", window)
                        .description("Test-then-train accuracy").register(registry);
                Gauge.builder("streamtrain.holdout.accuracy", this,
                                m -> recent ? m.holdout().recentAccuracy() : m.holdout().accuracy())
                        .tags("model", model, "window", window)
                        .description("Accuracy on held-out examples").register(registry);
            }
        }
        for (EngineKind kind : EngineKind.values()) {
            // 1 for the engine the model trains on: lean, or dl4j when configured as the reference
            Gauge.builder("streamtrain.engine", this, m -> m.trainer.trainer() != null
                            && m.trainer.trainer().engine() == kind ? 1 : 0)
                    .tags("model", model, "engine", kind.label)
                    .description("1 for the engine the model trains on (lean, or dl4j, the reference, when configured)")
                    .register(registry);
        }
        Gauge.builder("streamtrain.offheap", Pointer::totalBytes).baseUnit("bytes").tag("model", model)
                .description("Native memory held by ND4J/JavaCPP").register(registry);
        Gauge.builder("streamtrain.model.staleness", this, TrainingMeters::staleness).baseUnit("seconds")
                .tag("model", model).description("Age of the snapshot that serves").register(registry);
        FunctionCounter.builder("streamtrain.snapshots.withheld", trainer,
                        t -> t.trainer() == null ? 0 : t.trainer().withheldSnapshots()).tag("model", model)
                .description("Snapshots not promoted to serving: held-out loss worse than the serving one's"
                        + " (streamtrain.serving.promotion=not-worse)").register(registry);
    }

    private Timer phase(String phase, String help) {
        return Timer.builder("streamtrain.step.phase").tags("model", model, "phase", phase)
                .description("Time of one part of a step: " + help).register(registry);
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
        StepResult result = report.result();
        if (result != null) {
            scoreTime.record(result.scoreNanos(), TimeUnit.NANOSECONDS);
            if (result.fitted()) {
                backwardTime.record(result.backwardNanos(), TimeUnit.NANOSECONDS);
                updateTime.record(result.updateNanos(), TimeUnit.NANOSECONDS);
            }
            if (result.layers() != null) {
                result.layers().forEach(this::layer);
            }
        }
        monitorTime.record(report.monitorNanos(), TimeUnit.NANOSECONDS);
        examplesSoFar += report.score().examples();
        long now = System.nanoTime();
        if (now - rateMarkNanos >= 5_000_000_000L) {
            examplesPerSecond = (examplesSoFar - rateMarkExamples) * 1e9 / (now - rateMarkNanos);
            rateMarkNanos = now;
            rateMarkExamples = examplesSoFar;
        }
    }

    // per-layer gauges, registered the first time the layer is sampled
    private void layer(LayerHealth health) {
        if (layers.put(health.layer(), health) != null) {
            return;
        }
        String layer = health.layer();
        layerGauge("streamtrain.gradient.norm", layer, "L2 norm of the layer's mean gradient (sampled)",
                LayerHealth::gradientNorm);
        layerGauge("streamtrain.update.ratio", layer, "Norm of the layer's update over the norm of its parameters",
                LayerHealth::updateRatio);
        layerGauge("streamtrain.dead.units.fraction", layer, "Fraction of the layer's ReLU units zero on a whole batch",
                LayerHealth::deadFraction);
        layerGauge("streamtrain.activation.std", layer, "Standard deviation of the layer's outputs",
                LayerHealth::activationStd);
    }

    private void layerGauge(String name, String layer, String help, ToDoubleFunction<LayerHealth> value) {
        Gauge.builder(name, this, m -> value.applyAsDouble(m.layers.get(layer)))
                .tags("model", model, "layer", layer).description(help).register(registry);
    }

    /** Examples trained per second over the last ~5 s; NaN at first. */
    public double examplesPerSecond() {
        return examplesPerSecond;
    }

    private TrainingHealth.View health() {
        return trainer.trainer() == null ? TrainingHealth.View.EMPTY : trainer.trainer().health().view();
    }

    private PrequentialStats.Summary holdout() {
        return trainer.trainer() == null ? PrequentialStats.Summary.EMPTY : trainer.trainer().holdoutStats();
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
