package dev.streamtrain.serving;

import jakarta.enterprise.context.ApplicationScoped;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import dev.streamtrain.model.ModelSnapshot;
import dev.streamtrain.model.explain.Baseline;
import dev.streamtrain.model.explain.Explanation;
import dev.streamtrain.model.explain.InvalidExplanationException;
import dev.streamtrain.model.spec.ModelSpec;
import dev.streamtrain.serving.V2Messages.TensorMetadata;
import dev.streamtrain.training.ServedModel;

/**
 * What every inference adapter (REST, gRPC) shares: which model and version a request may address, the shapes
 * it may send, the prediction itself, and the request meters. A request takes one snapshot with
 * {@link #snapshot} and is answered wholly from it, so a publish between two of its reads cannot mix versions.
 */
@ApplicationScoped
public class Inference {

    public static final String INPUT = "input";
    public static final String OUTPUT = "output";
    public static final String PLATFORM = "streamtrain-dl4j";
    /** The default of {@code streamtrain.serving.max-request-rows}: the most rows one request may carry. */
    public static final int MAX_ROWS = 4096;
    /** The most gradients one explanation may evaluate, rows x (steps + 1): about a second or two on digits. */
    public static final int MAX_EXPLAIN_POINTS = 65_536;

    private final ModelSpec spec;
    private final ServedModel served;
    private final ServingMeters meters;
    private final BatchingPredictor predictor;
    private static final long EXPLAIN_QUEUE_SECONDS = 10;
    private final int explainConcurrency;
    private final Semaphore explanations;
    private final long inlineMaxMultiplyAdds;
    private final int maxRows;

    Inference(ModelSpec spec, ServedModel served, ServingMeters meters, ServingConfig config) {
        this.spec = spec;
        this.served = served;
        this.meters = meters;
        this.predictor = new BatchingPredictor(config.maxBatchRows(), meters::batch);
        this.inlineMaxMultiplyAdds = config.inlineMaxMultiplyAdds();
        this.maxRows = config.maxRequestRows();
        if (maxRows < 1) {
            throw new IllegalArgumentException("Refusing to start: streamtrain.serving.max-request-rows must be at"
                    + " least 1, not " + maxRows);
        }
        this.explainConcurrency = Math.max(1, config.explainConcurrency());
        this.explanations = new Semaphore(explainConcurrency, true);
    }

    public ModelSpec spec() {
        return spec;
    }

    /** The most rows one request may carry ({@code streamtrain.serving.max-request-rows}). */
    public int maxRows() {
        return maxRows;
    }

    public Optional<ModelSnapshot> current() {
        return served.current();
    }

    /** The server's version: the implementation version of the package, or "dev" when run from classes. */
    public String serverVersion() {
        String version = Inference.class.getPackage().getImplementationVersion();
        return version == null ? "dev" : version;
    }

    public List<TensorMetadata> inputs() {
        return List.of(new TensorMetadata(INPUT, "FP32", new long[] {-1, spec.inputs()}));
    }

    public List<TensorMetadata> outputs() {
        return List.of(new TensorMetadata(OUTPUT, "FP32", new long[] {-1, spec.outputs()}));
    }

    public void requireModel(String model) {
        if (!spec.name().equals(model)) {
            throw InferenceException.notFound("model '" + model + "' is not served here; this server serves '"
                    + spec.name() + "'");
        }
    }

    /**
     * The snapshot that answers a request for {@code model} (and {@code version}, when not null or empty):
     * 404 for another model or a version that is not served, 503 before the first snapshot.
     */
    public ModelSnapshot snapshot(String model, String version) {
        requireModel(model);
        ModelSnapshot snapshot = served.current()
                .orElseThrow(() -> InferenceException.unavailable("model '" + model + "' has no weights yet"));
        requireVersion(model, version, snapshot);
        return snapshot;
    }

    /** Whether the model (and version, when given) is ready; 404 for another model or another version. */
    public boolean ready(String model, String version) {
        requireModel(model);
        Optional<ModelSnapshot> current = served.current();
        current.ifPresent(s -> requireVersion(model, version, s));
        return current.isPresent();
    }

    private static void requireVersion(String model, String version, ModelSnapshot snapshot) {
        if (version != null && !version.isEmpty() && !version.equals(snapshot.version())) {
            throw InferenceException.notFound("version " + version + " of model '" + model
                    + "' is not served; the current version is " + snapshot.version());
        }
    }

    /** Refuses an output selection that names anything but the model's one output. */
    public void requireOutputs(List<String> names) {
        for (String name : names) {
            if (!OUTPUT.equals(name)) {
                throw InferenceException.badRequest("the model has one output, named '" + OUTPUT + "'; '" + name
                        + "' is not one");
            }
        }
    }

