package dev.streamtrain.ops;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * docker/compose.yaml read as Compose reads it, for the parts the tests look at: services, their environment
 * (map or list form), bind mounts and named volumes (short and long syntax), published ports, depends_on (list or
 * map), with Compose's interpolation of {@code ${VAR:-default}} (variables unset, as on a fresh checkout) and
 * {@code $$}.
 */
final class ComposeFile {

    private static final Pattern VARIABLE = Pattern.compile("\\$\\$|\\$\\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?}");

    /** A published port: host address, host port, container port. */
    record Port(String service, String hostIp, String published, String target) {
    }

    /** A volume entry: a bind mount when the source is a path, else a named volume. */
    record Mount(String service, String source, String target, boolean bind) {
    }

    private final JsonNode root;

    private ComposeFile(JsonNode root) {
        this.root = root;
    }

    static ComposeFile read(Path file) throws IOException {
        return new ComposeFile(new ObjectMapper(new YAMLFactory()).readTree(file.toFile()));
    }

    static String interpolate(String value) {
        Matcher m = VARIABLE.matcher(value);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String replacement = m.group().equals("$$") ? "$" : m.group(2) == null ? "" : m.group(2);
            m.appendReplacement(out, Matcher.quoteReplacement(replacement));
        }
        return m.appendTail(out).toString();
    }

    List<String> services() {
        List<String> names = new ArrayList<>();
        root.path("services").fieldNames().forEachRemaining(names::add);
        return names;
    }

    JsonNode service(String name) {
        return root.path("services").path(name);
    }

    Map<String, String> environment(String service) {
        Map<String, String> env = new LinkedHashMap<>();
        JsonNode node = service(service).path("environment");
        if (node.isArray()) {
            node.forEach(e -> {
                String[] kv = e.asText().split("=", 2);
                env.put(kv[0], kv.length > 1 ? interpolate(kv[1]) : "");
            });
        } else {
            node.fields().forEachRemaining(e -> env.put(e.getKey(), interpolate(e.getValue().asText())));
        }
        return env;
    }

    String image(String service) {
        return interpolate(service(service).path("image").asText());
    }

    List<String> dependsOn(String service) {
        List<String> names = new ArrayList<>();
        JsonNode node = service(service).path("depends_on");
        if (node.isArray()) {
            node.forEach(n -> names.add(n.asText()));
        } else {
            node.fieldNames().forEachRemaining(names::add);
        }
        return names;
    }

    List<Port> ports() {
        List<Port> ports = new ArrayList<>();
        for (String service : services()) {
            for (JsonNode p : service(service).path("ports")) {
                if (p.isObject()) {
                    ports.add(new Port(service, p.path("host_ip").asText(""), p.path("published").asText(""),
                            p.path("target").asText()));
                } else {
                    String[] parts = interpolate(p.asText()).split(":");
                    ports.add(parts.length == 3 ? new Port(service, parts[0], parts[1], parts[2])
                            : parts.length == 2 ? new Port(service, "", parts[0], parts[1])
                            : new Port(service, "", "", parts[0]));
                }
            }
        }
        return ports;
    }

    List<Mount> mounts() {
        List<Mount> mounts = new ArrayList<>();
        for (String service : services()) {
            for (JsonNode v : service(service).path("volumes")) {
                if (v.isObject()) {
                    mounts.add(new Mount(service, interpolate(v.path("source").asText()), v.path("target").asText(),
                            v.path("type").asText().equals("bind")));
                } else {
                    String[] parts = interpolate(v.asText()).split(":");
                    boolean bind = parts[0].startsWith(".") || parts[0].startsWith("/") || parts[0].startsWith("~");
                    mounts.add(new Mount(service, parts[0], parts.length > 1 ? parts[1] : parts[0], bind));
                }
            }
        }
        return mounts;
    }

    List<String> namedVolumes() {
        List<String> names = new ArrayList<>();
        Iterator<String> it = root.path("volumes").fieldNames();
        it.forEachRemaining(names::add);
        return names;
    }
}
