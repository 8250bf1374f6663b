package dev.streamtrain.training.health;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;
import org.jboss.logging.Logger;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import dev.streamtrain.demo.DigitsDataset;
import dev.streamtrain.ingest.HoldoutSplit;
import dev.streamtrain.model.spec.ModelSpec;
import dev.streamtrain.model.spec.ModelSpecParser;
import dev.streamtrain.model.Network;
import dev.streamtrain.support.TabularDataset;
import dev.streamtrain.training.ExampleBlock;
import dev.streamtrain.training.TrainingEvent;

/**
 * The streams and models the health rules are measured on: healthy ones (public data sets, sensible optimizers,
 * many passes) and faulty ones (a learning rate far too high, an operator's ×1000, a layer initialised to zeros,
 * a deep plain sigmoid stack), each run in memory with the production default health settings and 5 % of the
 * examples held out, as in production.
 */
final class HealthScenarios {

    private static final Logger LOG = Logger.getLogger(HealthScenarios.class);

    /** A data set as rows of features and class labels. */
    record Data(String name, float[][] features, int[] labels, int classes) {

        static Data of(String name) {
            if (name.equals("digits")) {
                DigitsDataset digits = DigitsDataset.load();
                return new Data(name, digits.features(), digits.labels(), DigitsDataset.CLASSES);
            }
            TabularDataset data = TabularDataset.load(name);
            return new Data(name, data.features(), data.labels(), data.classes());
        }

        int inputs() {
            return features[0].length;
        }

        /** A seeded shuffle of the rows, different for every pass; the stored order for a drifting stream. */
        int[] order(int pass, boolean shuffled) {
            if (!shuffled) {
                return java.util.stream.IntStream.range(0, features.length).toArray();
            }
            return new TabularDataset(name, features, labels, classes).shuffledOrder(pass);
        }
    }

    /** What a run found: its events, the final learning-rate scale, its recent prequential accuracy. */
    record Outcome(String name, boolean fault, List<TrainingEvent> events, double scale, double recentAccuracy,
                   long steps, long faultStep) {

        List<TrainingEvent> of(String type) {
            return events.stream().filter(e -> e.type().equals(type) && e.step() >= faultStep).toList();
        }

        /** Exploding, vanishing or non-finite: the alarms a healthy run must not raise. */
        List<TrainingEvent> alarms() {
            return events.stream().filter(e -> e.step() >= faultStep && List.of("exploding-gradient",
                    "vanishing-gradient", "non-finite-loss").contains(e.type())).toList();
        }

        String firstAlarm() {
            List<TrainingEvent> alarms = alarms();
            if (alarms.isEmpty()) {
                return "-";
            }
            TrainingEvent first = alarms.get(0);
            Object reason = first.detail().getOrDefault("reason", first.detail().get("non-finite"));
            return first.type() + " (" + reason + ") at step " + first.step();
        }
    }

    private HealthScenarios() {
    }

    /** Two dense ReLU layers of 64 units (He), softmax cross-entropy: the model of the wine report. */
    static ModelSpec spec(Data data, String optimizer, int batch) {
        return ModelSpecParser.parse("""
                name: %s
                inputs: %d
                task: classification
                outputs: %d
                seed: 7
                layers:
                  - dense: {units: 64, activation: relu}
                  - dense: {units: 64, activation: relu}
                loss: cross-entropy
                optimizer: %s
                batch-size: %d
                """.formatted(data.name(), data.inputs(), data.classes(), optimizer, batch));
    }

    /** {@code passes} passes over the data (shuffled per pass unless {@code shuffled} is false), 5 % held out. */
    static List<ExampleBlock> stream(HealthHarness harness, Data data, int passes, boolean shuffled) {
        HoldoutSplit split = new HoldoutSplit(0.05);
        List<ExampleBlock> blocks = new ArrayList<>();
        long offset = 0;
        for (int pass = 0; pass < passes; pass++) {
            for (int row : data.order(pass, shuffled)) {
                float[] y = new float[data.classes()];
                y[data.labels()[row]] = 1f;
                byte[] key = (data.name() + "-" + row).getBytes(StandardCharsets.UTF_8);
                blocks.add(new ExampleBlock(1, data.features()[row].clone(), y, null, harness.new Handle(offset++))
                        .heldOut(split.heldOut(key, null)));
            }
        }
        return blocks;
    }

