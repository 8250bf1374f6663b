package dev.streamtrain.ops;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithName;
import io.smallrye.config.WithParentName;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;

import java.io.IOException;
import java.io.Reader;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The configuration keys the service really has, read from its code rather than from its documentation: every
 * property of the {@code @ConfigMapping} interfaces under src/main/java (named as SmallRye names them: kebab-case,
 * {@code @WithName}, nested groups), every {@code @ConfigProperty(name = ...)}, and the keys of
 * application.properties. An environment variable configures a key when it is the key upper-cased with every
 * character other than a letter or digit turned into '_' (SmallRye's environment source).
 *
 * <p>{@code KAFKA_*} variables are also Kafka client settings: Quarkus hands every {@code kafka.*} property to
 * the Kafka clients of all channels, reading {@code KAFKA_X_Y} as the client key {@code x.y}. Such a variable
 * is known when that key is one of the Kafka client's own configuration names (consumer, producer, admin
 * client: they include the SASL and SSL keys), so {@code KAFKA_SASL_MECHANISM} passes and
 * {@code KAFKA_SASL_MECHANISMS} does not.
 */
final class ComposeConfigKeys {

    private static final Pattern MAPPING = Pattern.compile("@ConfigMapping\\s*\\(\\s*prefix\\s*=");
    private static final Pattern PROPERTY = Pattern.compile("@ConfigProperty\\s*\\(\\s*name\\s*=\\s*\"([^\"]+)\"");

    /** The prefixes of the variables that configure the service (others, like AWS_*, are read by libraries). */
    static final List<String> CONFIG_PREFIXES = List.of("STREAMTRAIN_", "KAFKA_", "MP_MESSAGING_");

    private ComposeConfigKeys() {
    }

    /** The Kafka client's configuration names (consumer, producer and admin client, with SASL and SSL). */
    static Set<String> kafkaClientKeys() {
        Set<String> keys = new TreeSet<>(ConsumerConfig.configNames());
        keys.addAll(ProducerConfig.configNames());
        keys.addAll(AdminClientConfig.configNames());
        return keys;
    }

    /**
     * The variables among {@code variables} (each named "where: VARIABLE" or just "VARIABLE") that have one of the
     * configuration prefixes but configure neither a key of the service nor a Kafka client key.
     */
    static List<String> unknown(Collection<String> variables, Set<String> keys) {
        Set<String> kafka = kafkaClientKeys();
        List<String> unknown = new ArrayList<>();
        for (String entry : variables) {
            String variable = entry.substring(entry.lastIndexOf(' ') + 1);
            if (CONFIG_PREFIXES.stream().noneMatch(variable::startsWith)) {
                continue;
            }
            boolean known = keys.stream().anyMatch(k -> configures(variable, k))
                    || variable.startsWith("KAFKA_") && kafka.contains(kafkaClientKey(variable));
            if (!known) {
                unknown.add(entry);
            }
        }
        return unknown;
    }

    /** The Kafka client key Quarkus reads {@code KAFKA_X_Y} as: x.y. */
    static String kafkaClientKey(String variable) {
        return variable.substring("KAFKA_".length()).toLowerCase(Locale.ROOT).replace('_', '.');
    }

    private static boolean configures(String variable, String key) {
        return key.endsWith(".*") ? variable.startsWith(environmentName(key.substring(0, key.length() - 2)) + "_")
                : variable.equals(environmentName(key));
    }

    static Set<String> of(Path root) throws IOException {
        Set<String> keys = new TreeSet<>();
        Path sources = root.resolve("src/main/java");
        try (Stream<Path> files = Files.walk(sources)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".java")).toList()) {
                String text = Files.readString(file);
                Matcher property = PROPERTY.matcher(text);
                while (property.find()) {
                    keys.add(property.group(1));
                }
                if (MAPPING.matcher(text).find()) {
                    String name = sources.relativize(file).toString().replace('\\', '/').replace('/', '.')
                            .replaceAll("\\.java$", "");
                    keys.addAll(mappingKeys(load(name)));
                }
            }
        }
        Properties properties = new Properties();
        try (Reader reader = Files.newBufferedReader(root.resolve("src/main/resources/application.properties"))) {
            properties.load(reader);
        }
        properties.stringPropertyNames().stream().filter(k -> !k.startsWith("%")).forEach(keys::add);
        return keys;
    }

    /** The environment variable name SmallRye matches a key with. */
    static String environmentName(String key) {
        return key.toUpperCase(java.util.Locale.ROOT).replaceAll("[^A-Z0-9]", "_");
    }

    private static Class<?> load(String name) {
        try {
            return Class.forName(name, false, ComposeConfigKeys.class.getClassLoader());
        } catch (ClassNotFoundException e) {
            throw new IllegalStateException("cannot load the config mapping " + name, e);
        }
    }

    static Set<String> mappingKeys(Class<?> mapping) {
        Set<String> keys = new TreeSet<>();
        collect(mapping.getAnnotation(ConfigMapping.class).prefix(), mapping, keys);
        return keys;
    }

    private static void collect(String prefix, Class<?> group, Set<String> keys) {
        for (Method method : group.getMethods()) {
            if (method.isDefault() || Modifier.isStatic(method.getModifiers()) || method.getParameterCount() > 0) {
                continue;
            }
            String name = method.isAnnotationPresent(WithParentName.class) ? prefix
                    : prefix + "." + (method.isAnnotationPresent(WithName.class)
                    ? method.getAnnotation(WithName.class).value() : kebab(method.getName()));
            Type type = method.getGenericReturnType();
            Class<?> raw = method.getReturnType();
            if (raw == Optional.class && type instanceof ParameterizedType p && p.getActualTypeArguments()[0] instanceof Class<?> c) {
                raw = c;
            }
            if (Map.class.isAssignableFrom(raw)) {
                keys.add(name + ".*");
            } else if (raw.isInterface() && raw.getName().startsWith("dev.streamtrain.")) {
                collect(name, raw, keys);
            } else {
                keys.add(name);
            }
        }
    }

    private static String kebab(String camel) {
        return camel.replaceAll("([a-z0-9])([A-Z])", "$1-$2").toLowerCase(java.util.Locale.ROOT);
    }
}
