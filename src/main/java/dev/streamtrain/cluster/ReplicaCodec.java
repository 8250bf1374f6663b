package dev.streamtrain.cluster;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import dev.streamtrain.model.Network;
import dev.streamtrain.model.OnlineNormalizer;

/**
 * A replica as bytes, for the sync topic and the store: a magic number and version, the counts, the iteration, the
 * normaliser's statistics, then the parameters and the optimizer state as little-endian fp32. Reading checks every
 * length against what is there before allocating: a truncated or forged payload is refused with a message, never
 * allocated at the size it claims.
 */
public final class ReplicaCodec {

    private static final int MAGIC = 0x53545250; // "STRP"
    private static final int VERSION = 1;
    private static final int HEADER = 4 * 6;

    private ReplicaCodec() {
    }

    public static byte[] encode(Network.Replica replica) {
        byte[] normalizer = replica.normalizer().toBytes();
        int parameters = replica.parameters().length;
        int state = replica.optimizerState().length;
        ByteBuffer out = ByteBuffer.allocate(HEADER + normalizer.length + 4 * (parameters + state))
                .order(ByteOrder.LITTLE_ENDIAN);
        out.putInt(MAGIC).putInt(VERSION).putInt(parameters).putInt(state).putInt(replica.iteration())
                .putInt(normalizer.length).put(normalizer);
        out.asFloatBuffer().put(replica.parameters()).put(replica.optimizerState());
        return out.array();
    }

    /** The replica in {@code bytes}; {@code features} is the model's input count, which the normaliser must have. */
    public static Network.Replica decode(byte[] bytes, int features) {
        if (bytes.length < HEADER) {
            throw new InvalidReplicaException("a replica of " + bytes.length + " bytes is shorter than its header");
        }
        ByteBuffer in = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        if (in.getInt() != MAGIC) {
            throw new InvalidReplicaException("not a replica (wrong magic number)");
        }
        int version = in.getInt();
        if (version != VERSION) {
            throw new InvalidReplicaException("a replica of format version " + version + "; this version reads " + VERSION);
        }
        int parameters = in.getInt();
        int state = in.getInt();
        int iteration = in.getInt();
        int normalizerBytes = in.getInt();
        long expected = (long) HEADER + normalizerBytes + 4L * parameters + 4L * state;
        if (parameters < 0 || state < 0 || iteration < 0 || normalizerBytes < 0 || expected != bytes.length) {
            throw new InvalidReplicaException("a replica that claims " + parameters + " parameters, " + state
                    + " optimizer values and " + normalizerBytes + " normaliser bytes in " + bytes.length + " bytes");
        }
        byte[] normalizer = new byte[normalizerBytes];
        in.get(normalizer);
        OnlineNormalizer statistics;
        try {
            statistics = OnlineNormalizer.fromBytes(normalizer, features);
        } catch (RuntimeException e) {
            throw new InvalidReplicaException("a replica's normaliser does not fit the model: " + e.getMessage());
        }
        float[] p = new float[parameters];
        float[] s = new float[state];
        in.asFloatBuffer().get(p).get(s);
        return new Network.Replica(p, s, iteration, statistics);
    }

    /** A payload that is not a replica of this model. */
    public static final class InvalidReplicaException extends IllegalArgumentException {
        InvalidReplicaException(String message) {
            super(message);
        }
    }
}
