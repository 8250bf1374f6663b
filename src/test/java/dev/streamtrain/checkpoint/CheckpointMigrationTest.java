package dev.streamtrain.checkpoint;

import org.junit.jupiter.api.Test;

import java.io.DataInputStream;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;

import dev.streamtrain.demo.DigitsDataset;
import dev.streamtrain.model.EngineKind;
import dev.streamtrain.model.MiniBatch;
import dev.streamtrain.model.spec.ModelSpec;
import dev.streamtrain.model.spec.ModelSpecParser;
import dev.streamtrain.model.Network;
import dev.streamtrain.training.SavedTraining;
import dev.streamtrain.support.Measure;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A checkpoint written by the release that trained on DL4J's graph (format version 1, kept in the test resources
 * with its provenance) restores into the lean engine and into DL4J's: the same parameters, Adam moments, step and
 * adjusted learning rate, and the steps after it are those the old release took (to the bit on DL4J, within float
 * rounding on the lean engine).
 */
class CheckpointMigrationTest {

    private static final int STEP = 25;

    @Test
    void aCheckpointOfTheDl4jReleaseTrainsOnInEitherEngineAsTheReleaseDid() throws Exception {
        Path root = resource("/checkpoints/dl4j-0.1");
        Checkpoints checkpoints = new Checkpoints(new FileCheckpointStore(root));
        Checkpoints.Loaded loaded = checkpoints.load("migration", STEP);
        assertThat(loaded.manifest().formatVersion()).isEqualTo(1).isEqualTo(Manifest.FORMAT_VERSION);
        ModelSpec spec = ModelSpecParser.parse(new String(loaded.files().get(CheckpointCodec.SPEC),
                java.nio.charset.StandardCharsets.UTF_8));
        float[] expected = floats(root.resolve("parameters-after-step-30.bin"), spec);
        DigitsDataset data = DigitsDataset.load();

        SavedTraining onDl4j = CheckpointCodec.decode(loaded, spec, EngineKind.DL4J);
        SavedTraining onLean = CheckpointCodec.decode(loaded, spec, EngineKind.LEAN);
        assertThat(onLean.network().engine()).isEqualTo(EngineKind.LEAN);
        assertThat(onLean.network().parameters()).containsExactly(onDl4j.network().parameters());
        assertThat(onLean.network().optimizerState()).containsExactly(onDl4j.network().optimizerState()).isNotEmpty();
        assertThat(onLean.network().learningRate()).isEqualTo(onDl4j.network().learningRate());
        for (SavedTraining saved : new SavedTraining[] {onDl4j, onLean}) {
            Network network = saved.network();
            assertThat(saved.state().step()).isEqualTo(STEP);
            assertThat(network.learningRateScale()).as("the back-off in the checkpoint's schedule").isEqualTo(0.5);
            for (int step = STEP; step < STEP + 5; step++) {
                network.trainStep(batch(spec, data, step));
            }
        }
        // the reference engine takes exactly the old release's steps; the lean one the same within float rounding
        assertThat(onDl4j.network().parameters()).containsExactly(expected);
        assertThat(Measure.relativeDistance(onLean.network().parameters(), expected)).isLessThan(1e-5);
        assertThat(onLean.network().learningRate()).isEqualTo(onDl4j.network().learningRate());
    }

    /** The batches the release was trained on: rows 16·step ... of the digits, one-hot labels, weight 1. */
    private static MiniBatch batch(ModelSpec spec, DigitsDataset data, int step) {
        MiniBatch batch = new MiniBatch(spec.batchSize(), spec.inputs(), spec.outputs());
        for (int i = 0; i < spec.batchSize(); i++) {
            int row = step * spec.batchSize() + i;
            float[] y = new float[spec.outputs()];
            y[data.labels()[row]] = 1f;
            batch.add(data.features()[row], y, 1f, 0);
        }
        return batch;
    }

    private static float[] floats(Path file, ModelSpec spec) throws Exception {
        long count = Files.size(file) / 4;
        float[] values = new float[(int) count];
        try (var in = new DataInputStream(Files.newInputStream(file))) {
            for (int i = 0; i < values.length; i++) {
                values[i] = in.readFloat();
            }
        }
        assertThat(values).hasSize((64 + 1) * 16 + (16 + 1) * spec.outputs());
        return values;
    }

    private static Path resource(String name) throws URISyntaxException {
        return Path.of(CheckpointMigrationTest.class.getResource(name).toURI());
    }
}
