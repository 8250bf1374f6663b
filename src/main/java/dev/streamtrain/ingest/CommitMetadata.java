package dev.streamtrain.ingest;

import java.util.OptionalLong;

/**
 * The metadata streamtrain commits with a checkpoint's offsets, "streamtrain checkpoint step N": it tells a
 * later start which checkpoint the group's offset belongs to.
 */
final class CommitMetadata {

    private static final String PREFIX = "streamtrain checkpoint step ";

    private CommitMetadata() {
    }

    static String of(long step) {
        return PREFIX + step;
    }

    /** The checkpoint step of a commit that streamtrain made; empty for anyone else's. */
    static OptionalLong step(String metadata) {
        if (metadata == null || !metadata.startsWith(PREFIX)) {
            return OptionalLong.empty();
        }
        try {
            return OptionalLong.of(Long.parseLong(metadata.substring(PREFIX.length()).trim()));
        } catch (NumberFormatException e) {
            return OptionalLong.empty();
        }
    }
}
