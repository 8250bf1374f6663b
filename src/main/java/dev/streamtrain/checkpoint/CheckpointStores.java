package dev.streamtrain.checkpoint;

import java.nio.file.Path;


/** Opens the checkpoint store that the root's scheme names: {@code file:<path>} or {@code s3://bucket/prefix}. */
public final class CheckpointStores {

    private CheckpointStores() {
    }

    public static CheckpointStore open(CheckpointConfig config) {
        String root = config.root().trim();
        if (root.startsWith("file:")) {
            return new FileCheckpointStore(Path.of(root.substring("file:".length())));
        }
        if (root.startsWith("s3://")) {
            var s3 = config.s3();
            return S3CheckpointStore.open(root, s3.endpoint(), s3.region(), s3.pathStyle(),
                    s3.caFile().map(Path::of));
        }
        throw new IllegalArgumentException("streamtrain.checkpoint.root '" + root
                + "' is not a checkpoint root: use file:<path> or s3://bucket/prefix");
    }
}
