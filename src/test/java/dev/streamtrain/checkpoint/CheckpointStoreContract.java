package dev.streamtrain.checkpoint;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * What every {@link CheckpointStore} adapter promises, run against each of them: a subclass hands out a fresh,
 * empty store per test.
 */
abstract class CheckpointStoreContract {

    /** An empty store, new for each test. */
    protected abstract CheckpointStore store();

    static byte[] randomBytes(int size, long seed) {
        byte[] data = new byte[size];
        new Random(seed).nextBytes(data);
        return data;
    }

    @Test
    void binaryDataComesBackByteForByte() throws IOException {
        byte[] everyByte = new byte[256];
        for (int i = 0; i < everyByte.length; i++) {
            everyByte[i] = (byte) i;
        }
        byte[] large = randomBytes(5 * 1024 * 1024 + 17, 42);
        store().put("m/000000000001/bytes.bin", everyByte);
        store().put("m/000000000001/empty.bin", new byte[0]);
        store().put("m/000000000001/network.zip", large);
        assertThat(store().get("m/000000000001/bytes.bin")).hasValueSatisfying(b -> assertThat(b).isEqualTo(everyByte));
        assertThat(store().get("m/000000000001/empty.bin")).hasValueSatisfying(b -> assertThat(b).isEmpty());
        assertThat(store().get("m/000000000001/network.zip")).hasValueSatisfying(b -> assertThat(b).isEqualTo(large));
    }

    @Test
    void aPutReplacesWhatWasThere() throws IOException {
        store().put("m/000000000001/trainer.json", randomBytes(1000, 1));
        store().put("m/000000000001/trainer.json", new byte[] {7});
        assertThat(store().get("m/000000000001/trainer.json")).hasValueSatisfying(b -> assertThat(b).containsExactly(7));
        assertThat(store().list("m/")).containsExactly("m/000000000001/trainer.json");
    }

    @Test
    void aMissingKeyIsEmptyNotAnError() throws IOException {
        assertThat(store().get("m/000000000001/network.zip")).isEmpty();
        store().put("m/000000000001/manifest.json", new byte[] {1});
        assertThat(store().get("m/000000000001/network.zip")).isEmpty();
        assertThat(store().get("m/000000000002/manifest.json")).isEmpty();
    }

    @Test
    void listGivesTheKeysUnderAPrefixInLexicalOrder() throws IOException {
        List<String> keys = new ArrayList<>(List.of("digits/000000000010/network.zip", "digits/000000000002/network.zip",
                "digits/000000000002/manifest.json", "digits2/000000000001/network.zip", "digit", "other/x.bin"));
        Collections.shuffle(keys, new Random(3));
        for (String key : keys) {
            store().put(key, key.getBytes());
        }
        assertThat(store().list("digits/")).containsExactly("digits/000000000002/manifest.json",
                "digits/000000000002/network.zip", "digits/000000000010/network.zip");
        assertThat(store().list("digits2/")).containsExactly("digits2/000000000001/network.zip");
        assertThat(store().list("digit")).hasSize(5).isSorted().startsWith("digit").doesNotContain("other/x.bin");
        assertThat(store().list("")).hasSize(6).isSorted();
        assertThat(store().list("nothing/")).isEmpty();
    }

    @Test
    void deleteRemovesAndDeletingAMissingKeyIsFine() throws IOException {
        store().put("m/000000000001/network.zip", new byte[] {1});
        store().put("m/000000000001/manifest.json", new byte[] {2});
        store().delete("m/000000000001/network.zip");
        assertThat(store().get("m/000000000001/network.zip")).isEmpty();
        assertThat(store().list("m/")).containsExactly("m/000000000001/manifest.json");
        store().delete("m/000000000001/network.zip");
        store().delete("never/000000000009/written.bin");
        assertThat(store().get("m/000000000001/manifest.json")).hasValueSatisfying(b -> assertThat(b).containsExactly(2));
    }

    @Test
    void keysMayHaveNestedFolders() throws IOException {
        store().put("a/b/c/d/e.bin", new byte[] {5});
        store().put("a/b/f.bin", new byte[] {6});
        assertThat(store().list("a/b/c/")).containsExactly("a/b/c/d/e.bin");
        assertThat(store().list("a/")).containsExactly("a/b/c/d/e.bin", "a/b/f.bin");
        store().delete("a/b/c/d/e.bin");
        assertThat(store().list("a/")).containsExactly("a/b/f.bin");
        assertThat(store().get("a/b/f.bin")).hasValueSatisfying(b -> assertThat(b).containsExactly(6));
    }

    @Test
    void keysThatWouldLeaveTheRootAreRejected() {
        assertThatThrownBy(() -> store().put("../escape", new byte[1])).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> store().put("", new byte[1])).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> store().get("../escape")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void writersOnSeveralThreadsAllLand() throws Exception {
        List<String> expected = new ArrayList<>();
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<?>> writes = new ArrayList<>();
            for (int i = 0; i < 200; i++) {
                String key = "m/" + String.format("%012d", i) + "/network.zip";
                byte[] data = randomBytes(100 + i, i);
                expected.add(key);
                writes.add(pool.submit(() -> {
                    store().put(key, data);
                    return null;
                }));
            }
            for (Future<?> write : writes) {
                write.get(60, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(store().list("m/")).containsExactlyElementsOf(expected);
        assertThat(store().get("m/000000000123/network.zip")).hasValueSatisfying(b -> assertThat(b).isEqualTo(randomBytes(223, 123)));
    }

    @Test
    void describeSaysWhereTheStorePoints() {
        assertThat(store().describe()).isNotBlank();
    }
}
