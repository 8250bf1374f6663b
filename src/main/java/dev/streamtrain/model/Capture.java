package dev.streamtrain.model;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.util.ModelSerializer;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.zip.Deflater;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * A copy of a network's state taken between two steps ({@link Network#capture()}), owned by whoever
 * serialises it, off the training thread. {@link #serialize()} writes the same zip as DL4J's
 * {@code ModelSerializer.writeModel(graph, out, true)}, so DL4J (and {@link Network#restore}) read it back.
 */
public final class Capture implements AutoCloseable {

    private final ComputationGraphConfiguration configuration;
    private final INDArray parameters;
    private final INDArray updaterState;
    private final byte[] normalizer;

    Capture(ComputationGraphConfiguration configuration, INDArray parameters, INDArray updaterState,
            byte[] normalizer) {
        this.configuration = configuration;
        this.parameters = parameters;
        this.updaterState = updaterState;
        this.normalizer = normalizer;
    }

    public Network.State serialize() {
        var bytes = new ByteArrayOutputStream((int) Math.min(Integer.MAX_VALUE - 8,
                (parameters.length() + (updaterState == null ? 0 : updaterState.length())) * 4 + 65_536));
        try (var zip = new ZipOutputStream(bytes);
             var out = new DataOutputStream(new BufferedOutputStream(zip, 1 << 16))) {
            // trained float arrays hardly compress (a few per cent): storing them keeps the writer quick
            zip.setLevel(Deflater.NO_COMPRESSION);
            zip.putNextEntry(new ZipEntry(ModelSerializer.CONFIGURATION_JSON));
            out.write(configuration.toJson().getBytes(StandardCharsets.UTF_8));
            out.flush();
            zip.putNextEntry(new ZipEntry(ModelSerializer.COEFFICIENTS_BIN));
            Nd4j.write(parameters, out);
            out.flush();
            if (updaterState != null && updaterState.length() > 0) {
                zip.putNextEntry(new ZipEntry(ModelSerializer.UPDATER_BIN));
                Nd4j.write(updaterState, out);
                out.flush();
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot serialise the network", e);
        }
        return new Network.State(bytes.toByteArray(), normalizer.clone());
    }

    /** Bytes of native memory this capture holds until closed. */
    public long nativeBytes() {
        return (parameters.length() + (updaterState == null ? 0 : updaterState.length())) * 4;
    }

    @Override
    public void close() {
        parameters.close();
        if (updaterState != null) {
            updaterState.close();
        }
    }
}
