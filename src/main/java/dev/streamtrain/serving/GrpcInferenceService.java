package dev.streamtrain.serving;

import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.quarkus.grpc.GrpcService;
import io.smallrye.mutiny.infrastructure.Infrastructure;
import org.jboss.logging.Logger;

import java.util.List;
import java.util.function.Supplier;

import dev.streamtrain.model.ModelSnapshot;
import dev.streamtrain.serving.V2Messages.TensorMetadata;
import inference.GRPCInferenceServiceGrpc;
import inference.GrpcPredictV2.InferTensorContents;
import inference.GrpcPredictV2.ModelInferRequest;
import inference.GrpcPredictV2.ModelInferRequest.InferRequestedOutputTensor;
import inference.GrpcPredictV2.ModelInferResponse;
import inference.GrpcPredictV2.ModelInferResponse.InferOutputTensor;
import inference.GrpcPredictV2.ModelMetadataRequest;
import inference.GrpcPredictV2.ModelMetadataResponse;
import inference.GrpcPredictV2.ModelReadyRequest;
import inference.GrpcPredictV2.ModelReadyResponse;
import inference.GrpcPredictV2.ServerLiveRequest;
import inference.GrpcPredictV2.ServerLiveResponse;
import inference.GrpcPredictV2.ServerMetadataRequest;
import inference.GrpcPredictV2.ServerMetadataResponse;
import inference.GrpcPredictV2.ServerReadyRequest;
import inference.GrpcPredictV2.ServerReadyResponse;

/**
 * The Open Inference Protocol (KServe V2) over gRPC: {@code inference.GRPCInferenceService}, the same answers as
 * the REST adapter ({@link InferenceResource}) from the same {@link Inference} core, one snapshot per request.
 * The calls that do no model work, and inference of a few rows by a model that predicts without a lock, are answered
 * on the event loop that received them ({@link Inference#answersInline}: microseconds, less than a hand-off); larger
 * inference runs on a worker thread. Every call is counted in {@code streamtrain_inference_seconds{protocol="grpc"}}. A request refused by the core gets the gRPC status of its
 * HTTP status (400 INVALID_ARGUMENT, 404 NOT_FOUND, 503 UNAVAILABLE) with the same message as over REST.
 * Raw tensors: a request that sends {@code raw_input_contents} gets its output in {@code raw_output_contents}
 * (little-endian FP32), any other request gets {@code contents.fp32_contents}.
 */
@GrpcService
public class GrpcInferenceService extends GRPCInferenceServiceGrpc.GRPCInferenceServiceImplBase {

    static final String PROTOCOL = "grpc";

    private static final Logger LOG = Logger.getLogger(GrpcInferenceService.class);

    private final Inference inference;

    GrpcInferenceService(Inference inference) {
        this.inference = inference;
    }

    @Override
    public void serverLive(ServerLiveRequest request, StreamObserver<ServerLiveResponse> response) {
        answer(response, "live", () -> ServerLiveResponse.newBuilder().setLive(true).build());
    }

    @Override
    public void serverReady(ServerReadyRequest request, StreamObserver<ServerReadyResponse> response) {
        answer(response, "ready", () -> ServerReadyResponse.newBuilder()
                .setReady(inference.current().isPresent()).build());
    }

    @Override
    public void modelReady(ModelReadyRequest request, StreamObserver<ModelReadyResponse> response) {
        answer(response, "ready", () -> ModelReadyResponse.newBuilder()
                .setReady(inference.ready(request.getName(), request.getVersion())).build());
    }

    @Override
    public void serverMetadata(ServerMetadataRequest request, StreamObserver<ServerMetadataResponse> response) {
        answer(response, "server-metadata", () -> ServerMetadataResponse.newBuilder()
                .setName("streamtrain").setVersion(inference.serverVersion()).build());
    }

