package dev.streamtrain.telemetry;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.Startup;
import jakarta.enterprise.context.ApplicationScoped;

import java.util.function.ToDoubleFunction;

import dev.streamtrain.model.spec.ModelSpec;
import dev.streamtrain.training.TrainerService;
import dev.streamtrain.tuning.TunerConfig;
import dev.streamtrain.tuning.TunerView;

/**
 * The meters of {@code learning-rate: auto}, each tagged with the model: the exploit moves so far (0 for a fixed
 * rate), and, only when the spec says auto, the population's size, the serving member, whether an operator pinned the rate, each member's learning rate and
 * recent prequential loss ({@code member} tag). {@code streamtrain_learning_rate}
 * stays the rate in force, the serving member's.
 */
@Startup
@ApplicationScoped
public class TunerMeters {

    private final TrainerService trainer;

    TunerMeters(MeterRegistry registry, ModelSpec spec, TrainerService trainer, TunerConfig config) {
        this.trainer = trainer;
        String model = spec.name();
        // there from the start for every model (0 without the tuner), so that increase() over it always has a series
        FunctionCounter.builder("streamtrain.tuner.exploits", this, m -> m.exploits())
                .tag("model", model)
                .description("Exploit moves: a member replaced by a copy of a better one at a perturbed rate")
                .register(registry);
        if (!spec.optimizer().autoLearningRate()) {
            return;
        }
        gauge(registry, "streamtrain.tuner.members", model, "Members of the learning-rate tuner's population",
                v -> v.members());
        gauge(registry, "streamtrain.tuner.serving.member", model, "The member that serves (lowest recent loss)",
                TunerView::leader);
        gauge(registry, "streamtrain.tuner.pinned", model,
                "1 while an operator's learning rate is pinned (the tuner paused), 0 while the tuner chooses",
                v -> v.pinned() == null ? 0 : 1);
        // the configured population's size (a checkpoint's population of another size shows the configured members)
        int members = config.population();
        for (int m = 0; m < members; m++) {
            int member = m;
            Gauge.builder("streamtrain.tuner.member.learning.rate", this,
                            t -> t.read(v -> member < v.members() ? v.rates().get(member) : Double.NaN))
                    .tags("model", model, "member", Integer.toString(member))
                    .description("Learning rate in force of one member of the tuner's population").register(registry);
            Gauge.builder("streamtrain.tuner.member.recent.loss", this,
                            t -> t.read(v -> member < v.members() ? v.recentLosses().get(member) : Double.NaN))
                    .tags("model", model, "member", Integer.toString(member))
                    .description("Recent prequential loss of one member (what ranks it)").register(registry);
        }
    }

    private void gauge(MeterRegistry registry, String name, String model, String help,
                       ToDoubleFunction<TunerView> value) {
        Gauge.builder(name, this, m -> m.read(value)).tag("model", model).description(help).register(registry);
    }

    private double exploits() {
        TunerView view = trainer.trainer() == null ? null : trainer.trainer().tuner();
        return view == null ? 0 : view.exploits();
    }

    private double read(ToDoubleFunction<TunerView> value) {
        TunerView view = trainer.trainer() == null ? null : trainer.trainer().tuner();
        return view == null ? Double.NaN : value.applyAsDouble(view);
    }
}
