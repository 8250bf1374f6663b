package dev.streamtrain.model.spec;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import dev.streamtrain.model.spec.ModelSpec.BatchNorm;
import dev.streamtrain.model.spec.ModelSpec.Dense;
import dev.streamtrain.model.spec.ModelSpec.Dropout;
import dev.streamtrain.model.spec.ModelSpec.LayerNorm;
import dev.streamtrain.model.spec.ModelSpec.LayerSpec;
import dev.streamtrain.model.spec.ModelSpec.Residual;

/** Parses the spec's {@code layers} list: each entry is a one-key mapping naming the layer kind. */
final class LayerSpecParser {

    private LayerSpecParser() {
    }

    static List<LayerSpec> parseLayers(SpecNode spec) {
        JsonNode list = spec.raw().get("layers");
        if (list == null || list.isNull()) {
            throw new InvalidSpecException("layers", "is required: a list such as [{dense: {units: 128, activation: relu}}]");
        }
        if (!list.isArray()) {
            throw new InvalidSpecException("layers", "must be a list, got " + SpecNode.describe(list));
        }
        List<LayerSpec> layers = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            String path = "layers[" + i + "]";
            JsonNode entry = list.get(i);
            if (!entry.isObject() || entry.size() != 1) {
                throw new InvalidSpecException(path, "must be a mapping with one key, one of "
                        + ModelSpecParser.LAYER_FIELDS.keySet().stream().sorted().toList());
            }
            Map.Entry<String, JsonNode> kind = entry.fields().next();
            var fields = ModelSpecParser.LAYER_FIELDS.get(kind.getKey());
            if (fields == null) {
                throw new InvalidSpecException(path + "." + kind.getKey(), "unknown layer kind; allowed: "
                        + ModelSpecParser.LAYER_FIELDS.keySet().stream().sorted().toList());
            }
            JsonNode body = kind.getValue().isNull() ? com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode() : kind.getValue();
            SpecNode node = new SpecNode(body, path + "." + kind.getKey());
            node.allowOnly(fields);
            layers.add(parseLayer(kind.getKey(), node, layers, path));
        }
        return layers;
    }

    private static LayerSpec parseLayer(String kind, SpecNode node, List<LayerSpec> before, String path) {
        return switch (kind) {
            case "dense" -> new Dense(node.positiveInt("units", null), activation(node),
                    init(node), node.choice("norm", "none", List.of("none", "layer")).equals("layer"));
            case "batch-norm" -> new BatchNorm(node.number("decay", 0.9, 0.0, true, 1.0),
                    node.number("eps", 1e-5, 0.0, true, 1.0));
            case "layer-norm" -> {
                if (before.isEmpty() || !(before.get(before.size() - 1) instanceof Dense)) {
                    throw new InvalidSpecException(path + ".layer-norm",
                            "must follow a dense layer (it normalises that layer's pre-activations); "
                                    + "or write norm: layer inside the dense or residual entry");
                }
                yield new LayerNorm();
            }
            case "dropout" -> new Dropout(node.number("rate", 0.5, 0.0, false, 0.95));
            case "residual" -> new Residual(node.positiveInt("units", null), activation(node),
                    node.intIn("depth", 2, 1, 16), node.choice("norm", "none", ModelSpecParser.NORMS), init(node));
            default -> throw new IllegalStateException(kind);
        };
    }

    private static String activation(SpecNode node) {
        return node.choice("activation", "relu", NetworkBuilder.ACTIVATIONS.keySet().stream().sorted().toList());
    }

    private static String init(SpecNode node) {
        return node.choice("init", "auto", NetworkBuilder.INITIALIZERS.keySet().stream().sorted().toList());
    }
}
