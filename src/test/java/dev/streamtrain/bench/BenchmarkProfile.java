package dev.streamtrain.bench;

import io.quarkus.test.junit.QuarkusTestProfile;

import java.util.Map;

/**
 * Runs the service on the spec named by the system property {@code bench.spec}: digits (the bundled spec),
 * or S, M, W (the reference models of the performance notes; W is the wide spec); {@code bench.threads}
 * overrides the compute threads.
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
        Map<String, String> overrides = new java.util.HashMap<>();
        // the test profile checkpoints every 300 ms; measure with the production default
        overrides.put("streamtrain.checkpoint.interval", "60s");
        if (!specPath().isEmpty()) {
            overrides.put("streamtrain.model.spec", specPath());
        }
        String threads = System.getProperty("bench.threads", "");
        if (!threads.isBlank()) {
            overrides.put("streamtrain.compute.threads", threads);
        }
        return overrides;
    }

    @Override
    public String getConfigProfile() {
        return "test";
    }
}
