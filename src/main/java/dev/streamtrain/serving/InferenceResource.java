package dev.streamtrain.serving;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import io.smallrye.common.annotation.NonBlocking;
import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.infrastructure.Infrastructure;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;

import java.io.CharConversionException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Map;

import dev.streamtrain.model.ModelSnapshot;
import dev.streamtrain.model.explain.Explanation;
import dev.streamtrain.serving.V2Messages.ExplainBaseline;
import dev.streamtrain.serving.V2Messages.ExplainResponse;
import dev.streamtrain.serving.V2Messages.InferRequest;
import dev.streamtrain.serving.V2Messages.ModelMetadata;
import dev.streamtrain.serving.V2Messages.ModelReady;
import dev.streamtrain.serving.V2Messages.RowExplanation;
import dev.streamtrain.serving.V2Messages.ServerMetadata;

/**
 * The Open Inference Protocol (KServe V2) over REST: health, server and model metadata, inference and (an
 * extension) explanation, answered from the snapshot the trainer last published (one snapshot per request, never
 * mid-update). Never runs on the training thread. Inference of a few rows by a model that predicts without a lock is
 * answered on the event loop that read the request (parsing, the pass and the answer take microseconds, less than a
 * hand-off to a worker thread); larger requests, other models and explanations run on worker threads.
 */
@Path("/v2")
@Produces(MediaType.APPLICATION_JSON)
public class InferenceResource {

    static final String PROTOCOL = "rest";
    /** The largest request body parsed on the event loop: about 2,500 numbers, tens of microseconds of parsing. */
    static final int INLINE_MAX_BODY_BYTES = 16 * 1024;

    private final Inference inference;
    private final ObjectReader requests;
    private final InferResponseJson answers = new InferResponseJson();

    InferenceResource(Inference inference, ObjectMapper mapper) {
        this.inference = inference;
        this.requests = mapper.readerFor(InferRequest.class);
    }

    @GET
    public ServerMetadata server() {
        return new ServerMetadata("streamtrain", inference.serverVersion(), List.of());
    }

    @GET
    @Path("/health/live")
    @NonBlocking
    public Response live() {
        return Response.ok(Map.of("live", true)).build();
    }

    @GET
    @Path("/health/ready")
    public Response ready() {
        boolean ready = inference.current().isPresent();
        return Response.status(ready ? 200 : 503).entity(Map.of("ready", ready)).build();
    }

    @GET
    @Path("/models/{model}")
    public ModelMetadata metadata(@PathParam("model") String model) {
        return metadata(model, null);
    }

    @GET
    @Path("/models/{model}/versions/{version}")
    public ModelMetadata metadata(@PathParam("model") String model, @PathParam("version") String version) {
        return inference.measured(PROTOCOL, "metadata", () -> {
            ModelSnapshot snapshot = inference.snapshot(model, version);
            return new ModelMetadata(inference.spec().name(), List.of(snapshot.version()), Inference.PLATFORM,
                    inference.inputs(), inference.outputs());
        });
    }

    @GET
    @Path("/models/{model}/ready")
    public Response modelReady(@PathParam("model") String model) {
        return modelReady(model, null);
    }

    @GET
    @Path("/models/{model}/versions/{version}/ready")
    public Response modelReady(@PathParam("model") String model, @PathParam("version") String version) {
        boolean ready = inference.ready(model, version);
        return Response.status(ready ? 200 : 503).entity(new ModelReady(model, ready)).build();
    }

    @POST
    @Path("/models/{model}/infer")
    @Consumes(MediaType.APPLICATION_JSON)
    public Uni<byte[]> infer(@PathParam("model") String model, byte[] body) {
        return infer(model, null, body);
    }

    /**
     * The body is taken as bytes and read here, so that where it is read is decided here too: a small one on the
     * event loop, a large one on a worker thread, and the pass likewise ({@link Inference#answersInline}). The answer
     * is {@link V2Messages.InferResponse}'s JSON, written by {@link InferResponseJson}.
     */
    @POST
    @Path("/models/{model}/versions/{version}/infer")
    @Consumes(MediaType.APPLICATION_JSON)
    public Uni<byte[]> infer(@PathParam("model") String model, @PathParam("version") String version,
                             byte[] body) {
        if (body.length > INLINE_MAX_BODY_BYTES) {
            return onWorker(() -> infer(model, version, read(body)));
        }
        InferRequest request = read(body);
        if (inference.answersInline(values(request))) {
            return Uni.createFrom().item(infer(model, version, request));
        }
        return onWorker(() -> infer(model, version, request));
    }

