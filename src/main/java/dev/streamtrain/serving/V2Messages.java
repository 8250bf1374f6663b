package dev.streamtrain.serving;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

import java.util.List;
import java.util.Map;

/** The JSON bodies of the Open Inference Protocol (KServe V2) REST API, with its field names. */
public final class V2Messages {

    private V2Messages() {
    }

    public record ServerMetadata(String name, String version, List<String> extensions) {
    }

    public record TensorMetadata(String name, String datatype, long[] shape) {
    }

    public record ModelMetadata(String name, List<String> versions, String platform, List<TensorMetadata> inputs,
                                List<TensorMetadata> outputs) {
    }

    public record ModelReady(String name, boolean ready) {
    }

    public record InferRequest(String id, List<RequestInput> inputs, List<RequestOutput> outputs,
                               Map<String, Object> parameters) {
    }

    /** {@code data} is read by streaming ({@link TensorData}): the protocol allows it flat or nested to the shape. */
    public record RequestInput(String name, long[] shape, String datatype, TensorData data,
                               Map<String, Object> parameters) {
    }

    public record RequestOutput(String name, Map<String, Object> parameters) {
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record InferResponse(@JsonProperty("model_name") String modelName,
                                @JsonProperty("model_version") String modelVersion,
                                String id,
                                List<ResponseOutput> outputs) {
    }

    public record ResponseOutput(String name, long[] shape, String datatype, float[] data) {
    }

    /**
     * The answer of explain (an extension of the protocol): integrated-gradients attributions of every row's
     * {@code target} output to its raw features, from the baseline's values to the row's.
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record ExplainResponse(@JsonProperty("model_name") String modelName,
                                  @JsonProperty("model_version") String modelVersion,
                                  String id,
                                  String method,
                                  String rule,
                                  int steps,
                                  ExplainBaseline baseline,
                                  List<RowExplanation> explanations) {
    }

    /** The baseline's kind ("mean", "zeros", "custom") and its raw feature values. */
    public record ExplainBaseline(String kind, float[] data) {
    }

    public record RowExplanation(int target,
                                 double output,
                                 @JsonProperty("baseline_output") double baselineOutput,
                                 float[] attributions,
                                 @JsonProperty("completeness_gap") double completenessGap) {
    }
}
