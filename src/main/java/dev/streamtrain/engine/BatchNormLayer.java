package dev.streamtrain.engine;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.broadcast.BroadcastAddOp;
import org.nd4j.linalg.api.ops.impl.broadcast.BroadcastDivOp;
import org.nd4j.linalg.api.ops.impl.broadcast.BroadcastMulOp;
import org.nd4j.linalg.api.ops.impl.broadcast.BroadcastSubOp;
import org.nd4j.linalg.api.ops.impl.summarystats.Variance;
import org.nd4j.linalg.api.ops.impl.transforms.pairwise.arithmetic.DivOp;
import org.nd4j.linalg.api.ops.impl.transforms.pairwise.arithmetic.MulOp;
import org.nd4j.linalg.api.ops.impl.transforms.pairwise.arithmetic.SubOp;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * One batch-normalisation layer of a {@link LeanNetwork}, computed as DL4J 1.0.0-M2.1's
 * {@code org.deeplearning4j.nn.layers.normalization.BatchNormalization} computes feed-forward (rank 2) input without
 * a helper (DL4J creates its oneDNN helper only when {@code org.eclipse.deeplearning4j.helpers.disable} is false), op
 * for op, so the rounding is DL4J's:
 * <ul>
 * <li>training: the batch's mean and biased variance per unit, std = sqrt(var + eps), x̂ = (x − mean) / std,
 * out = gamma·x̂ + beta;</li>
 * <li>inference: the running mean and var = (10^log10std)² (or the running variance), std = sqrt(var + eps), the
 * same formula;</li>
 * <li>backward: DL4J's formulas for dL/dgamma, dL/dbeta and dL/dx through the batch statistics (summed over the rows,
 * like every gradient of the step);</li>
 * <li>the running statistics: DL4J writes (mean − batchMean)·(1 − decay) as the mean's "gradient" and
 * log10(std / std'), std' = sqrt(decay·std² + (1 − decay)·batchVar), as log10std's (or (var − batchVar)·(1 − decay)),
 * which its NoOp updater leaves as they are and the step subtracts: the mean becomes decay·mean + (1 − decay)·batchMean
 * and the spread log10(std'). The batch variance here is without eps. They are not divided by the batch size.</li>
 * </ul>
 * The vectors are allocated once; the [rows, units] arrays are the batch size's ({@link BatchBuffers}).
 */
final class BatchNormLayer implements AutoCloseable {

    private static final double ONE_ON_2LOGE_10 = 1.0 / (2.0 * Math.log(10.0));

    private final BatchNormSettings settings;
    private final INDArray gamma;
    private final INDArray beta;
    private final INDArray mean;
    /** log10(std) or the variance, as the settings say. */
    private final INDArray spread;
    private final INDArray gammaGradient;
    private final INDArray betaGradient;
    private final INDArray meanGradient;
    private final INDArray spreadGradient;
    /** Per unit, rank 1: the last training batch's mean, variance (without eps) and std; working vectors. */
    private final INDArray batchMean;
    private final INDArray batchVariance;
    private final INDArray std;
    private final INDArray variance;
    private final INDArray work;
    private final INDArray dLdVariance;
    private final INDArray dLdMean;
    private final INDArray dxmu2;

    /** The views are rank 1 [units] of the flat parameters and gradient, in DL4J's order (gamma, beta, mean, spread). */
    BatchNormLayer(BatchNormSettings settings, INDArray gamma, INDArray beta, INDArray mean, INDArray spread,
                   INDArray gammaGradient, INDArray betaGradient, INDArray meanGradient, INDArray spreadGradient) {
        this.settings = settings;
        this.gamma = gamma;
        this.beta = beta;
        this.mean = mean;
        this.spread = spread;
        this.gammaGradient = gammaGradient;
        this.betaGradient = betaGradient;
        this.meanGradient = meanGradient;
        this.spreadGradient = spreadGradient;
        long units = gamma.length();
        this.batchMean = vector(units);
        this.batchVariance = vector(units);
        this.std = vector(units);
        this.variance = vector(units);
        this.work = vector(units);
        this.dLdVariance = vector(units);
        this.dLdMean = vector(units);
        this.dxmu2 = vector(units);
    }

    private static INDArray vector(long units) {
        return Nd4j.create(DataType.FLOAT, units);
    }

    /** DL4J's {@code BatchNormalizationParamInitializer}: gamma, beta as configured, mean 0, log10std 0 (or var 1). */
    void initialise() {
        gamma.assign(settings.gammaInit());
        beta.assign(settings.betaInit());
        mean.assign(0);
        spread.assign(settings.logStd() ? 0 : 1);
    }

    /**
     * {@code out = gamma · (x − mean) / std + beta} of {@code x} [rows, units]: with the batch's statistics in
     * training (kept for the backward pass and the running averages), else the running ones. {@code centred} and
     * {@code scaled} receive x − mean and x̂.
     */
    void forward(INDArray x, INDArray centred, INDArray scaled, INDArray out, boolean training) {
        INDArray m;
        if (training) {
            x.mean(batchMean, 0);
            Nd4j.getExecutioner().exec(new Variance(x, batchVariance, false, 0));
            std.assign(batchVariance).addi(settings.eps());
            Transforms.sqrt(std, false);
            m = batchMean;
        } else {
            runningVariance(variance);
            std.assign(variance).addi(settings.eps());
            Transforms.sqrt(std, false);
            m = mean;
        }
        Nd4j.getExecutioner().exec(new BroadcastSubOp(x, m, centred, 1));
        Nd4j.getExecutioner().exec(new BroadcastDivOp(centred, std, scaled, 1));
        Nd4j.getExecutioner().exec(new BroadcastMulOp(scaled, gamma, out, 1));
        Nd4j.getExecutioner().exec(new BroadcastAddOp(out, beta, out, 1));
    }

    /** The running variance into {@code into}: (10^log10std)², or the variance itself. */
    private void runningVariance(INDArray into) {
        if (settings.logStd()) {
            into.assign(10.0);
            Transforms.pow(into, spread, false);
            into.muli(into);
        } else {
            into.assign(spread);
        }
    }

    /**
     * Backward through the last training pass, from {@code delta} = dL/dout [rows, units] (summed over rows): writes
     * dL/dgamma and dL/dbeta into the gradient, and dL/dx into {@code inputError} unless it is null (the network's
     * input needs none). {@code centred} is consumed; {@code scratch} is a [rows, units] working array.
     */
    void backward(INDArray delta, INDArray centred, INDArray scaled, INDArray scratch, INDArray inputError) {
        long rows = delta.rows();
        delta.sum(betaGradient, 0);
        Nd4j.getExecutioner().exec(new MulOp(delta, scaled, scratch));
        scratch.sum(gammaGradient, 0);
        if (inputError == null) {
            return;
        }
        INDArray dxhat = inputError;
        Nd4j.getExecutioner().exec(new BroadcastMulOp(delta, gamma, dxhat, 1));
        Nd4j.getExecutioner().exec(new MulOp(dxhat, centred, scratch));
        scratch.sum(dLdVariance, 0);
        dLdVariance.muli(-0.5);
        work.assign(std);
        Transforms.pow(work, -3.0, false);
        dLdVariance.muli(work);
        dxhat.sum(dLdMean, 0);
        dLdMean.divi(std).negi();
        centred.sum(dxmu2, 0);
        dxmu2.muli(-2.0 / rows).muli(dLdVariance);
        dLdMean.addi(dxmu2);
        // dL/dx = dxhat / std + (x − mean) · dLdVar · 2/B + dLdMean / B, in DL4J's order of operations
        Nd4j.getExecutioner().exec(new BroadcastDivOp(dxhat, std, dxhat, 1));
        dLdVariance.muli(2.0 / rows);
        Nd4j.getExecutioner().exec(new BroadcastMulOp(centred, dLdVariance, centred, 1));
        dxhat.addi(centred);
        dLdMean.muli(1.0 / rows);
        Nd4j.getExecutioner().exec(new BroadcastAddOp(dxhat, dLdMean, dxhat, 1));
    }

    /**
     * Writes the running statistics' step of the last training pass into their gradient views (after the division
     * by the batch size, which DL4J spares them): subtracting it moves them to their new running averages.
     */
    void statisticsStep() {
        double decay = settings.decay();
        Nd4j.getExecutioner().exec(new SubOp(mean, batchMean, meanGradient));
        meanGradient.muli(1.0 - decay);
        if (settings.logStd()) {
            runningVariance(variance);
            work.assign(variance).muli(decay);
            dLdMean.assign(batchVariance).muli(1.0 - decay);
            work.addi(dLdMean);
            Nd4j.getExecutioner().exec(new DivOp(variance, work, spreadGradient));
            Transforms.log(spreadGradient, false);
            spreadGradient.muli(ONE_ON_2LOGE_10);
        } else {
            Nd4j.getExecutioner().exec(new SubOp(spread, batchVariance, spreadGradient));
            spreadGradient.muli(1.0 - decay);
        }
    }

    @Override
    public void close() {
        for (INDArray vector : new INDArray[] {batchMean, batchVariance, std, variance, work, dLdVariance, dLdMean,
            dxmu2}) {
            vector.close();
        }
    }
}