    private byte[] infer(String model, String version, InferRequest request) {
        return inference.measured(PROTOCOL, "infer", () -> {
            ModelSnapshot snapshot = inference.snapshot(model, version);
            InputTensor input = input(request);
            // the decoded input is this request's own: normalised in place, not copied
            float[] output = inference.predictOwned(snapshot, input.data, input.rows);
            return answers.write(inference.spec().name(), snapshot.version(), request.id(), input.rows,
                    inference.spec().outputs(), output);
        });
    }

    /** The request, or null for an empty body (refused as a request without inputs, as an absent entity is). */
    InferRequest read(byte[] body) {
        if (body.length == 0) {
            return null;
        }
        try {
            return requests.readValue(body);
        } catch (JsonProcessingException e) {
            throw InferenceException.badRequest(ErrorMappers.unreadable(e));
        } catch (CharConversionException e) {
            // Jackson guesses UTF-16/32 from the first bytes; a code unit that is no character is its own IOException
            throw InferenceException.badRequest(ErrorMappers.notTextMessage(e));
        } catch (IOException e) {
            throw new UncheckedIOException("reading a request body held in memory", e);
        }
    }

    /** The values the request's first input carries (what its pass costs); 0 when it has none to count. */
    private static long values(InferRequest request) {
        if (request == null || request.inputs() == null || request.inputs().isEmpty()
                || request.inputs().get(0) == null || request.inputs().get(0).data() == null) {
            return 0;
        }
        return request.inputs().get(0).data().count();
    }

    private static <T> Uni<T> onWorker(java.util.function.Supplier<T> work) {
        return Uni.createFrom().item(work).runSubscriptionOn(Infrastructure.getDefaultWorkerPool());
    }

    @POST
    @Path("/models/{model}/explain")
    @Consumes(MediaType.APPLICATION_JSON)
    public ExplainResponse explain(@PathParam("model") String model, InferRequest request) {
        return explain(model, null, request);
    }

    /**
     * Integrated-gradients attributions of each row's target output (request parameters {@code target},
     * {@code steps}, {@code baseline}; see {@link ExplainParameters}), all from one snapshot.
     */
    @POST
    @Path("/models/{model}/versions/{version}/explain")
    @Consumes(MediaType.APPLICATION_JSON)
    public ExplainResponse explain(@PathParam("model") String model, @PathParam("version") String version,
                                   InferRequest request) {
        return inference.measured(PROTOCOL, "explain", () -> {
            ModelSnapshot snapshot = inference.snapshot(model, version);
            InputTensor input = input(request);
            ExplainParameters parameters = ExplainParameters.of(request.parameters());
            Explanation e = inference.explain(snapshot, input.data, input.rows, parameters.targets(),
                    parameters.baseline(), parameters.steps());
            List<RowExplanation> rows = e.rows().stream().map(r -> new RowExplanation(r.target(), r.output(),
                    r.baselineOutput(), r.attributions(), r.completenessGap())).toList();
            return new ExplainResponse(inference.spec().name(), snapshot.version(), request.id(), Explanation.METHOD,
                    Explanation.RULE, e.steps(), new ExplainBaseline(e.baseline().kind().wireName,
                    e.baseline().values()), rows);
        });
    }

    /** The request's one input tensor, checked, with its output selection (which may only name the output). */
    InputTensor input(InferRequest request) {
        if (request == null || request.inputs() == null || request.inputs().size() != 1) {
            throw InferenceException.badRequest("the request needs \"inputs\" with exactly one tensor, shape [N, "
                    + inference.spec().inputs() + "]");
        }
        if (request.outputs() != null) {
            inference.requireOutputs(request.outputs().stream().map(o -> o == null ? null : o.name()).toList());
        }
        return InputTensor.of(request.inputs().get(0), inference.spec().inputs(), inference.maxRows());
    }
}
