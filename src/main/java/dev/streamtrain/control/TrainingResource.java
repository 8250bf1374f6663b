package dev.streamtrain.control;

import io.smallrye.common.annotation.Blocking;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.PUT;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.MediaType;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import dev.streamtrain.cluster.ClusterService;
import dev.streamtrain.cluster.GroupStatus;
import dev.streamtrain.checkpoint.CheckpointService;
import dev.streamtrain.checkpoint.Checkpoints;
import dev.streamtrain.checkpoint.Manifest;
import dev.streamtrain.training.OnlineTrainer;
import dev.streamtrain.training.PrequentialStats;
import dev.streamtrain.training.SavedTraining;
import dev.streamtrain.training.TrainerService;
import dev.streamtrain.telemetry.TrainingMeters;
import dev.streamtrain.training.TrainingEvents;
import dev.streamtrain.training.health.TrainingHealth;
import dev.streamtrain.tuning.TunerView;

/**
 * Training control, {@code /v1/training}: the trainer's status and checkpoints (open), a checkpoint now and
 * a rollback to a checkpoint (token required, see {@link AdminAuthFilter}). Errors are {@code {"error"}}.
 */
@Path("/v1/training")
@Produces(MediaType.APPLICATION_JSON)
@Blocking
public class TrainingResource {

    private static final long WAIT_SECONDS = 60;

    private final TrainerService service;
    private final CheckpointService checkpoints;
    private final TrainingEvents events;
    private final TrainingMeters meters;

    private final ClusterService cluster;

    TrainingResource(TrainerService service, CheckpointService checkpoints, TrainingEvents events,
                     TrainingMeters meters, ClusterService cluster) {
        this.cluster = cluster;
        this.meters = meters;
        this.service = service;
        this.checkpoints = checkpoints;
        this.events = events;
    }

