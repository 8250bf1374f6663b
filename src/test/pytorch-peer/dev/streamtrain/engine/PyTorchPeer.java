package dev.streamtrain.engine;

import ai.djl.Device;
import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.GradientCollector;
import ai.djl.training.Trainer;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * The PyTorch peer of {@code PyTorchPeerBenchmarkTest}: the same MLP (dense ReLU layers, softmax cross-entropy,
 * Adam 1e-3) trained test-then-train on the same {@link PeerWorkload}, on PyTorch's CPU engine through DJL, in a
 * JVM of its own so that PyTorch's threads and natives never share a process with ND4J. Its thread counts come
 * from DJL's {@code ai.djl.pytorch.num_threads} and {@code ai.djl.pytorch.num_interop_threads}.
 *
 * <p>Arguments: the workload file and the hidden widths ({@code 256,256}). It first scores one pass over the data
 * on a fresh model and answers {@code peer> ready <accuracy> <loss> <engine version> <intra-op threads>
 * <inter-op threads>}; then, one command a line on stdin, {@code train <ms>} (test-then-train steps over the ring
 * for that long) answers {@code peer> train <steps> <nanoseconds>}, {@code infer <ms>} (single-row forward passes)
 * answers {@code peer> infer <calls> <nanoseconds>}, and {@code quit} ends it. Only protocol lines start with
 * {@code peer> }: anything else on stdout is somebody's log.
 */
public final class PyTorchPeer {

    private static final PrintStream OUT = System.out;

    private final Trainer trainer;
    private final PeerWorkload work;
    private int next;

    private PyTorchPeer(Trainer trainer, PeerWorkload work) {
        this.trainer = trainer;
        this.work = work;
    }

    public static void main(String[] args) throws IOException {
        PeerWorkload work = PeerWorkload.read(Path.of(args[0]));
        int[] hidden = Arrays.stream(args[1].split(",")).mapToInt(Integer::parseInt).toArray();
        Engine engine = Engine.getEngine("PyTorch");
        engine.setRandomSeed(42);
        SequentialBlock mlp = new SequentialBlock();
        for (int units : hidden) {
            mlp.add(Linear.builder().setUnits(units).build()).add(Activation::relu);
        }
        mlp.add(Linear.builder().setUnits(work.classes()).build());
        try (Model model = Model.newInstance("peer", Device.cpu(), "PyTorch")) {
            model.setBlock(mlp);
            DefaultTrainingConfig config = new DefaultTrainingConfig(Loss.softmaxCrossEntropyLoss())
                    .optOptimizer(Optimizer.adam().optLearningRateTracker(Tracker.fixed(1e-3f)).build())
                    .optDevices(new Device[] {Device.cpu()});
            try (Trainer trainer = model.newTrainer(config)) {
                trainer.initialize(new Shape(work.batch(), work.inputs()));
                PyTorchPeer peer = new PyTorchPeer(trainer, work);
                Prequential firstPass = new Prequential();
                for (float[][] batch : work.pass()) {
                    peer.testThenTrain(batch, firstPass);
                }
                OUT.printf("peer> ready %.4f %.4f %s %d %d%n", firstPass.accuracy(), firstPass.loss(),
                        engine.getVersion(), JniUtils.getNumThreads(), JniUtils.getNumInteropThreads());
                peer.serve(new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)));
            }
        }
    }

    private void serve(BufferedReader commands) throws IOException {
        String line;
        while ((line = commands.readLine()) != null && !line.equals("quit")) {
            String[] command = line.split(" ");
            long window = Long.parseLong(command[1]) * 1_000_000;
            Prequential score = new Prequential();
            float[] row = Arrays.copyOf(work.ring().get(0)[0], work.inputs());
            long calls = 0;
            long start = System.nanoTime();
            long now;
            do {
                if (command[0].equals("train")) {
                    testThenTrain(work.ring().get(next++ % work.ring().size()), score);
                } else {
                    infer(row);
                }
                calls++;
                now = System.nanoTime();
            } while (now - start < window);
            OUT.printf("peer> %s %d %d%n", command[0], calls, now - start);
        }
    }

    /** Scores the batch in inference mode (no gradient recorded), then takes one Adam step on it. */
    private void testThenTrain(float[][] batch, Prequential score) {
        int rows = work.batch();
        try (NDManager step = trainer.getManager().newSubManager()) {
            NDArray x = step.create(batch[0], new Shape(rows, work.inputs()));
            NDArray labels = step.create(classIndices(batch[1], work.classes()), new Shape(rows));
            score.score(trainer.evaluate(new NDList(x)).singletonOrThrow().softmax(1).toFloatArray(), batch[1], rows);
            try (GradientCollector gradients = trainer.newGradientCollector()) {
                NDArray logits = trainer.forward(new NDList(x)).singletonOrThrow();
                gradients.backward(trainer.getLoss().evaluate(new NDList(labels), new NDList(logits)));
            }
            trainer.step();
        }
    }

    /** One row's class probabilities, from a Java array to a Java array, as serving would ask for them. */
    private float[] infer(float[] row) {
        try (NDManager call = trainer.getManager().newSubManager()) {
            NDArray x = call.create(row, new Shape(1, work.inputs()));
            return trainer.evaluate(new NDList(x)).singletonOrThrow().softmax(1).toFloatArray();
        }
    }

    private static long[] classIndices(float[] oneHot, int classes) {
        long[] labels = new long[oneHot.length / classes];
        for (int r = 0; r < labels.length; r++) {
            for (int c = 0; c < classes; c++) {
                if (oneHot[r * classes + c] > 0.5f) {
                    labels[r] = c;
                }
            }
        }
        return labels;
    }
}
