package dev.streamtrain.training;

import org.jboss.logging.Logger;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import dev.streamtrain.model.BatchScore;
import dev.streamtrain.model.MiniBatch;
import dev.streamtrain.model.Network;

/**
 * The online training loop, run by one dedicated thread: take a mini-batch from the {@link ExampleBatcher},
 * evaluate it and train on it (test-then-train), tell the listeners, acknowledge the records it finished,
 * and publish a serving snapshot every few steps.
 */
public final class OnlineTrainer implements Runnable {

    private static final Logger LOG = Logger.getLogger(OnlineTrainer.class);
    private static final long IDLE_WAIT_NANOS = Duration.ofMillis(50).toNanos();

    /** How often to publish, and how long a partial batch lingers. */
    public record Settings(Duration linger, int publishEverySteps, Duration publishInterval, int recentHalfLife) {
    }

    private final Network network;
    private final ExampleBatcher batcher;
    private final ServedModel served;
    private final List<TrainingListener> listeners;
    private final Settings settings;
    private final MiniBatch batch;
    private final List<RecordHandle> completed = new ArrayList<>();
    private final PrequentialStats stats;
    private final Map<String, Long> trainedOffsets = new ConcurrentHashMap<>();
    private volatile long step;
    private volatile boolean stopping;
    private long publishedStep = -1;
    private long publishedAtNanos;

    public OnlineTrainer(Network network, ExampleBatcher batcher, ServedModel served, List<TrainingListener> listeners,
                         Settings settings) {
        this.network = network;
        this.batcher = batcher;
        this.served = served;
        this.listeners = List.copyOf(listeners);
        this.settings = settings;
        this.batch = new MiniBatch(network.spec().batchSize(), network.spec().inputs(), network.spec().labelWidth());
        this.stats = new PrequentialStats(settings.recentHalfLife());
    }

    @Override
    public void run() {
        String model = network.spec().name();
        LOG.infof("Training model %s (%d parameters) on thread %s", model, network.parameterCount(),
                Thread.currentThread().getName());
        publish();
        try {
            while (!stopping) {
                trainOnce(IDLE_WAIT_NANOS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            LOG.errorf(e, "Training of model %s stopped at step %d: the training thread failed", model, step);
            throw e;
        } finally {
            publishIfBehind();
            LOG.infof("Training of model %s stopped at step %d", model, step);
        }
    }

    /**
     * Trains one mini-batch if examples arrive within {@code maxWaitNanos}; returns whether it did. The
     * training thread's loop body, public so benchmarks and tests can drive the trainer without a thread.
     */
    public boolean trainOnce(long maxWaitNanos) throws InterruptedException {
        completed.clear();
        batcher.fill(batch, completed, settings.linger().toNanos(), maxWaitNanos);
        if (batch.isEmpty()) {
            publishIfBehind();
            return false;
        }
        long start = System.nanoTime();
        BatchScore score = network.trainStep(batch);
        long elapsed = System.nanoTime() - start;
        step++;
        stats.add(score, network.spec().isClassification());
        StepReport report = new StepReport(step, score, network.learningRate(), elapsed);
        for (TrainingListener listener : listeners) {
            try {
                listener.onStep(report);
            } catch (RuntimeException e) {
                // a watcher's bug must not stop training
                LOG.errorf(e, "Training listener %s failed at step %d of model %s; training goes on",
                        listener.getClass().getName(), step, network.spec().name());
            }
        }
        for (RecordHandle record : completed) {
            trainedOffsets.put(record.partition(), record.offset());
            record.trained();
        }
        if (step - publishedStep >= settings.publishEverySteps()
                || System.nanoTime() - publishedAtNanos >= settings.publishInterval().toNanos()) {
            publish();
        }
        return true;
    }

    private void publishIfBehind() {
        if (publishedStep != step) {
            publish();
        }
    }

    private void publish() {
        served.publish(network.snapshot(step));
        publishedStep = step;
        publishedAtNanos = System.nanoTime();
    }

    /** Asks the loop to finish its current step and return. */
    public void stop() {
        stopping = true;
    }

    public long step() {
        return step;
    }

    public PrequentialStats.Summary stats() {
        return stats.summary();
    }

    /** Per partition, the offset of the last record whose examples are all trained. */
    public Map<String, Long> trainedOffsets() {
        return Map.copyOf(trainedOffsets);
    }

}
