package dev.streamtrain.demo;

import io.quarkus.runtime.Quarkus;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import dev.streamtrain.telemetry.RejectionMeter;
import dev.streamtrain.training.PrequentialStats;
import dev.streamtrain.training.ServedModel;
import dev.streamtrain.training.StepReport;
import dev.streamtrain.training.TrainerService;
import dev.streamtrain.training.TrainingListener;

/**
 * The demo (when {@code streamtrain.demo.enabled}): streams the bundled digits through the broker, prints a
 * progress line every few seconds, then a summary with the inference URL, and keeps serving (or exits).
 */
@ApplicationScoped
public class DemoRunner implements TrainingListener {

    private static final Logger LOG = Logger.getLogger(DemoRunner.class);
    private static final long TICK_MS = 100;

    private final DemoConfig config;
    private final TrainerService trainer;
    private final ServedModel served;
    private final RejectionMeter rejections;
    private final String bootstrapServers;
    private final String topic;
    private final String group;
    private final String deadLetterTopic;
    private final int port;
    private ScheduledExecutorService scheduler;
    private volatile int firstPassSize = Integer.MAX_VALUE;
    private volatile long firstPassSeen;
    private volatile long firstPassExamples;
    private volatile long firstPassCorrect;

    DemoRunner(DemoConfig config, TrainerService trainer, ServedModel served, RejectionMeter rejections,
               @ConfigProperty(name = "kafka.bootstrap.servers") String bootstrapServers,
               @ConfigProperty(name = "mp.messaging.incoming.examples.topic") String topic,
               @ConfigProperty(name = "mp.messaging.incoming.examples.group.id") String group,
               @ConfigProperty(name = "mp.messaging.incoming.examples.dead-letter-queue.topic") String deadLetterTopic,
               @ConfigProperty(name = "quarkus.http.port") int port) {
        this.config = config;
        this.trainer = trainer;
        this.served = served;
        this.rejections = rejections;
        this.bootstrapServers = bootstrapServers;
        this.topic = topic;
        this.group = group;
        this.deadLetterTopic = deadLetterTopic;
        this.port = port;
    }

    void start(@Observes @Priority(5000) StartupEvent event) {
        if (!config.enabled()) {
            return;
        }
        if (!trainer.trains()) {
            LOG.info("Demo: not run by a serving-only replica (streamtrain.mode=serve)");
            return;
        }
        DigitsDataset data = DigitsDataset.load();
        firstPassSize = data.size();
        DemoProducer producer = new DemoProducer(bootstrapServers, topic, data, config);
        ConsumerLag lag = new ConsumerLag(bootstrapServers, topic, group);
        DemoProgress progress = new DemoProgress(trainer, rejections, lag, producer, LOG);
        LOG.infof("Demo: streaming %d passes of the %d digits (%d records with the bad ones) to %s at %s",
                config.passes(), data.size(), producer.total(), topic,
                config.rate() == 0 ? "full speed" : config.rate() + " records/s");
        scheduler = Executors.newScheduledThreadPool(1, r -> new Thread(r, "streamtrain-demo"));
        int perTick = config.rate() == 0 ? Integer.MAX_VALUE : Math.max(1, (int) (config.rate() * TICK_MS / 1000));
        scheduler.scheduleAtFixedRate(() -> {
            if (!producer.done()) {
                producer.sendNext(perTick);
            }
        }, 0, TICK_MS, TimeUnit.MILLISECONDS);
        long every = config.progressInterval().toMillis();
        scheduler.scheduleAtFixedRate(() -> {
            progress.report();
            if (producer.done() && progress.allHandled()) {
                scheduler.shutdown();
                summary(progress, data, producer, lag);
            }
        }, every, every, TimeUnit.MILLISECONDS);
    }

    /**
     * What an alarm at the end of the demo means. The demo replays the same digits several times, and a model that
     * sees the same examples again and again fits them ever better while its held-out loss stops improving: the
     * overfitting alarm is what that looks like, and it is right, not a fault of the service.
     */
    private String explanation(List<String> alarms, int examples) {
        if (!alarms.contains("overfitting") || config.passes() < 2) {
            return "";
        }
        return String.format("%n  (expected here: the demo replays the same %,d digits %d times, so the model keeps"
                + " fitting examples it has seen while its held-out loss stops improving; a live stream of new"
                + " examples does not do this. The best checkpoint is kept.)", examples, config.passes());
    }

