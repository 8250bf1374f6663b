package dev.streamtrain.serving;

import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;

import java.util.List;

import dev.streamtrain.model.ModelSnapshot;
import dev.streamtrain.model.ModelSpec;
import dev.streamtrain.serving.V2Messages.InferRequest;
import dev.streamtrain.serving.V2Messages.InferResponse;
import dev.streamtrain.serving.V2Messages.ModelMetadata;
import dev.streamtrain.serving.V2Messages.ModelReady;
import dev.streamtrain.serving.V2Messages.ResponseOutput;
import dev.streamtrain.serving.V2Messages.ServerMetadata;
import dev.streamtrain.serving.V2Messages.TensorMetadata;
import dev.streamtrain.training.ServedModel;

/**
 * The Open Inference Protocol (KServe V2) over REST: health, server and model metadata, and inference,
 * answered from the snapshot the trainer last published (one snapshot per request, never mid-update).
 * Runs on worker threads, never on the training thread.
 */
@Path("/v2")
@Produces(MediaType.APPLICATION_JSON)
public class InferenceResource {

    static final String INPUT = "input";
    static final String OUTPUT = "output";
    private static final int MAX_ROWS = 4096;

    private final ServedModel served;
    private final ModelSpec spec;

    InferenceResource(ServedModel served, ModelSpec spec) {
        this.served = served;
        this.spec = spec;
    }

    @GET
    public ServerMetadata server() {
        String version = getClass().getPackage().getImplementationVersion();
        return new ServerMetadata("streamtrain", version == null ? "dev" : version, List.of());
    }

    @GET
    @Path("/health/live")
    public Response live() {
        return Response.ok(java.util.Map.of("live", true)).build();
    }

    @GET
    @Path("/health/ready")
    public Response ready() {
        boolean ready = served.current().isPresent();
        return Response.status(ready ? 200 : 503).entity(java.util.Map.of("ready", ready)).build();
    }

    @GET
    @Path("/models/{model}")
    public ModelMetadata metadata(@PathParam("model") String model) {
        return metadata(snapshot(model, null));
    }

    @GET
    @Path("/models/{model}/versions/{version}")
    public ModelMetadata metadata(@PathParam("model") String model, @PathParam("version") String version) {
        return metadata(snapshot(model, version));
    }

    private ModelMetadata metadata(ModelSnapshot snapshot) {
        return new ModelMetadata(spec.name(), List.of(snapshot.version()), "streamtrain-dl4j",
                List.of(new TensorMetadata(INPUT, "FP32", new long[] {-1, spec.inputs()})),
                List.of(new TensorMetadata(OUTPUT, "FP32", new long[] {-1, spec.outputs()})));
    }

    @GET
    @Path("/models/{model}/ready")
    public Response modelReady(@PathParam("model") String model) {
        return modelReady(model, null);
    }

    @GET
    @Path("/models/{model}/versions/{version}/ready")
    public Response modelReady(@PathParam("model") String model, @PathParam("version") String version) {
        requireModel(model);
        var current = served.current();
        if (current.isPresent() && version != null && !version.equals(current.get().version())) {
            throw InferenceException.notFound("version " + version + " of model '" + model
                    + "' is not served; the current version is " + current.get().version());
        }
        boolean ready = current.isPresent();
        return Response.status(ready ? 200 : 503).entity(new ModelReady(model, ready)).build();
    }

    @POST
    @Path("/models/{model}/infer")
    @Consumes(MediaType.APPLICATION_JSON)
    public InferResponse infer(@PathParam("model") String model, InferRequest request) {
        return infer(model, null, request);
    }

    @POST
    @Path("/models/{model}/versions/{version}/infer")
    @Consumes(MediaType.APPLICATION_JSON)
    public InferResponse infer(@PathParam("model") String model, @PathParam("version") String version,
                               InferRequest request) {
        ModelSnapshot snapshot = snapshot(model, version);
        if (request == null || request.inputs() == null || request.inputs().size() != 1) {
            throw InferenceException.badRequest("the request needs \"inputs\" with exactly one tensor, shape [N, "
                    + spec.inputs() + "]");
        }
        if (request.outputs() != null && request.outputs().stream().anyMatch(o -> o == null || !OUTPUT.equals(o.name()))) {
            throw InferenceException.badRequest("the model has one output, named '" + OUTPUT + "'");
        }
        InputTensor input = InputTensor.of(request.inputs().get(0), spec.inputs(), MAX_ROWS);
        float[] output = snapshot.predict(input.data, input.rows);
        return new InferResponse(spec.name(), snapshot.version(), request.id(), List.of(
                new ResponseOutput(OUTPUT, new long[] {input.rows, spec.outputs()}, "FP32", output)));
    }

    private void requireModel(String model) {
        if (!spec.name().equals(model)) {
            throw InferenceException.notFound("model '" + model + "' is not served here; this server serves '"
                    + spec.name() + "'");
        }
    }

    private ModelSnapshot snapshot(String model, String version) {
        requireModel(model);
        ModelSnapshot snapshot = served.current()
                .orElseThrow(() -> InferenceException.unavailable("model '" + model + "' has no weights yet"));
        if (version != null && !version.equals(snapshot.version())) {
            throw InferenceException.notFound("version " + version + " of model '" + model
                    + "' is not served; the current version is " + snapshot.version());
        }
        return snapshot;
    }
}
