package dev.streamtrain.engine;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.jboss.logging.Logger;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.function.BiConsumer;
import java.util.function.DoubleSupplier;
import java.util.stream.Collectors;

import dev.streamtrain.model.ComputeSettings;
import dev.streamtrain.model.spec.ModelSpec;
import dev.streamtrain.support.Measure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * Test-then-train throughput (examples/s) and single-row inference latency (µs) of DL4J's graph, the lean engine
 * and PyTorch (CPU, through DJL, in its own JVM: {@link PyTorchPeerProcess}) on the same work in one run: the
 * models S, M and W of the performance notes on digits (W's 512 inputs are digits' 64 repeated eight times),
 * softmax cross-entropy, Adam 1e-3, the same thread count for all three. Every step first scores the batch
 * (forward in inference mode, accuracy and loss counted) and then trains on it. The windows of the three engines
 * are interleaved, after a warm-up, and medians reported with the ratios to PyTorch (medians of the ratios of
 * adjacent windows). Each engine's prequential
 * accuracy over a first pass from scratch is reported too, so that a peer that does not learn shows. Not a test of
 * speed: it asserts only that it measured.
 */
@Tag("benchmark")
class PyTorchPeerBenchmarkTest {

    private static final Logger LOG = Logger.getLogger(PyTorchPeerBenchmarkTest.class);

    private static final int REPETITIONS = Integer.getInteger("bench.repetitions", 7);
    private static final int WARMUPS = Integer.getInteger("bench.warmups", 3);
    private static final long WINDOW_MS = Long.getLong("bench.window.ms", 2_000);
    private static final long WINDOW = WINDOW_MS * 1_000_000;
    private static final Duration ANSWER = Duration.ofMillis(WINDOW_MS).plusMinutes(2);
    private static final String ENGINES = "DL4J, lean, PyTorch";
    /** The training measures: DL4J, lean (two passes), lean fused (one forward pass), PyTorch. */
    private static final String TRAINERS = "DL4J, lean, lean fused, PyTorch";
    /** PyTorch's OpenMP wait policy: by default the one the build gives ND4J; blank for libgomp's own (spinning). */
    private static final String PEER_OMP_WAIT_POLICY = System.getProperty("bench.peer.omp-wait-policy",
            System.getenv().getOrDefault("OMP_WAIT_POLICY", ""));
    private static final List<Setup> SETUPS = List.of(new Setup("S", 64, List.of(128), 32, 1),
            new Setup("M", 64, List.of(256, 256), 64, 1),
            new Setup("W", 512, List.of(1024, 1024), 256, 1),
            new Setup("W", 512, List.of(1024, 1024), 256, 2));

    /** A reference model and the compute threads it runs on. */
    record Setup(String name, int inputs, List<Integer> hidden, int batch, int threads) {

        String label() {
            return name + "-" + threads;
        }
    }

    /** A row of the table, and the first-pass accuracies of the lean engine and the peer. */
    record Measured(String row, double lean, double peer) {
    }

