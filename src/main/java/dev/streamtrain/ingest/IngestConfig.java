package dev.streamtrain.ingest;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

/** Limits on incoming records ({@code streamtrain.ingest.*}). */
@ConfigMapping(prefix = "streamtrain.ingest")
public interface IngestConfig {

    /** A record larger than this many bytes is dead-lettered as too-large. */
    @WithDefault("524288")
    int maxRecordBytes();

    /** A batch record with more rows than this is dead-lettered as too-large. */
    @WithDefault("4096")
    int maxExamplesPerRecord();
}
