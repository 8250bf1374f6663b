package dev.streamtrain.serving;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;

/** Which REST paths the serving token guards: every V2 route but the health ones; nothing outside /v2. */
class ServingAuthFilterTest {

    @ParameterizedTest
    @ValueSource(strings = {"/v2", "/v2/", "/v2/models/digits", "/v2/models/digits/infer", "/v2/models/digits/explain",
        "/v2/models/digits/versions/12/infer", "/v2/models/digits/versions/12", "/v2/models/ready",
        "/v2/models/ready/infer", "/v2/health/other", "/v2/models/digits/ready/infer"})
    void guardsTheRoutesThatAnswerWithTheModel(String path) {
        assertThat(ServingAuthFilter.guarded(path)).isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = {"/v2/health/live", "/v2/health/ready", "/v2/models/digits/ready",
        "/v2/models/digits/versions/12/ready", "/q/health/ready", "/q/metrics", "/v1/training/status", "/v2x"})
    void leavesHealthMetricsAndOtherRoutesOpen(String path) {
        assertThat(ServingAuthFilter.guarded(path)).isFalse();
    }
}
