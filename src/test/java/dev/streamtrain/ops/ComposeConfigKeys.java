package dev.streamtrain.ops;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithName;
import io.smallrye.config.WithParentName;

import java.io.IOException;
import java.io.Reader;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.nio.file.Files;
import java.nio.file.Path;
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
 */
final class ComposeConfigKeys {

    private static final Pattern MAPPING = Pattern.compile("@ConfigMapping\\s*\\(\\s*prefix\\s*=");
    private static final Pattern PROPERTY = Pattern.compile("@ConfigProperty\\s*\\(\\s*name\\s*=\\s*\"([^\"]+)\"");

    private ComposeConfigKeys() {
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