    /**
     * Checks an input tensor's header and returns its row count: name {@value #INPUT} (or empty), a numeric
     * datatype, shape [N, F] (or [F] for one row) with F the model's feature count and 1 <= N <= {@link #maxRows}.
     */
    public int rows(String name, String datatype, long[] shape) {
        return InputTensor.rows(name, datatype, shape, spec.inputs(), maxRows);
    }

    /**
     * Predicts raw (un-normalised) row-major features with one snapshot; row-major outputs. A snapshot that predicts
     * without a lock does so at once, on the calling thread, beside any number of others; with a graph (one pass at
     * a time), concurrent requests are answered together in one forward pass ({@link BatchingPredictor}).
     */
    public float[] predict(ModelSnapshot snapshot, float[] features, int rows) {
        if (snapshot.predictsWithoutLock()) {
            float[] outputs = snapshot.predict(features, rows);
            meters.batch(rows);
            return outputs;
        }
        return predictor.predict(snapshot, features, rows);
    }

    /**
     * {@link #predict} of features the caller owns and gives up (a request's decoded input): a lock-free snapshot
     * normalises them in place instead of copying them first.
     */
    public float[] predictOwned(ModelSnapshot snapshot, float[] features, int rows) {
        if (snapshot.predictsWithoutLock()) {
            float[] outputs = snapshot.predictInPlace(features, rows);
            meters.batch(rows);
            return outputs;
        }
        return predictor.predict(snapshot, features, rows);
    }

    /**
     * Whether a request carrying {@code values} input values is answered on the thread that received it (an HTTP
     * or gRPC event loop) rather than handed to a worker thread: when the serving snapshot predicts without a lock and
     * the pass is at most {@code streamtrain.serving.inline-max-multiply-adds} multiply-adds, a few microseconds,
     * less than the hand-off itself. Requests that will be refused at once (no snapshot yet) are answered inline too.
     */
    public boolean answersInline(long values) {
        Optional<ModelSnapshot> current = served.current();
        if (current.isEmpty()) {
            return true;
        }
        ModelSnapshot snapshot = current.get();
        long rows = Math.max(1, (values + spec.inputs() - 1) / spec.inputs());
        return snapshot.predictsWithoutLock() && rows <= maxRows
                && snapshot.multiplyAdds((int) rows) <= inlineMaxMultiplyAdds;
    }

    /**
     * Explains raw row-major features with one snapshot (integrated gradients): 400 for parameters the model
     * refuses, or for more than {@value #MAX_EXPLAIN_POINTS} gradients, rows x (steps + 1).
     */
    public Explanation explain(ModelSnapshot snapshot, float[] features, int rows, int[] targets, Baseline baseline,
                               int steps) {
        long points = (long) rows * (steps + 1);
        if (steps >= 1 && steps <= Explanation.MAX_STEPS && points > MAX_EXPLAIN_POINTS) {
            throw InferenceException.badRequest("an explanation of " + rows + " rows with " + steps + " steps takes "
                    + rows + " x (" + steps + " + 1) = " + points + " gradients; at most " + MAX_EXPLAIN_POINTS
                    + " per request: send fewer rows or ask for fewer 'steps'");
        }
        // an explanation is ~(steps + 1) forward and backward passes: a few at once would starve inference and
        // training of the cores, so they take turns, and one that waits too long is told to come back
        boolean admitted;
        try {
            admitted = explanations.tryAcquire(EXPLAIN_QUEUE_SECONDS, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw InferenceException.unavailable("interrupted while waiting for an explanation slot");
        }
        if (!admitted) {
            throw InferenceException.unavailable("the server is busy with other explanations (at most "
                    + explainConcurrency + " at once, streamtrain.serving.explain-concurrency); retry later");
        }
        try {
            return snapshot.explain(features, rows, targets, baseline, steps);
        } catch (InvalidExplanationException e) {
            throw InferenceException.badRequest(e.getMessage());
        } finally {
            explanations.release();
        }
    }

    /**
     * Runs one request and counts it in {@code streamtrain_inference_seconds{protocol, operation, outcome}}:
     * outcome {@code ok}, {@code client-error} (4xx), {@code unavailable} (503) or {@code error}.
     */
    public <T> T measured(String protocol, String operation, Supplier<T> request) {
        long start = System.nanoTime();
        String outcome = "error";
        try {
            T result = request.get();
            outcome = "ok";
            return result;
        } catch (InferenceException e) {
            outcome = e.status() == 503 ? "unavailable" : e.status() < 500 ? "client-error" : "error";
            throw e;
        } finally {
            meters.record(protocol, operation, outcome, System.nanoTime() - start);
        }
    }
}
