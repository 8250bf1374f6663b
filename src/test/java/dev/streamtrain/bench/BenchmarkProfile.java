package dev.streamtrain.bench;

import io.quarkus.test.junit.QuarkusTestProfile;

import java.util.Map;

/**
 * Runs the service on the spec named by the system property {@code bench.spec}: digits (the bundled spec),
 * or S, M, W (the reference models of the performance notes; W is the wide spec).
 */
public class BenchmarkProfile implements QuarkusTestProfile {

    static String specName() {
        return System.getProperty("bench.spec", "digits");
    }

    static String specPath() {
        return specName().equals("digits") ? "" : "src/test/resources/bench/" + specName() + ".yaml";
    }

    @Override
    public Map<String, String> getConfigOverrides() {
        return specPath().isEmpty() ? Map.of() : Map.of("streamtrain.model.spec", specPath());
    }

    @Override
    public String getConfigProfile() {
        return "test";
    }
}
