package dev.streamtrain.demo;

import java.util.List;
import java.util.Map;

import org.jboss.logging.Logger;

import dev.streamtrain.telemetry.RejectionMeter;
import dev.streamtrain.training.PrequentialStats;
import dev.streamtrain.training.TrainerService;

/** The demo's progress line: throughput, prequential and held-out accuracy, loss, consumer lag, rejections, alarms. */
final class DemoProgress {

    private final TrainerService trainer;
    private final RejectionMeter rejections;
    private final ConsumerLag lag;
    private final DemoProducer producer;
    private final Logger log;
    private final long startNanos = System.nanoTime();
    private long lastExamples;
    private long lastNanos = startNanos;
    private long firstExampleNanos;

    DemoProgress(TrainerService trainer, RejectionMeter rejections, ConsumerLag lag, DemoProducer producer, Logger log) {
        this.trainer = trainer;
        this.rejections = rejections;
        this.lag = lag;
        this.producer = producer;
        this.log = log;
    }

    void report() {
        PrequentialStats.Summary s = trainer.trainer().stats();
        PrequentialStats.Summary held = trainer.trainer().holdoutStats();
        List<String> alarms = trainer.trainer().health().view().alarms().entrySet().stream()
                .filter(Map.Entry::getValue).map(Map.Entry::getKey).toList();
        long now = System.nanoTime();
        if (firstExampleNanos == 0 && s.examples() > 0) {
            firstExampleNanos = lastNanos;
        }
        double rate = (s.examples() - lastExamples) / ((now - lastNanos) / 1e9);
        lastExamples = s.examples();
        lastNanos = now;
        log.infof("%5.1fs  trained %,7d  %,6.0f ex/s  prequential accuracy %5.1f %% (recent %5.1f %%)  "
                        + "loss %.3f (recent %.3f)  held-out accuracy %5.1f %%  lag %,d  rejected %d  alarms %s",
                (now - startNanos) / 1e9, s.examples(), rate, 100 * s.accuracy(), 100 * s.recentAccuracy(),
                s.loss(), s.recentLoss(), 100 * held.recentAccuracy(), lag.lag(), (long) rejections.total(),
                alarms.isEmpty() ? "none" : String.join(",", alarms));
    }

    /** Every produced record is either trained, held out or dead-lettered. */
    boolean allHandled() {
        long handled = trainer.trainer().stats().examples() + trainer.trainer().holdoutStats().examples()
                + (long) rejections.total();
        return handled >= producer.total();
    }

    /** Seconds from the first trained example to now. */
    double elapsedSeconds() {
        return (System.nanoTime() - (firstExampleNanos == 0 ? startNanos : firstExampleNanos)) / 1e9;
    }
}
