package dev.streamtrain.model.spec;

import org.nd4j.linalg.learning.config.AMSGrad;
import org.nd4j.linalg.learning.config.AdaDelta;
import org.nd4j.linalg.learning.config.AdaGrad;
import org.nd4j.linalg.learning.config.AdaMax;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.Nadam;
import org.nd4j.linalg.learning.config.Nesterovs;
import org.nd4j.linalg.learning.config.RmsProp;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.schedule.ExponentialSchedule;
import org.nd4j.linalg.schedule.FixedSchedule;
import org.nd4j.linalg.schedule.ISchedule;
import org.nd4j.linalg.schedule.ScheduleType;
import org.nd4j.linalg.schedule.StepSchedule;

import java.util.function.DoubleConsumer;

import dev.streamtrain.model.spec.ModelSpec.OptimizerSpec;
import dev.streamtrain.model.spec.ModelSpec.ScheduleSpec;

import dev.streamtrain.model.ScheduledAdaGrad;
import dev.streamtrain.model.WarmupCosineSchedule;

/** Maps the spec's optimizer and schedule onto DL4J's updaters and ND4J's schedules (counted in steps). */
final class UpdaterFactory {

    private UpdaterFactory() {
    }

    static IUpdater updater(OptimizerSpec o, ScheduleSpec s) {
        ISchedule schedule = schedule(o.learningRate(), s);
        return switch (o.type()) {
            case "sgd" -> o.momentum() > 0 ? nesterovs(o, schedule) : new Sgd(schedule);
            case "adam", "adamw" -> adamFamily(new Adam(schedule), o);
            case "nadam" -> adamFamily(new Nadam(schedule), o);
            case "amsgrad" -> adamFamily(new AMSGrad(schedule), o);
            case "adamax" -> adamFamily(new AdaMax(schedule), o);
            case "rmsprop" -> {
                RmsProp rms = new RmsProp(schedule);
                set(o.rho(), rms::setRmsDecay);
                set(o.epsilon(), rms::setEpsilon);
                yield rms;
            }
            case "adagrad" -> new ScheduledAdaGrad(schedule,
                    Double.isNaN(o.epsilon()) ? AdaGrad.DEFAULT_ADAGRAD_EPSILON : o.epsilon());
            case "adadelta" -> {
                // AdaDelta has no learning rate: its step size comes from the ratio of running averages.
                AdaDelta adaDelta = new AdaDelta();
                set(o.rho(), adaDelta::setRho);
                set(o.epsilon(), adaDelta::setEpsilon);
                yield adaDelta;
            }
            default -> throw new InvalidSpecException("optimizer.type", "unsupported optimizer " + o.type());
        };
    }

    static ISchedule schedule(double rate, ScheduleSpec s) {
        return switch (s.type()) {
            case "constant" -> new FixedSchedule(rate);
            case "step" -> new StepSchedule(ScheduleType.ITERATION, rate, s.factor(), s.every());
            case "exponential" -> new ExponentialSchedule(ScheduleType.ITERATION, rate, s.gamma());
            case "warmup-cosine" -> new WarmupCosineSchedule(rate, s.warmupSteps(), s.totalSteps(), s.minLearningRate());
            default -> throw new InvalidSpecException("schedule.type", "unsupported schedule " + s.type());
        };
    }

    private static Nesterovs nesterovs(OptimizerSpec o, ISchedule schedule) {
        return new Nesterovs(schedule, o.momentum());
    }

    private static IUpdater adamFamily(IUpdater updater, OptimizerSpec o) {
        if (updater instanceof Adam a) {
            set(o.beta1(), a::setBeta1);
            set(o.beta2(), a::setBeta2);
            set(o.epsilon(), a::setEpsilon);
        } else if (updater instanceof Nadam n) {
            set(o.beta1(), n::setBeta1);
            set(o.beta2(), n::setBeta2);
            set(o.epsilon(), n::setEpsilon);
        } else if (updater instanceof AMSGrad g) {
            set(o.beta1(), g::setBeta1);
            set(o.beta2(), g::setBeta2);
            set(o.epsilon(), g::setEpsilon);
        } else if (updater instanceof AdaMax m) {
            set(o.beta1(), m::setBeta1);
            set(o.beta2(), m::setBeta2);
            set(o.epsilon(), m::setEpsilon);
        }
        return updater;
    }

    private static void set(double value, DoubleConsumer setter) {
        if (!Double.isNaN(value)) {
            setter.accept(value);
        }
    }
}
