package dev.streamtrain.checkpoint;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

/** The port's contract on the filesystem adapter, in a fresh temporary folder per test. */
class FileCheckpointStoreTest extends CheckpointStoreContract {

    @TempDir
    Path root;

    private CheckpointStore store;

    @BeforeEach
    void openStore() {
        store = new FileCheckpointStore(root.resolve("checkpoints"));
    }

    @Override
    protected CheckpointStore store() {
        return store;
    }
}