    /** A member of a group of trainers: who it is, its generation, round, the members, staleness. */
    private static Map<String, Object> group(GroupStatus group) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("member", group.member());
        out.put("generation", group.generation());
        out.put("round", group.round());
        out.put("members", group.members());
        out.put("writer", group.writer());
        out.put("steps-since-average", group.stepsSinceAverage());
        out.put("rounds-complete", group.roundsComplete());
        out.put("rounds-abandoned", group.roundsAbandoned());
        out.put("rounds-timed-out", group.roundsTimedOut());
        return out;
    }

    @GET
    @Path("/status")
    public Map<String, Object> status() {
        OnlineTrainer trainer = service.trainer();
        if (!service.trains()) {
            throw notTraining();
        }
        if (trainer == null) {
            throw new WebApplicationException("the trainer has not started", 503);
        }
        PrequentialStats.Summary stats = trainer.stats();
        Map<String, Object> status = new LinkedHashMap<>();
        status.put("model", service.modelSpec().name());
        status.put("training", service.isTraining());
        status.put("step", trainer.step());
        status.put("examples", stats.examples());
        Map<String, Object> prequential = new LinkedHashMap<>();
        prequential.put("loss", finite(stats.loss()));
        prequential.put("accuracy", finite(stats.accuracy()));
        prequential.put("recent-loss", finite(stats.recentLoss()));
        prequential.put("recent-accuracy", finite(stats.recentAccuracy()));
        prequential.put("train-loss", finite(stats.trainLoss()));
        status.put("prequential", prequential);
        PrequentialStats.Summary held = trainer.holdoutStats();
        Map<String, Object> holdout = new LinkedHashMap<>();
        holdout.put("examples", held.examples());
        holdout.put("loss", finite(held.loss()));
        holdout.put("accuracy", finite(held.accuracy()));
        holdout.put("recent-loss", finite(held.recentLoss()));
        holdout.put("recent-accuracy", finite(held.recentAccuracy()));
        holdout.put("gap", finite(held.recentLoss() - stats.recentLoss()));
        status.put("holdout", holdout);
        status.put("learning-rate", finite(trainer.learningRate()));
        cluster.status().ifPresent(group -> status.put("group", group(group)));
        if (trainer.tuner() != null) {
            status.put("tuner", tuner(trainer.tuner()));
        }
        Map<String, Object> engine = new LinkedHashMap<>();
        engine.put("name", trainer.engine().label);
        status.put("engine", engine);
        TrainingHealth.View view = trainer.health().view();
        Map<String, Object> health = new LinkedHashMap<>();
        health.put("alarms", view.alarms().entrySet().stream().filter(Map.Entry::getValue).map(Map.Entry::getKey)
                .toList());
        health.put("learning-rate-scale", view.learningRateScale());
        if (view.bestStep() >= 0) {
            health.put("best-step", view.bestStep());
            health.put("best-holdout-loss", finite(view.bestHoldoutLoss()));
        }
        health.put("drift-error-mean", finite(view.driftMean()));
        health.put("layers-step", view.layersStep());
        health.put("layers", view.layers().stream().map(l -> {
            Map<String, Object> layer = new LinkedHashMap<>();
            layer.put("layer", l.layer());
            layer.put("gradient-norm", finite(l.gradientNorm()));
            layer.put("update-ratio", finite(l.updateRatio()));
            layer.put("dead-fraction", finite(l.deadFraction()));
            layer.put("activation-std", finite(l.activationStd()));
            return layer;
        }).toList());
        status.put("health", health);
        status.put("examples-per-second", finite(meters.examplesPerSecond()));
        status.put("offsets", trainer.position().next());
        status.put("records", trainer.recordsByPartition());
        Map<String, Object> checkpoint = new LinkedHashMap<>();
        checkpoint.put("store", checkpoints.storeDescription());
        checkpoints.lastDurable().ifPresent(m -> {
            checkpoint.put("last-step", m.step());
            checkpoint.put("last-time", m.time().toString());
        });
        checkpoint.put("failures-in-a-row", checkpoints.failuresInARow());
        checkpoints.lastError().ifPresent(e -> checkpoint.put("last-error", e));
        status.put("checkpoint", checkpoint);
        List<?> recent = events.recent();
        status.put("events", recent.subList(Math.max(0, recent.size() - 20), recent.size()));
        return status;
    }

    // learning-rate: auto: the population's members (the serving one marked), its exploits and the operator's pin
    private static Map<String, Object> tuner(TunerView view) {
        Map<String, Object> tuner = new LinkedHashMap<>();
        tuner.put("serving-member", view.leader());
        tuner.put("pinned", view.pinned());
        tuner.put("exploits", view.exploits());
        List<Map<String, Object>> members = new ArrayList<>();
        for (int m = 0; m < view.members(); m++) {
            Map<String, Object> member = new LinkedHashMap<>();
            member.put("member", m);
            member.put("learning-rate", finite(view.rates().get(m)));
            member.put("recent-loss", finite(view.recentLosses().get(m)));
            member.put("serving", m == view.leader());
            members.add(member);
        }
        tuner.put("members", members);
        return tuner;
    }

    /** The hyperparameters in force: what the spec says and what the health answers have made of it. */
    @GET
    @Path("/hyperparameters")
    public Map<String, Object> hyperparameters() {
        OnlineTrainer trainer = service.trainer();
        if (!service.trains()) {
            throw notTraining();
        }
        if (trainer == null) {
            throw new WebApplicationException("the trainer has not started", 503);
        }
        var spec = service.modelSpec();
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("learning-rate", finite(trainer.learningRate()));
        result.put("learning-rate-scale", trainer.health().view().learningRateScale());
        result.put("optimizer", spec.optimizer().type());
        result.put("spec-learning-rate", spec.optimizer().autoLearningRate() ? "auto"
                : finite(spec.optimizer().learningRate()));
        TunerView tuner = trainer.tuner();
        // fixed: the spec's rate (as the health answers adjust it); auto: the tuner's; pinned: an operator's, until auto
        result.put("learning-rate-mode", tuner == null ? "fixed" : tuner.pinned() == null ? "auto" : "pinned");
        result.put("schedule", spec.schedule().type());
        result.put("batch-size", spec.batchSize());
        return result;
    }

    /**
     * Changes hyperparameters between two steps; for now the learning rate: {@code {"learning-rate": 0.001}}
     * sets the rate in force now (the schedule keeps its shape, scaled). With {@code learning-rate: auto} in the spec
     * a number pins every member of the tuner's population at that rate until {@code {"learning-rate": "auto"}} hands
     * it back to the tuner. Publishes {@code hyperparameters-changed}.
     */
    @PUT
    @Path("/hyperparameters")
    @Consumes(MediaType.APPLICATION_JSON)
    public Map<String, Object> changeHyperparameters(Map<String, Object> change) {
        if (change == null || change.isEmpty()) {
            throw new WebApplicationException("send {\"learning-rate\": <number>}", 400);
        }
        for (String key : change.keySet()) {
            if (!key.equals("learning-rate")) {
                throw new WebApplicationException("'" + key + "' cannot be changed at run time; only learning-rate", 400);
            }
        }
        boolean auto = "auto".equals(change.get("learning-rate"));
        if (!auto && (!(change.get("learning-rate") instanceof Number number) || !(number.doubleValue() > 0)
                || !Double.isFinite(number.doubleValue()))) {
            throw new WebApplicationException("learning-rate must be a finite number > 0, or \"auto\" (the tuner"
                    + " chooses; the spec must say learning-rate: auto), got " + change.get("learning-rate"), 400);
        }
        OnlineTrainer trainer = trainer();
        double before = trainer.learningRate();
        double after;
        try {
            after = (auto ? trainer.tuneLearningRate()
                    : trainer.setLearningRate(((Number) change.get("learning-rate")).doubleValue()))
                    .get(WAIT_SECONDS, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw new WebApplicationException(e.getCause().getMessage(), 409);
        } catch (TimeoutException e) {
            throw new WebApplicationException("the trainer did not take the change within " + WAIT_SECONDS + " s", 503);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new WebApplicationException("interrupted", 503);
        }
        events.publish("hyperparameters-changed", trainer.step(), Map.of("learning-rate",
                Map.of("from", before, "to", auto ? "auto" : after), "reason", "requested"));
        return hyperparameters();
    }

    @GET
    @Path("/checkpoints")
    public List<Manifest> list() throws IOException {
        return checkpoints.list();
    }

    @POST
    @Path("/checkpoint")
    public Map<String, Object> checkpointNow() {
        long step = await(trainer().checkpointNow(), "the checkpoint");
        return Map.of("step", step, "checkpoint", Checkpoints.folder(service.modelSpec().name(), step),
                "store", checkpoints.storeDescription());
    }

    /** Rolls the model and its optimizer state back to the checkpoint of {@code step}, or to the previous one. */
    @POST
    @Path("/rollback")
    public Map<String, Object> rollback(@QueryParam("step") Long step) throws IOException {
        trainer();
        long target = step != null ? step : previousCheckpoint();
        SavedTraining saved;
        try {
            saved = checkpoints.restore(target);
        } catch (Checkpoints.InvalidCheckpointException e) {
            throw new WebApplicationException("checkpoint " + target + " cannot be used: " + e.getMessage(),
                    step != null && e.getMessage().startsWith("no manifest") ? 404 : 409);
        }
        long from = trainer().step();
        long now = await(trainer().rollBackTo(saved), "the rolled-back model's checkpoint");
        events.publish("rolled-back", now, Map.of("from-step", from, "to-checkpoint", target, "reason", "requested"));
        return Map.of("from-step", from, "to-checkpoint", target, "step", now);
    }

    // "previous": the newest checkpoint but one; the newest may already hold whatever the rollback is for
    private long previousCheckpoint() throws IOException {
        List<Manifest> manifests = checkpoints.list();
        if (manifests.size() < 2) {
            throw new WebApplicationException("there is no previous checkpoint to roll back to ("
                    + manifests.size() + " in " + checkpoints.storeDescription() + "); name one with ?step=", 409);
        }
        return manifests.get(1).step();
    }

    private WebApplicationException notTraining() {
        return new WebApplicationException("this replica only serves (streamtrain.mode=serve); training is"
                + " controlled at the trainer of model " + service.modelSpec().name(), 409);
    }

    private OnlineTrainer trainer() {
        if (!service.trains()) {
            throw notTraining();
        }
        OnlineTrainer trainer = service.trainer();
        if (trainer == null || !service.isTraining()) {
            // a request queued for a training thread that is not running would be carried out, if ever, later
            throw new WebApplicationException("the trainer is not running (see /q/health/live)", 503);
        }
        return trainer;
    }

    private static long await(CompletableFuture<Long> future, String what) {
        try {
            return future.get(WAIT_SECONDS, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            throw new WebApplicationException(what + " is not durable after " + WAIT_SECONDS
                    + " s: the checkpoint store is failing; writes are retried (see /q/health/well)", 503);
        } catch (ExecutionException e) {
            throw new WebApplicationException(what + " failed: " + e.getCause().getMessage(), 503);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new WebApplicationException("interrupted", 503);
        }
    }

    private static Double finite(double value) {
        return Double.isFinite(value) ? value : null;
    }
}
