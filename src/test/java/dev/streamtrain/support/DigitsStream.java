package dev.streamtrain.support;

import java.util.ArrayList;
import java.util.List;

import dev.streamtrain.demo.DigitsDataset;
import dev.streamtrain.model.spec.ModelSpec;
import dev.streamtrain.model.spec.ModelSpecParser;
import dev.streamtrain.model.Network;
import dev.streamtrain.training.ExampleBatcher;
import dev.streamtrain.training.ExampleBlock;
import dev.streamtrain.training.OnlineTrainer;
import dev.streamtrain.training.ServedModel;

/** Drives an {@link OnlineTrainer} in memory (no thread, no broker) over shuffled passes of the digits. */
public final class DigitsStream {

    private DigitsStream() {
    }

    /** Trains {@code passes} seeded shuffles of the digits through the trainer; returns it for inspection. */
    public static OnlineTrainer train(ModelSpec spec, int passes, long seed) throws InterruptedException {
        DigitsDataset data = DigitsDataset.load();
        ExampleBatcher batcher = new ExampleBatcher(1 << 20);
        OnlineTrainer trainer = new OnlineTrainer(new Network(spec), OnlineTrainer.freshState(), batcher, new ServedModel(),
                List.of(), new OnlineTrainer.Settings(java.time.Duration.ZERO, 50, java.time.Duration.ofHours(1), 1000,
                        0, java.time.Duration.ofHours(1)), null);
        List<ExampleBlock> blocks = new ArrayList<>();
        for (int pass = 0; pass < passes; pass++) {
            for (int row : data.shuffledOrder(seed + pass)) {
                blocks.add(example(data, row));
            }
        }
        for (ExampleBlock block : blocks) {
            batcher.submit(block);
        }
        while (trainer.trainOnce(0)) {
            // one mini-batch per call until the buffer is empty
        }
        return trainer;
    }

    public static ExampleBlock example(DigitsDataset data, int row) {
        float[] y = new float[DigitsDataset.CLASSES];
        y[data.labels()[row]] = 1f;
        return new ExampleBlock(1, data.features()[row].clone(), y, null, new TestRecord(row));
    }

    public static ModelSpec bundledSpec() {
        return ModelSpecParser.load(null);
    }

}
