package dev.streamtrain.checkpoint;

import java.io.IOException;
import java.util.List;
import java.util.Optional;

/**
 * Where checkpoints live: a flat namespace of keys ("digits/000000001234/network.zip") holding bytes, as in
 * object storage. Adapters: {@link FileCheckpointStore} ({@code file:} roots), {@link S3CheckpointStore}
 * ({@code s3:} roots). Called on the checkpoint writer's thread and at start, never on the training thread;
 * implementations must be thread-safe.
 */
public interface CheckpointStore extends AutoCloseable {

    /** Stores the bytes under the key, replacing what was there; a reader never sees a half-written object. */
    void put(String key, byte[] data) throws IOException;

    /** The bytes under the key, or empty when there is no such object. */
    Optional<byte[]> get(String key) throws IOException;

    /** The keys that start with the prefix, in lexical order. */
    List<String> list(String prefix) throws IOException;

    /** Removes the object; removing a missing key is not an error. */
    void delete(String key) throws IOException;

    /** Where the store points, for logs ("file:./data/checkpoints", "s3://bucket/prefix"). */
    String describe();

    /** Releases clients and connections, at shutdown; a store that holds none has nothing to do. */
    @Override
    default void close() {
    }
}
