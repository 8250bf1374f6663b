package dev.streamtrain.ingest;

/**
 * Decides which records are held out: scored, never trained on. The choice is a stable hash of the record key
 * (of the value when there is no key), so an example keeps its side for good: replayed, re-sent or read again
 * after a restart, a held-out example is never trained on. The hash is 64-bit FNV-1a followed by the SplitMix64
 * finaliser (so that keys differing in one byte land far apart); a record is held out when the hash, read as
 * a number in [0, 1), is below the fraction. Independent of Kafka's partitioner (murmur2), so the held-out
 * share of every partition is the same.
 */
public final class HoldoutSplit {

    private static final long FNV_OFFSET = 0xcbf29ce484222325L;
    private static final long FNV_PRIME = 0x100000001b3L;

    private final double fraction;

    public HoldoutSplit(double fraction) {
        this.fraction = fraction;
    }

    public boolean heldOut(byte[] key, byte[] value) {
        if (fraction <= 0) {
            return false;
        }
        byte[] identity = key != null && key.length > 0 ? key : value;
        return unit(hash(identity == null ? new byte[0] : identity)) < fraction;
    }

    static long hash(byte[] bytes) {
        long h = FNV_OFFSET;
        for (byte b : bytes) {
            h ^= b & 0xff;
            h *= FNV_PRIME;
        }
        h ^= h >>> 30;
        h *= 0xbf58476d1ce4e5b9L;
        h ^= h >>> 27;
        h *= 0x94d049bb133111ebL;
        h ^= h >>> 31;
        return h;
    }

    static double unit(long hash) {
        return (hash >>> 11) * 0x1.0p-53;
    }
}
