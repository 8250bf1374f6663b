package dev.streamtrain.engine;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/**
 * The work every engine of {@code PyTorchPeerBenchmarkTest} does, written to a file for the PyTorch peer in its own
 * JVM so that all of them see the same numbers: one pass over the data set in a seeded order (the learning check)
 * and a ring of seeded random batches (the timed windows). Each batch is {@code {features, one-hot labels}},
 * row-major float32, as {@link ReferenceRun#batch} makes them.
 */
record PeerWorkload(int inputs, int classes, int batch, List<float[][]> pass, List<float[][]> ring) {

    private static final int RING = 64;

    /** Full batches of one seeded pass over {@code data}, and {@value #RING} random batches for the windows. */
    static PeerWorkload of(ReferenceRun data, int batch) {
        int inputs = data.features()[0].length;
        int classes = data.labels()[0].length;
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < data.features().length; i++) {
            order.add(i);
        }
        Collections.shuffle(order, new Random(7));
        List<float[][]> pass = new ArrayList<>();
        for (int start = 0; start + batch <= order.size(); start += batch) {
            float[] x = new float[batch * inputs];
            float[] y = new float[batch * classes];
            for (int r = 0; r < batch; r++) {
                int row = order.get(start + r);
                System.arraycopy(data.features()[row], 0, x, r * inputs, inputs);
                System.arraycopy(data.labels()[row], 0, y, r * classes, classes);
            }
            pass.add(new float[][] {x, y});
        }
        List<float[][]> ring = new ArrayList<>();
        for (int i = 0; i < RING; i++) {
            ring.add(data.batch(i, batch));
        }
        return new PeerWorkload(inputs, classes, batch, pass, ring);
    }

    void write(Path file) throws IOException {
        try (DataOutputStream out = new DataOutputStream(new BufferedOutputStream(Files.newOutputStream(file)))) {
            out.writeInt(inputs);
            out.writeInt(classes);
            out.writeInt(batch);
            for (List<float[][]> batches : List.of(pass, ring)) {
                out.writeInt(batches.size());
                for (float[][] xy : batches) {
                    for (float[] values : xy) {
                        for (float value : values) {
                            out.writeFloat(value);
                        }
                    }
                }
            }
        }
    }

    static PeerWorkload read(Path file) throws IOException {
        try (DataInputStream in = new DataInputStream(new BufferedInputStream(Files.newInputStream(file)))) {
            int inputs = in.readInt();
            int classes = in.readInt();
            int batch = in.readInt();
            List<List<float[][]>> parts = new ArrayList<>();
            for (int part = 0; part < 2; part++) {
                int count = in.readInt();
                List<float[][]> batches = new ArrayList<>(count);
                for (int b = 0; b < count; b++) {
                    float[][] xy = {new float[batch * inputs], new float[batch * classes]};
                    for (float[] values : xy) {
                        for (int i = 0; i < values.length; i++) {
                            values[i] = in.readFloat();
                        }
                    }
                    batches.add(xy);
                }
                parts.add(batches);
            }
            return new PeerWorkload(inputs, classes, batch, parts.get(0), parts.get(1));
        }
    }

    /** The data set with every row repeated {@code times} side by side: W's 512 inputs from digits' 64. */
    static ReferenceRun tiled(ReferenceRun data, int times) {
        float[][] x = new float[data.features().length][];
        for (int i = 0; i < x.length; i++) {
            float[] row = data.features()[i];
            x[i] = new float[row.length * times];
            for (int t = 0; t < times; t++) {
                System.arraycopy(row, 0, x[i], t * row.length, row.length);
            }
        }
        return new ReferenceRun(x, data.labels());
    }
}