    @Override
    public void modelMetadata(ModelMetadataRequest request, StreamObserver<ModelMetadataResponse> response) {
        answer(response, "metadata", () -> {
            ModelSnapshot snapshot = inference.snapshot(request.getName(), request.getVersion());
            return ModelMetadataResponse.newBuilder()
                    .setName(inference.spec().name())
                    .addVersions(snapshot.version())
                    .setPlatform(Inference.PLATFORM)
                    .addAllInputs(tensors(inference.inputs()))
                    .addAllOutputs(tensors(inference.outputs()))
                    .build();
        });
    }

    @Override
    public void modelInfer(ModelInferRequest request, StreamObserver<ModelInferResponse> response) {
        // at most this many values: a typed FP32 value or a raw one takes 4 bytes of the message, others more
        if (inference.answersInline(request.getSerializedSize() / Float.BYTES)) {
            answer(response, "infer", () -> infer(request));
        } else {
            Infrastructure.getDefaultWorkerPool().execute(() -> answer(response, "infer", () -> infer(request)));
        }
    }

    private ModelInferResponse infer(ModelInferRequest request) {
        ModelSnapshot snapshot = inference.snapshot(request.getModelName(), request.getModelVersion());
        int features = inference.spec().inputs();
        if (request.getOutputsCount() > 0) {
            inference.requireOutputs(request.getOutputsList().stream().map(InferRequestedOutputTensor::getName)
                    .toList());
        }
        float[] values = GrpcTensors.input(request, features, inference.maxRows());
        int rows = values.length / features;
        boolean raw = request.getRawInputContentsCount() > 0;
        // the decoded input is this call's own: normalised in place, not copied
        float[] output = inference.predictOwned(snapshot, values, rows);
        InferOutputTensor.Builder tensor = InferOutputTensor.newBuilder()
                .setName(Inference.OUTPUT)
                .setDatatype("FP32")
                .addShape(rows)
                .addShape(inference.spec().outputs());
        ModelInferResponse.Builder answer = ModelInferResponse.newBuilder()
                .setModelName(inference.spec().name())
                .setModelVersion(snapshot.version())
                .setId(request.getId());
        if (raw) {
            answer.addOutputs(tensor).addRawOutputContents(GrpcTensors.rawFp32(output));
        } else {
            InferTensorContents.Builder contents = InferTensorContents.newBuilder();
            for (float v : output) {
                contents.addFp32Contents(v);
            }
            answer.addOutputs(tensor.setContents(contents));
        }
        return answer.build();
    }

    private static List<ModelMetadataResponse.TensorMetadata> tensors(List<TensorMetadata> tensors) {
        return tensors.stream().map(t -> {
            var builder = ModelMetadataResponse.TensorMetadata.newBuilder().setName(t.name()).setDatatype(t.datatype());
            for (long dimension : t.shape()) {
                builder.addShape(dimension);
            }
            return builder.build();
        }).toList();
    }

    /** Answers one call, counted under {@code operation}, with the core's refusals mapped to gRPC statuses. */
    private <T> void answer(StreamObserver<T> response, String operation, Supplier<T> call) {
        T result;
        try {
            result = inference.measured(PROTOCOL, operation, call);
        } catch (InferenceException e) {
            response.onError(status(e).withDescription(e.getMessage()).asRuntimeException());
            return;
        } catch (RuntimeException e) {
            LOG.error("gRPC inference call failed unexpectedly", e);
            response.onError(Status.INTERNAL.withDescription("internal error: " + e.getClass().getSimpleName())
                    .asRuntimeException());
            return;
        }
        response.onNext(result);
        response.onCompleted();
    }

    static Status status(InferenceException e) {
        return switch (e.status()) {
            case 400 -> Status.INVALID_ARGUMENT;
            case 404 -> Status.NOT_FOUND;
            case 503 -> Status.UNAVAILABLE;
            default -> {
                LOG.errorf("Inference refused with unexpected status %d: %s", e.status(), e.getMessage());
                yield Status.INTERNAL;
            }
        };
    }
}