    /** A healthy run: the spec's optimizer on {@code passes} passes of the data. */
    static Outcome healthy(String dataName, String optimizer, int batch, int passes) throws Exception {
        Data data = Data.of(dataName);
        // a drifting stream keeps its order: shuffling would spread the change over the whole stream
        boolean shuffled = !dataName.equals("sea-drift");
        HealthHarness harness = new HealthHarness(spec(data, optimizer, batch), HealthSettings.defaults());
        harness.train(stream(harness, data, passes, shuffled));
        return outcome(dataName + ", " + optimizer + ", " + passes + " passes", false, harness, 0);
    }

    /** Plain SGD at 10 on wine from the start. */
    static Outcome sgdAtTen() throws Exception {
        Data data = Data.of("wine");
        HealthHarness harness = new HealthHarness(spec(data, "{type: sgd, learning-rate: 10}", 16),
                HealthSettings.defaults());
        harness.train(stream(harness, data, 10, true));
        return outcome("wine, sgd 10 from the start", true, harness, 0);
    }

    /** Adam at 0.01 on wine; after 10 passes an operator sets the rate ×1000. */
    static Outcome adamTimesThousand() throws Exception {
        Data data = Data.of("wine");
        HealthHarness harness = new HealthHarness(spec(data, "{type: adam, learning-rate: 0.01}", 16),
                HealthSettings.defaults());
        List<ExampleBlock> blocks = stream(harness, data, 30, true);
        harness.train(blocks.subList(0, 10 * data.features().length));
        long faultStep = harness.trainer.step() + 1;
        harness.trainer.setLearningRate(10);
        harness.train(blocks.subList(10 * data.features().length, blocks.size()));
        return outcome("wine, adam 0.01, set x1000 after 10 passes", true, harness, faultStep);
    }

    /** Digits, two ReLU layers, the second one's weights and biases set to zero before training. */
    static Outcome zeroedLayer() throws Exception {
        Data data = Data.of("digits");
        ModelSpec spec = spec(data, "{type: adam, learning-rate: 0.001}", 32);
        HealthHarness harness = new HealthHarness(zeroed(new Network(spec), "layer1_dense"), HealthSettings.defaults());
        harness.train(stream(harness, data, 3, true));
        return outcome("digits, adam 0.001, 2nd ReLU layer initialised to zeros", true, harness, 0);
    }

    /** Twelve dense sigmoid layers without normalisation on the digits. */
    static Outcome deepSigmoid() throws Exception {
        Data data = Data.of("digits");
        HealthHarness harness = new HealthHarness(ModelSpecParser.parse(VanishingGradientTest.SIGMOID),
                HealthSettings.defaults());
        harness.train(stream(harness, data, 1, true));
        return outcome("digits, adam 0.001, 12 x dense sigmoid, plain", true, harness, 0);
    }

    /** The network with the named layer's parameters all zero, through its serialised state (as a checkpoint). */
    static Network zeroed(Network network, String layer) throws IOException {
        Network.State state = network.state();
        ComputationGraph graph = ModelSerializer.restoreComputationGraph(new ByteArrayInputStream(state.graph()), true);
        graph.getLayer(layer).params().assign(0);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ModelSerializer.writeModel(graph, out, true);
        return Network.restore(network.spec(), new Network.State(out.toByteArray(), state.normalizer()));
    }

    private static Outcome outcome(String name, boolean fault, HealthHarness harness, long faultStep) {
        Outcome outcome = new Outcome(name, fault, List.copyOf(harness.events), harness.trainer.health().view()
                .learningRateScale(), harness.trainer.stats().recentAccuracy(), harness.trainer.step(), faultStep);
        LOG.infof("%s: %d steps, first alarm %s, lr scale %.3g, recent accuracy %.3f", name, outcome.steps(),
                outcome.firstAlarm(), outcome.scale(), outcome.recentAccuracy());
        return outcome;
    }
}
