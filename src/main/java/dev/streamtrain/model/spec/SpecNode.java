package dev.streamtrain.model.spec;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.Iterator;
import java.util.List;
import java.util.Set;

/** A spec object together with its path, reading typed fields and failing with the field's full name. */
final class SpecNode {

    private final JsonNode node;
    private final String path;

    SpecNode(JsonNode node, String path) {
        this.node = node;
        this.path = path;
    }

    String path(String field) {
        return path.isEmpty() ? field : path + "." + field;
    }

    JsonNode raw() {
        return node;
    }

    boolean has(String field) {
        return node.hasNonNull(field);
    }

    /** Refuses keys this object does not know, so a typo is an error rather than a silent default. */
    void allowOnly(Set<String> known) {
        if (!node.isObject()) {
            throw new InvalidSpecException(path, "must be a mapping, got " + describe(node));
        }
        Iterator<String> names = node.fieldNames();
        while (names.hasNext()) {
            String name = names.next();
            if (!known.contains(name)) {
                // a blank key (YAML allows "": x, or an anchor with no name) is quoted, so the message still names it
                String field = name.isBlank() ? path("\"" + name + "\"") : path(name);
                throw new InvalidSpecException(field, "unknown field; allowed here: " + sorted(known));
            }
        }
    }

    SpecNode object(String field) {
        JsonNode child = node.get(field);
        if (child == null || child.isNull()) {
            return new SpecNode(com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode(), path(field));
        }
        if (!child.isObject()) {
            throw new InvalidSpecException(path(field), "must be a mapping, got " + describe(child));
        }
        return new SpecNode(child, path(field));
    }

    String text(String field, String fallback) {
        JsonNode value = node.get(field);
        if (value == null || value.isNull()) {
            if (fallback == null) {
                throw new InvalidSpecException(path(field), "is required");
            }
            return fallback;
        }
        if (!value.isTextual()) {
            throw new InvalidSpecException(path(field), "must be a string, got " + describe(value));
        }
        return value.asText();
    }

    String choice(String field, String fallback, List<String> allowed) {
        String value = text(field, fallback).trim().toLowerCase(java.util.Locale.ROOT);
        if (!allowed.contains(value)) {
            throw new InvalidSpecException(path(field), "'" + value + "' is not one of " + allowed);
        }
        return value;
    }

    int positiveInt(String field, Integer fallback) {
        return intIn(field, fallback, 1, Integer.MAX_VALUE);
    }

    int intIn(String field, Integer fallback, int min, int max) {
        JsonNode value = node.get(field);
        if (value == null || value.isNull()) {
            if (fallback == null) {
                throw new InvalidSpecException(path(field), "is required (an integer from " + min + " to " + max + ")");
            }
            return fallback;
        }
        if (!value.isIntegralNumber() || !value.canConvertToInt() || value.asInt() < min || value.asInt() > max) {
            throw new InvalidSpecException(path(field),
                    "must be an integer from " + min + " to " + max + ", got " + describe(value));
        }
        return value.asInt();
    }

    long longValue(String field, long fallback) {
        JsonNode value = node.get(field);
        if (value == null || value.isNull()) {
            return fallback;
        }
        if (!value.isIntegralNumber() || !value.canConvertToLong()) {
            throw new InvalidSpecException(path(field), "must be an integer, got " + describe(value));
        }
        return value.asLong();
    }

    /** A number in [min, max] (or (min, max] when minExclusive); fallback NaN means "keep the default". */
    double number(String field, double fallback, double min, boolean minExclusive, double max) {
        JsonNode value = node.get(field);
        if (value == null || value.isNull()) {
            return fallback;
        }
        String range = (minExclusive ? "(" : "[") + min + ", " + max + "]";
        if (!value.isNumber() || !Double.isFinite(value.asDouble())) {
            throw new InvalidSpecException(path(field), "must be a number in " + range + ", got " + describe(value));
        }
        double d = value.asDouble();
        if (d < min || (minExclusive && d == min) || d > max) {
            throw new InvalidSpecException(path(field), "must be a number in " + range + ", got " + d);
        }
        return d;
    }

    /** A finite number >= 0, without an upper bound. */
    double nonNegative(String field, double fallback) {
        JsonNode value = node.get(field);
        if (value == null || value.isNull()) {
            return fallback;
        }
        if (!value.isNumber() || !Double.isFinite(value.asDouble())) {
            throw new InvalidSpecException(path(field), "must be a number >= 0, got " + describe(value));
        }
        double d = value.asDouble();
        if (d < 0) {
            throw new InvalidSpecException(path(field), "must be >= 0, got " + d);
        }
        return d;
    }

    boolean bool(String field, boolean fallback) {
        JsonNode value = node.get(field);
        if (value == null || value.isNull()) {
            return fallback;
        }
        if (!value.isBoolean()) {
            throw new InvalidSpecException(path(field), "must be true or false, got " + describe(value));
        }
        return value.asBoolean();
    }

    static String describe(JsonNode value) {
        String text = value.toString();
        return text.length() > 40 ? text.substring(0, 40) + "..." : text;
    }

    private static List<String> sorted(Set<String> names) {
        return names.stream().sorted().toList();
    }
}