    private void summary(DemoProgress progress, DigitsDataset data, DemoProducer producer, ConsumerLag lag) {
        PrequentialStats.Summary stats = trainer.trainer().stats();
        var snapshot = served.current().orElseThrow();
        float[] x = new float[data.size() * DigitsDataset.FEATURES];
        for (int i = 0; i < data.size(); i++) {
            System.arraycopy(data.features()[i], 0, x, i * DigitsDataset.FEATURES, DigitsDataset.FEATURES);
        }
        float[] p = snapshot.predict(x, data.size());
        int correct = 0;
        for (int i = 0; i < data.size(); i++) {
            int best = 0;
            for (int k = 1; k < DigitsDataset.CLASSES; k++) {
                best = p[i * DigitsDataset.CLASSES + k] > p[i * DigitsDataset.CLASSES + best] ? k : best;
            }
            correct += best == data.labels()[i] ? 1 : 0;
        }
        List<String> alarms = trainer.trainer().health().view().alarms().entrySet().stream()
                .filter(Map.Entry::getValue).map(Map.Entry::getKey).toList();
        String url = "http://localhost:" + port + "/v2/models/" + snapshot.spec().name() + "/infer";
        LOG.infof("%n=== streamtrain demo summary ===%n"
                        + "trained %d examples in %d steps over %.1f s (%.0f examples/s, as fast as the producer sent them)%n"
                        + "prequential accuracy %.1f %% on the first pass (each digit seen once, scored before it is learned)%n"
                        + "prequential accuracy %.1f %% over the whole stream, %.1f %% recent; loss %.3f (recent %.3f)%n"
                        + "held-out accuracy %.1f %% (%d examples never trained on); health alarms: %s%s%n"
                        + "served model version %s: %.1f %% accuracy on all %d digits%n"
                        + "dead-lettered %d bad records (topic %s); consumer lag %d%n"
                        + "inference: curl -s -H 'Content-Type: application/json' %s -d '%s'%n",
                stats.examples(), trainer.trainer().step(), progress.elapsedSeconds(),
                stats.examples() / Math.max(progress.elapsedSeconds(), 1e-9),
                100.0 * firstPassCorrect / Math.max(1, firstPassExamples),
                100 * stats.accuracy(), 100 * stats.recentAccuracy(), stats.loss(), stats.recentLoss(),
                100 * trainer.trainer().holdoutStats().accuracy(), trainer.trainer().holdoutStats().examples(),
                alarms.isEmpty() ? "none" : alarms, explanation(alarms, data.size()),
                snapshot.version(), 100.0 * correct / data.size(), data.size(),
                (long) rejections.total(), deadLetterTopic, lag.lag(), url, inferExample(data));
        producer.close();
        lag.close();
        if (config.exitAfterSummary()) {
            Quarkus.asyncExit(0);
        } else {
            LOG.info("Serving until Ctrl+C");
        }
    }

    /** Counts the first pass's prequential accuracy: every digit seen once, scored before it is learned. */
    @Override
    public void onStep(StepReport report) {
        if (firstPassSeen < firstPassSize) {
            firstPassSeen += report.score().examples() + (report.result() == null ? 0 : report.result().holdout().examples());
            firstPassExamples += report.score().examples();
            firstPassCorrect += report.score().correct();
        }
    }

    private static String inferExample(DigitsDataset data) {
        StringBuilder json = new StringBuilder("{\"inputs\":[{\"name\":\"input\",\"shape\":[1,64],\"datatype\":\"FP32\",\"data\":[");
        for (int j = 0; j < DigitsDataset.FEATURES; j++) {
            json.append(j == 0 ? "" : ",").append((int) data.features()[0][j]);
        }
        return json.append("]}]}").toString();
    }

    void stop(@Observes ShutdownEvent event) {
        if (scheduler != null) {
            scheduler.shutdownNow();
        }
    }
}
