package dev.streamtrain.ops;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.KubernetesResource;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A set of Kubernetes objects (the plain manifests, or one rendering of the chart), parsed strictly into the
 * fabric8 model: every document must be a known kind, and no field may be unknown to the model anywhere
 * (fabric8 keeps unknown fields in {@code additionalProperties}, so a typo like {@code readinesProbe} lands there).
 */
final class K8sObjects {

    static final KubernetesSerialization SERIALIZATION = new KubernetesSerialization();
    private static final Pattern DOCUMENT_SEPARATOR = Pattern.compile("(?m)^---[ \\t]*(#.*)?$");

    private final List<HasMetadata> objects;

    private K8sObjects(List<HasMetadata> objects) {
        this.objects = List.copyOf(objects);
    }

    /** Parses YAML (one or more documents, each named by {@code source} in failure messages). */
    static K8sObjects parse(Map<String, String> yamlBySource) {
        var parsed = new ArrayList<HasMetadata>();
        yamlBySource.forEach((source, yaml) -> {
            for (String document : DOCUMENT_SEPARATOR.split(yaml)) {
                if (document.lines().allMatch(l -> l.isBlank() || l.trim().startsWith("#"))) {
                    continue;
                }
                parsed.add(parseDocument(source, document));
            }
        });
        return new K8sObjects(parsed);
    }

    static HasMetadata parseDocument(String source, String document) {
        KubernetesResource resource = SERIALIZATION.unmarshal(document, KubernetesResource.class);
        assertThat(resource).as("%s: a Kubernetes object", source).isInstanceOf(HasMetadata.class);
        assertThat(resource).as("%s: a kind the fabric8 model knows (not a generic resource)", source)
                .isNotInstanceOf(GenericKubernetesResource.class);
        var object = (HasMetadata) resource;
        var unknown = new ArrayList<String>();
        collectUnknownFields(object, object.getKind(), unknown);
        assertThat(unknown).as("%s: fields unknown to the %s model (a typo?)", source, object.getKind()).isEmpty();
        return object;
    }

    /** Walks the model's fields; every {@code additionalProperties} map met on the way must be empty. */
    private static void collectUnknownFields(Object value, String path, List<String> unknown) {
        if (value == null || value instanceof String || value instanceof Number || value instanceof Boolean
                || value instanceof Enum<?>) {
            return;
        }
        if (value instanceof Collection<?> items) {
            int i = 0;
            for (Object item : items) {
                collectUnknownFields(item, path + "[" + i++ + "]", unknown);
            }
            return;
        }
        if (value instanceof Map<?, ?> map) {
            map.forEach((k, v) -> collectUnknownFields(v, path + "." + k, unknown));
            return;
        }
        if (!value.getClass().getName().startsWith("io.fabric8.")) {
            return;
        }
        for (Class<?> type = value.getClass(); type != Object.class; type = type.getSuperclass()) {
            for (Field field : type.getDeclaredFields()) {
                if (Modifier.isStatic(field.getModifiers())) {
                    continue;
                }
                field.setAccessible(true);
                Object fieldValue = read(field, value);
                if (field.getName().equals("additionalProperties") && fieldValue instanceof Map<?, ?> extra) {
                    extra.keySet().forEach(k -> unknown.add(path + "." + k));
                } else {
                    collectUnknownFields(fieldValue, path + "." + field.getName(), unknown);
                }
            }
        }
    }

    private static Object read(Field field, Object owner) {
        try {
            return field.get(owner);
        } catch (IllegalAccessException e) {
            throw new IllegalStateException(e);
        }
    }

    List<HasMetadata> all() {
        return objects;
    }

    <T extends HasMetadata> List<T> ofKind(Class<T> type) {
        return objects.stream().filter(type::isInstance).map(type::cast).toList();
    }

    <T extends HasMetadata> Optional<T> find(Class<T> type, String name) {
        return ofKind(type).stream().filter(o -> o.getMetadata().getName().equals(name)).findFirst();
    }

    <T extends HasMetadata> T get(Class<T> type, String name) {
        return find(type, name).orElseThrow(() -> new AssertionError(
                "no " + type.getSimpleName() + " named " + name + " among " + kindsAndNames()));
    }

    Deployment deployment(String component) {
        var found = ofKind(Deployment.class).stream()
                .filter(d -> component.equals(d.getMetadata().getLabels().get(K8sChecks.COMPONENT))).toList();
        assertThat(found).as("Deployments of component %s", component).hasSize(1);
        return found.get(0);
    }

    List<String> kindsAndNames() {
        return objects.stream().map(o -> o.getKind() + "/" + o.getMetadata().getName()).sorted().toList();
    }
}