    @Test
    void measure() throws Exception {
        ReferenceRun digits = ReferenceRun.digits();
        // -Dbench.setups=W-1,W-2 measures some of them
        List<String> chosen = List.of(System.getProperty("bench.setups", "S-1,M-1,W-1,W-2").split(","));
        List<Measured> measured = new ArrayList<>();
        for (Setup setup : SETUPS.stream().filter(s -> chosen.contains(s.label())).toList()) {
            ReferenceRun data = setup.inputs() == 64 ? digits : PeerWorkload.tiled(digits, setup.inputs() / 64);
            measured.add(measure(setup, PeerWorkload.of(data, setup.batch())));
        }
        List<String> rows = measured.stream().map(Measured::row).toList();
        String header = "| model | threads | batch | DL4J ex/s | lean ex/s | lean fused ex/s | PyTorch ex/s | lean/PyTorch"
                + " | lean fused/PyTorch | DL4J/PyTorch | DL4J 1-row µs | lean 1-row µs | PyTorch 1-row µs | first-pass accuracy (" + ENGINES + ") |";
        LOG.info(header);
        rows.forEach(LOG::info);
        Path out = Path.of("target", "pytorch-peer-results.md");
        Files.write(out, rows, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        assertThat(String.join("\n", rows)).doesNotContain("NaN").doesNotContain("Infinity");
        // a peer that does not learn the same task would make the ratios meaningless (chance is 0.1)
        for (Measured m : measured) {
            assertThat(m.peer()).as("PyTorch's first-pass accuracy: %s", m.row()).isGreaterThan(0.3)
                    .isCloseTo(m.lean(), within(0.15));
        }
    }

    private static Measured measure(Setup setup, PeerWorkload work) throws Exception {
        ModelSpec spec = ReferenceRun.spec("classification", setup.inputs(), 10, "cross-entropy",
                setup.hidden().stream().map(units -> "{dense: {units: " + units + ", activation: relu}}")
                        .collect(Collectors.joining(", ", "[", "]")), "{type: adam, learning-rate: 0.001}");
        ComputeSettings.apply(Optional.of(setup.threads()), spec);
        String label = setup.label();
        Path file = Files.createDirectories(Path.of("target", "pytorch-peer")).resolve(label + ".workload");
        work.write(file);
        String hidden = setup.hidden().stream().map(String::valueOf).collect(Collectors.joining(","));
        ComputationGraph graph = ReferenceRun.graph(spec);
        try (LeanNetwork lean = LeanNetwork.create(spec);
             PyTorchPeerProcess peer = PyTorchPeerProcess.start(file, hidden, setup.threads(), PEER_OMP_WAIT_POLICY,
                     file.resolveSibling(label + ".log"))) {
            Dl4jSteps dl4j = new Dl4jSteps(graph, work);
            BiConsumer<float[][], Prequential> leanStep = (batch, score) -> {
                score.score(lean.output(batch[0], work.batch()), batch[1], work.batch());
                lean.fit(batch[0], batch[1], work.batch());
            };
            // scored from the training forward pass, which is the inference pass here (no dropout)
            BiConsumer<float[][], Prequential> leanFusedStep = (batch, score) -> {
                score.score(lean.outputForFit(batch[0], work.batch()), batch[1], work.batch());
                lean.fitOutput(batch[1], null, work.batch(), false);
            };
            double[] accuracy = {firstPass(dl4j::testThenTrain, work), firstPass(leanStep, work), Double.NaN};
            try (LeanNetwork fresh = LeanNetwork.create(spec)) {
                double fused = firstPass((batch, score) -> {
                    score.score(fresh.outputForFit(batch[0], work.batch()), batch[1], work.batch());
                    fresh.fitOutput(batch[1], null, work.batch(), false);
                }, work);
                assertThat(fused).as("the fused lean step's first-pass accuracy, %s", label).isEqualTo(accuracy[1]);
            }
            String[] ready = peer.ready(ANSWER.plusMinutes(5));
            accuracy[2] = Double.parseDouble(ready[1]);
            LOG.infof("%s: PyTorch %s on %s intra-op and %s inter-op thread(s), OMP_WAIT_POLICY '%s'; ND4J on %d",
                    label, ready[3], ready[4], ready[5], PEER_OMP_WAIT_POLICY, setup.threads());
            Prequential windows = new Prequential();
            float[] row = Arrays.copyOf(work.ring().get(0)[0], work.inputs());
            List<DoubleSupplier> measures = List.of(
                    () -> Measure.perSecond(i -> dl4j.testThenTrain(work.ring().get(i % work.ring().size()), windows), WINDOW),
                    () -> Measure.perSecond(i -> leanStep.accept(work.ring().get(i % work.ring().size()), windows), WINDOW),
                    () -> Measure.perSecond(i -> leanFusedStep.accept(work.ring().get(i % work.ring().size()), windows),
                            WINDOW),
                    () -> peerPerSecond(peer, "train"),
                    () -> Measure.perSecond(i -> dl4j.infer(row), WINDOW),
                    () -> Measure.perSecond(i -> lean.output(row, 1), WINDOW),
                    () -> peerPerSecond(peer, "infer"));
            double[][] rates = new double[measures.size()][REPETITIONS];
            for (int r = -WARMUPS; r < REPETITIONS; r++) {
                for (int m = 0; m < measures.size(); m++) {
                    double rate = measures.get(m).getAsDouble();
                    if (r >= 0) {
                        rates[m][r] = rate * (m < 4 ? work.batch() : 1);
                    }
                }
            }
            LOG.infof("%s: test-then-train windows (ex/s) of %s: %s; 1-row forward passes/s of %s: %s", label,
                    TRAINERS, windows(rates, 0, 4), ENGINES, windows(rates, 4, 3));
            double[] median = Arrays.stream(rates).mapToDouble(Measure::median).toArray();
            // ratios of adjacent windows, which saw the same load on a shared machine
            double[] ratios = {Measure.median(paired(rates[1], rates[3])), Measure.median(paired(rates[2], rates[3])),
                Measure.median(paired(rates[0], rates[3]))};
            return new Measured(row(setup, median, ratios, accuracy), accuracy[1], accuracy[2]);
        }
    }

    /**
     * Medians: DL4J, lean, lean fused, PyTorch examples/s, then DL4J's, lean's and PyTorch's single-row forward passes
     * per second; ratios: lean, lean fused and DL4J to PyTorch.
     */
    private static String row(Setup setup, double[] median, double[] ratios, double[] accuracy) {
        return String.format("| %s | %d | %d | %,.0f | %,.0f | %,.0f | %,.0f | %.2f | %.2f | %.2f | %.1f | %.1f | %.1f"
                + " | %.3f / %.3f / %.3f |", setup.name(), setup.threads(), setup.batch(), median[0], median[1],
                median[2], median[3], ratios[0], ratios[1], ratios[2], 1e6 / median[4], 1e6 / median[5],
                1e6 / median[6], accuracy[0], accuracy[1], accuracy[2]);
    }

    /** DL4J's graph stepping over the workload's batches, through two arrays it refills. */
    private static final class Dl4jSteps {
        private final ComputationGraph graph;
        private final PeerWorkload work;
        private final INDArray features;
        private final INDArray labels;
        private final INDArray one;

        Dl4jSteps(ComputationGraph graph, PeerWorkload work) {
            this.graph = graph;
            this.work = work;
            this.features = ReferenceRun.matrix(work.ring().get(0)[0], work.batch());
            this.labels = ReferenceRun.matrix(work.ring().get(0)[1], work.batch());
            this.one = ReferenceRun.matrix(new float[work.inputs()], 1);
        }

        void testThenTrain(float[][] batch, Prequential score) {
            features.data().setData(batch[0]);
            labels.data().setData(batch[1]);
            score.score(graph.outputSingle(false, features).ravel().toFloatVector(), batch[1], work.batch());
            graph.fit(new INDArray[] {features}, new INDArray[] {labels});
        }

        float[] infer(float[] row) {
            one.data().setData(row);
            return graph.outputSingle(false, one).toFloatVector();
        }
    }

    /** Prequential accuracy of one pass over the data set, from a fresh model. */
    private static double firstPass(BiConsumer<float[][], Prequential> step, PeerWorkload work) {
        Prequential score = new Prequential();
        work.pass().forEach(batch -> step.accept(batch, score));
        return score.accuracy();
    }

    /** Calls per second over one window of the peer, timed inside the peer (the round trip is not counted). */
    private static double peerPerSecond(PyTorchPeerProcess peer, String what) {
        String[] answer = peer.ask(what + " " + WINDOW_MS, ANSWER);
        return Long.parseLong(answer[1]) / (Long.parseLong(answer[2]) / 1e9);
    }

    private static double[] paired(double[] rates, double[] peer) {
        double[] ratios = new double[rates.length];
        for (int i = 0; i < rates.length; i++) {
            ratios[i] = rates[i] / peer[i];
        }
        return ratios;
    }

    private static String windows(double[][] rates, int from, int count) {
        List<String> engines = new ArrayList<>();
        for (int m = from; m < from + count; m++) {
            engines.add(Arrays.stream(rates[m]).mapToObj(rate -> String.format("%,.0f", rate))
                    .collect(Collectors.joining(" ", "[", "]")));
        }
        return String.join(", ", engines);
    }
}
