package dev.streamtrain.checkpoint;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.streamtrain.model.EngineKind;
import dev.streamtrain.model.spec.InvalidSpecException;
import dev.streamtrain.model.spec.ModelSpec;
import dev.streamtrain.model.spec.ModelSpecParser;
import dev.streamtrain.model.Network;
import dev.streamtrain.training.PrequentialStats;
import dev.streamtrain.training.SavedTraining;
import dev.streamtrain.training.TrainerState;
import dev.streamtrain.training.TrainingSnapshot;
import dev.streamtrain.tuning.PopulationTuner;
import dev.streamtrain.tuning.TunerCapture;
import dev.streamtrain.tuning.TunerState;

/**
 * The files of a checkpoint: {@code network.zip} (DL4J's model zip: configuration with the step count that
 * drives schedules, parameters, optimizer state), {@code normalizer.bin}, {@code spec.yaml} (the spec it was
 * trained with) and {@code trainer.json} (step, stream position, records per partition, prequential sums). With
 * {@code learning-rate: auto} also {@code tuner.json} (the tuner's record) and, for every member of the population
 * but the serving one (which is {@code network.zip}), {@code member-<id>.zip} and {@code member-<id>.normalizer.bin};
 * a checkpoint without them (written before the tuner, or without it) restores as before.
 */
final class CheckpointCodec {

    static final String NETWORK = "network.zip";
    static final String NORMALIZER = "normalizer.bin";
    static final String SPEC = "spec.yaml";
    static final String TRAINER = "trainer.json";
    static final String TUNER = "tuner.json";

    private static final ObjectMapper JSON = new ObjectMapper()
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    private CheckpointCodec() {
    }

    /** Serialises the snapshot (the slow part, off the training thread). */
    static Map<String, byte[]> encode(TrainingSnapshot snapshot, String specText) throws IOException {
        Network.State network = snapshot.network().serialize();
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put(NETWORK, network.graph());
        files.put(NORMALIZER, network.normalizer());
        files.put(SPEC, specText.getBytes(StandardCharsets.UTF_8));
        files.put(TRAINER, JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(snapshot.trainer()));
        TunerCapture tuner = snapshot.tuner();
        if (tuner != null) {
            files.put(TUNER, JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(tuner.state()));
            for (int id = 0; id < tuner.members().size(); id++) {
                if (tuner.members().get(id) != null) {
                    Network.State member = tuner.members().get(id).serialize();
                    files.put(memberNetwork(id), member.graph());
                    files.put(memberNormalizer(id), member.normalizer());
                }
            }
        }
        return files;
    }

    /** The figures a person looks for in a manifest; non-finite ones are left out. */
    static Map<String, Double> metrics(PrequentialStats.Summary summary, PrequentialStats.Summary holdout) {
        Map<String, Double> metrics = new LinkedHashMap<>();
        metrics.put("examples", (double) summary.examples());
        metrics.put("prequential-loss", summary.loss());
        metrics.put("prequential-loss-recent", summary.recentLoss());
        metrics.put("prequential-accuracy", summary.accuracy());
        metrics.put("prequential-accuracy-recent", summary.recentAccuracy());
        metrics.put("train-loss", summary.trainLoss());
        metrics.put("holdout-examples", (double) holdout.examples());
        metrics.put("holdout-loss-recent", holdout.recentLoss());
        metrics.put("holdout-accuracy-recent", holdout.recentAccuracy());
        metrics.values().removeIf(v -> !Double.isFinite(v));
        return metrics;
    }

    /**
     * Rebuilds the training run. A checkpoint trained with another spec is not silently mixed with the
     * configured one: that is refused with {@link SpecMismatchException}.
     */
    static SavedTraining decode(Checkpoints.Loaded loaded, ModelSpec spec) throws IOException {
        return decode(loaded, spec, EngineKind.LEAN);
    }

    /** Rebuilds the training run on the engine asked for (the lean one falls back to DL4J where it must). */
    static SavedTraining decode(Checkpoints.Loaded loaded, ModelSpec spec, EngineKind engine) throws IOException {
        Map<String, byte[]> files = loaded.files();
        for (String name : new String[] {NETWORK, NORMALIZER, SPEC, TRAINER}) {
            if (!files.containsKey(name)) {
                throw new Checkpoints.InvalidCheckpointException("file " + name + " is not in the manifest");
            }
        }
        ModelSpec saved;
        try {
            saved = ModelSpecParser.parse(new String(files.get(SPEC), StandardCharsets.UTF_8));
        } catch (InvalidSpecException e) {
            throw new Checkpoints.InvalidCheckpointException("its spec.yaml is not a valid spec: " + e.getMessage());
        }
        if (!saved.equals(spec)) {
            throw new SpecMismatchException(loaded.manifest().step());
        }
        TrainerState state;
        Network network;
        try {
            state = JSON.readValue(files.get(TRAINER), TrainerState.class);
            network = Network.restore(spec, new Network.State(files.get(NETWORK), files.get(NORMALIZER)), engine);
        } catch (IOException | RuntimeException e) {
            // the hashes matched, so these bytes were written like this: unusable, not merely unreachable
            throw new Checkpoints.InvalidCheckpointException("its contents cannot be read back: " + e.getMessage());
        }
        if (!network.stateFinite()) {
            // never written by this version (it checks before saving), but an older one could have
            throw new Checkpoints.InvalidCheckpointException("its parameters or optimizer state are not finite");
        }
        return new SavedTraining(network, state, loaded.manifest().time(),
                files.containsKey(TUNER) ? population(files, spec, engine, network) : null);
    }

    // the tuner's population: its record, the serving member (the checkpoint's network) and the other members
    private static PopulationTuner population(Map<String, byte[]> files, ModelSpec spec, EngineKind engine,
                                              Network serving) throws IOException {
        try {
            TunerState state = JSON.readValue(files.get(TUNER), TunerState.class);
            List<Network> members = new ArrayList<>(state.members().size());
            for (int id = 0; id < state.members().size(); id++) {
                if (id == state.leader()) {
                    members.add(serving);
                    continue;
                }
                byte[] graph = files.get(memberNetwork(id));
                byte[] normalizer = files.get(memberNormalizer(id));
                if (graph == null || normalizer == null) {
                    throw new IOException("member " + id + " of the tuner's population is not in the manifest");
                }
                members.add(Network.restore(spec, new Network.State(graph, normalizer), engine));
            }
            return PopulationTuner.restore(spec, state, members);
        } catch (IOException | RuntimeException e) {
            throw new Checkpoints.InvalidCheckpointException("its tuner's population cannot be read back: "
                    + e.getMessage());
        }
    }

    static String memberNetwork(int id) {
        return "member-" + id + ".zip";
    }

    static String memberNormalizer(int id) {
        return "member-" + id + ".normalizer.bin";
    }

    /** The newest checkpoint was trained with a different model spec than the configured one. */
    static final class SpecMismatchException extends IllegalStateException {
        SpecMismatchException(long step) {
            super("checkpoint " + step + " was trained with a different model spec than the configured one;"
                    + " start with the spec it holds (its spec.yaml), or give the changed model another name"
                    + " or checkpoint root");
        }
    }
}
