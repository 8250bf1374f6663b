package dev.streamtrain.model;

import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.nativeblas.NativeOpsHolder;

import java.util.Optional;

import dev.streamtrain.model.spec.ModelSpec;

/**
 * Thread counts of ND4J's native ops (OpenMP) and of BLAS. On few cores DL4J's defaults lose 2-4x: libnd4j's
 * OpenMP threads spin while OpenBLAS runs its own. Small models train fastest on one thread; wide ones use
 * every core the process may use but one, which ingest and serving need (availableProcessors honours
 * container CPU limits, unlike ND4J's default).
 */
public final class ComputeSettings {

    /** Below this many floating-point operations per step, extra threads cost more than they give. */
    static final double SINGLE_THREAD_FLOPS = 1e8;

    private ComputeSettings() {
    }

    static final String MAX_PHYSICAL_BYTES = "org.bytedeco.javacpp.maxPhysicalBytes";

    /**
     * Turns off JavaCPP's check of the process's physical memory, which reads /proc on every native allocation
     * and cost 40 % of a small model's step (ND4J allocates on every op). Native memory stays bounded by
     * JavaCPP's own count ({@code org.bytedeco.javacpp.maxBytes}, by default the maximum heap). Must run before
     * ND4J loads; an explicit setting wins.
     */
    public static void configureNativeMemoryAccounting() {
        if (System.getProperty(MAX_PHYSICAL_BYTES) == null) {
            System.setProperty(MAX_PHYSICAL_BYTES, "0");
        }
    }

    /** Applies the configured thread count, or chooses one for the spec; returns the count in force. */
    public static int apply(Optional<Integer> configured, ModelSpec spec) {
        int threads = resolve(configured, spec);
        // ND4J's backend must be loaded before its native ops can be reached
        Nd4j.getEnvironment().setMaxThreads(threads);
        NativeOpsHolder.getInstance().getDeviceNativeOps().setOmpNumThreads(threads);
        Nd4j.factory().blas().setMaxThreads(threads);
        Nd4j.getEnvironment().setMaxMasterThreads(threads);
        return threads;
    }

    /** The configured thread count, or the one chosen for the spec on the cores this process may use. */
    public static int resolve(Optional<Integer> configured, ModelSpec spec) {
        return configured.orElseGet(() -> choose(spec, Runtime.getRuntime().availableProcessors()));
    }

    static int choose(ModelSpec spec, int cores) {
        // one core stays with ingest (decoding, the Kafka client) and serving: measured on 2 cores, the wide
        // reference model trained end to end 3.9k examples/s on one thread and 3.4k on two
        return estimatedStepFlops(spec) < SINGLE_THREAD_FLOPS ? 1 : Math.max(1, cores - 1);
    }

    /** About 6 flops per weight per example (forward, backward to inputs, backward to weights). */
    static double estimatedStepFlops(ModelSpec spec) {
        long weights = 0;
        int width = spec.inputs();
        for (ModelSpec.LayerSpec layer : spec.layers()) {
            if (layer instanceof ModelSpec.Dense d) {
                weights += (long) width * d.units();
                width = d.units();
            } else if (layer instanceof ModelSpec.Residual r) {
                weights += (long) width * r.units() + (long) r.depth() * r.units() * r.units();
                width = r.units();
            }
        }
        weights += (long) width * spec.outputs();
        return 6.0 * weights * spec.batchSize();
    }
}
