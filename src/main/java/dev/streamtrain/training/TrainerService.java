package dev.streamtrain.training;

import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.inject.Instance;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import org.jboss.logging.Logger;

import java.util.concurrent.TimeUnit;

import dev.streamtrain.model.ComputeSettings;
import dev.streamtrain.model.InvalidSpecException;
import dev.streamtrain.model.ModelSpec;
import dev.streamtrain.model.ModelSpecParser;
import dev.streamtrain.model.Network;

/**
 * Builds the model from its spec at start (refusing a wrong spec), and runs the {@link OnlineTrainer} on its
 * own thread, "streamtrain-trainer": never a Vert.x event-loop or worker thread.
 */
@ApplicationScoped
public class TrainerService {

    private static final Logger LOG = Logger.getLogger(TrainerService.class);

    private final TrainingConfig config;
    private final ModelSpec spec;
    private final ExampleBatcher batcher;
    private volatile OnlineTrainer trainer;
    private volatile Thread thread;
    private volatile int threads;

    TrainerService(TrainingConfig config) {
        this.config = config;
        try {
            this.spec = ModelSpecParser.load(config.model().spec().orElse(null));
        } catch (InvalidSpecException e) {
            LOG.errorf("Refusing to start: the model spec %s is wrong: %s",
                    config.model().spec().orElse("(bundled)"), e.getMessage());
            throw e;
        }
        this.batcher = new ExampleBatcher(config.training().bufferExamples(),
                spec.usesBatchNorm() ? config.training().minBatchWithBatchNorm() : 1);
    }

    @Produces
    @Singleton
    ModelSpec spec() {
        return spec;
    }

    @Produces
    @Singleton
    ExampleBatcher batcher() {
        return batcher;
    }

    // Runs before the messaging channels start (they start at a later observer priority), so records find a trainer.
    void start(@Observes @Priority(10) StartupEvent event, ServedModel served, Instance<TrainingListener> listeners) {
        threads = ComputeSettings.apply(config.compute().threads(), spec);
        Network network = new Network(spec);
        var t = config.training();
        trainer = new OnlineTrainer(network, batcher, served, listeners.stream().toList(),
                new OnlineTrainer.Settings(t.linger(), t.publishEverySteps(), t.publishInterval(), t.recentHalfLife()));
        LOG.infof("Model %s: %s, %d inputs, %d outputs, batch size %d, %d compute threads", spec.name(),
                spec.task().name().toLowerCase(), spec.inputs(), spec.outputs(), spec.batchSize(), threads);
        thread = new Thread(trainer, "streamtrain-trainer");
        thread.setDaemon(true);
        thread.start();
    }

    void stop(@Observes ShutdownEvent event) throws InterruptedException {
        if (trainer != null) {
            trainer.stop();
            thread.join(TimeUnit.SECONDS.toMillis(30));
        }
    }

    /** Whether the training thread is running (false before start, after stop, or if it died). */
    public boolean isTraining() {
        return thread != null && thread.isAlive();
    }

    /** ND4J/BLAS threads in force. */
    public int computeThreads() {
        return threads;
    }

    public OnlineTrainer trainer() {
        return trainer;
    }

    public ModelSpec modelSpec() {
        return spec;
    }
}
