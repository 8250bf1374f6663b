package dev.streamtrain.tuning;

import io.smallrye.config.SmallRyeConfig;
import io.smallrye.config.SmallRyeConfigBuilder;
import io.smallrye.config.common.MapBackedConfigSource;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The {@code streamtrain.tuner.*} keys: their defaults are the measured ones, and a bad value names its keys. */
class TunerConfigTest {

    @Test
    void defaultsOfTheKeysAreTheMeasuredDefaults() {
        assertThat(config(Map.of()).settings(5)).isEqualTo(TunerSettings.defaults(5));
    }

    @Test
    void keysSetTheSettings() {
        TunerSettings settings = config(Map.of("streamtrain.tuner.population", "8", "streamtrain.tuner.highest", "100",
                "streamtrain.tuner.early-steps", "0", "streamtrain.tuner.drift-spread", "1")).settings(5);
        assertThat(settings.population()).isEqualTo(8);
        assertThat(settings.highest()).isEqualTo(100);
        assertThat(settings.earlySteps()).isZero();
        assertThat(settings.respreadsOnDrift()).isFalse();
    }

    @Test
    void outOfRangeValueIsRefusedWithTheKeys() {
        TunerConfig config = config(Map.of("streamtrain.tuner.population", "1"));
        assertThatThrownBy(() -> config.settings(5)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("streamtrain.tuner.").hasMessageContaining("at least 2 members");
    }

    private static TunerConfig config(Map<String, String> values) {
        SmallRyeConfig config = new SmallRyeConfigBuilder().withMapping(TunerConfig.class)
                .withSources(new MapBackedConfigSource("test", values) {
                }).build();
        return config.getConfigMapping(TunerConfig.class);
    }
}
