package dev.streamtrain.engine;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.transforms.custom.LayerNorm;
import org.nd4j.linalg.api.ops.impl.transforms.custom.LayerNormBp;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.learning.GradientUpdater;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.regularization.Regularization.ApplyStep;
import org.nd4j.linalg.schedule.ISchedule;

import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import dev.streamtrain.model.spec.ModelSpec;

/**
 * A stack of dense layers (with layer norm, input dropout and residual skips, see {@link DenseShape}) trained without
 * DL4J's per-layer framework: one flat parameter buffer and one flat gradient buffer with per-layer views, matrix products by ND4J's BLAS into arrays preallocated per batch size,
 * activations (softmax included) by ND4J's own activation functions in place, the loss in plain loops, and ND4J's own
 * updater applied once to the whole flat gradient, between the clipping and regularisation passes DL4J makes around
 * it. The arithmetic is DL4J's (same layout, same kernels, same updater, same order of the passes), so a DL4J graph
 * built from the same spec with the same parameters takes the same steps.
 * On small plain layers the bias, ReLU, identity and softmax, the bias gradients and plain Adam run as
 * {@link FloatLoops} over the same buffers instead of ND4J ops (the products stay with BLAS).
 * Owned by one thread; {@link #close()} frees its native memory.
 */
public final class LeanNetwork implements AutoCloseable {

    /**
     * The epoch the schedules see: DL4J's graph advances its epoch count only in {@code fit(iterator)}, never when
     * fitting one batch at a time as the trainer does, so every step of a DL4J-trained model saw epoch 0.
     */
    private static final int EPOCH = 0;

    private final EnginePlan plan;
    private final List<DenseShape> layers;
    private final INDArray parameters;
    private final INDArray gradients;
    private final INDArray updaterState;
    private final GradientUpdater<?> updater;
    /**
     * DL4J's updater blocks: one updater instance per run of trained parameters over its gradient and state views
     * (one block over everything unless batch norm's running statistics, with their NoOp updater, split the runs).
     */
    private final GradientUpdater<?>[] blockUpdaters;
    private final INDArray[] blockGradients;
    /** The trained runs' gradient views, which the global norm measures; null when that is the whole gradient. */
    private final INDArray[] trainedGradients;
    /** Per layer: the batch-norm layer, or null for a dense layer. */
    private final BatchNormLayer[] batchNorms;
    /** Per layer: the gradient view per-layer clipping takes (DL4J's layer gradient view: batch norm's all four). */
    private final INDArray[] clipGradients;
    private final INDArray[] weights;
    private final INDArray[] biases;
    private final INDArray[] weightGradients;
    private final INDArray[] biasGradients;
    /** Per layer: the layer-norm gain and its gradient, rank-1 views; null for a layer without layer norm. */
    private final INDArray[] gains;
    private final INDArray[] gainGradients;
    /** Per layer: its weights' and bias's gradient, one contiguous view (what per-layer clipping measures). */
    private final INDArray[] layerGradients;
    /** Per layer: its weights and bias, one contiguous view (what the update ratio divides by). */
    private final INDArray[] layerParameters;
    /** Per layer, of the last sampled step: the mean gradient's L2 norm before clipping, ‖update‖ / ‖parameters‖. */
    private final double[] gradientNorms;
    private final double[] updateRatios;
    private long backwardDoneNanos;
    private long updateDoneNanos;
    /** Per layer: the layer closing the residual block whose skip is this layer's input, or -1. */
    private final int[] skipReaders;
    private final OutputLoss loss;
    private final Penalties penalties = new Penalties();
    private final Map<Integer, BatchBuffers> buffersByRows = new HashMap<>();
    private BatchBuffers buffers;
    private int iteration;
    /** Per layer: what {@link FloatLoops} computes of its bias and activation, {@code OTHER} for ND4J's ops. */
    private final FloatLoops.Kind[] loopKinds;
    private final FloatBuffer parameterData;
    private final FloatBuffer gradientData;
    /** Adam's step by {@link FloatLoops#adam} (plain Adam on a small enough network), else ND4J's updater. */
    private final boolean loopAdam;
    /** The rows of the last {@link #outputForFit}, whose forward pass {@link #fitOutput} steps from; 0: none. */
    private int forwardedRows;

    private LeanNetwork(EnginePlan plan) {
        this.plan = plan;
        this.layers = plan.layers();
        long count = plan.parameterCount();
        // [1, n] like DL4J's flattened views: ND4J's updaters shape their state after the gradient's shape
        this.parameters = Nd4j.create(DataType.FLOAT, new long[] {1, count}, 'c');
        this.gradients = Nd4j.create(DataType.FLOAT, new long[] {1, count}, 'c');
        long stateSize = plan.updaterStateSize();
        this.updaterState = stateSize > 0 ? Nd4j.create(DataType.FLOAT, new long[] {1, stateSize}, 'c') : null;
        List<long[]> runs = plan.trainedRuns();
        this.blockUpdaters = new GradientUpdater<?>[runs.size()];
        this.blockGradients = new INDArray[runs.size()];
        this.trainedGradients = runs.size() == 1 && runs.get(0)[1] - runs.get(0)[0] == count ? null
                : new INDArray[runs.size()];
        instantiateUpdaters(runs);
        this.updater = blockUpdaters[0];
        int n = layers.size();
        this.weights = new INDArray[n];
        this.biases = new INDArray[n];
        this.weightGradients = new INDArray[n];
        this.biasGradients = new INDArray[n];
        this.layerGradients = new INDArray[n];
        this.layerParameters = new INDArray[n];
        this.gradientNorms = new double[n];
        this.updateRatios = new double[n];
        this.gains = new INDArray[n];
        this.gainGradients = new INDArray[n];
        this.batchNorms = new BatchNormLayer[n];
        this.clipGradients = new INDArray[n];
        for (int l = 0; l < n; l++) {
            DenseShape shape = layers.get(l);
            if (shape.batchNorm() != null) {
                batchNormViews(l, shape);
                continue;
            }
            weights[l] = weightView(parameters, shape);
            biases[l] = slice(parameters, shape.biasOffset(), shape.outputs());
            weightGradients[l] = weightView(gradients, shape);
            // a rank-1 view: the target of a sum over the rows
            biasGradients[l] = slice(gradients, shape.biasOffset(), shape.outputs()).reshape(shape.outputs());
            layerGradients[l] = slice(gradients, shape.offset(), shape.end() - shape.offset());
            layerParameters[l] = slice(parameters, shape.offset(), shape.end() - shape.offset());
            clipGradients[l] = layerGradients[l];
            penalties.add(weights[l], weightGradients[l], shape.weightRegularization());
            penalties.add(biases[l], slice(gradients, shape.biasOffset(), shape.outputs()), shape.biasRegularization());
            if (shape.layerNorm()) {
                // rank 1, as ND4J's layer-norm ops require of the gain
                gains[l] = slice(parameters, shape.gainOffset(), shape.outputs()).reshape(shape.outputs());
                gainGradients[l] = slice(gradients, shape.gainOffset(), shape.outputs()).reshape(shape.outputs());
                // DL4J's initializer counts the gain among the weights: their regularisation applies to it
                penalties.add(gains[l], gainGradients[l], shape.weightRegularization());
            }
        }
        this.skipReaders = new int[n];
        Arrays.fill(skipReaders, -1);
        for (int l = 0; l < n; l++) {
            if (layers.get(l).residualFrom() >= 0) {
                skipReaders[layers.get(l).residualFrom()] = l;
            }
        }
        this.loss = new OutputLoss(plan.output(), plan.outputs());
        this.loopKinds = new FloatLoops.Kind[n];
        for (int l = 0; l < n; l++) {
            DenseShape shape = layers.get(l);
            // layer norm and the residual add keep ND4J's ops in between: the loops cover plain dense layers
            loopKinds[l] = shape.layerNorm() || shape.residualFrom() >= 0 || shape.batchNorm() != null
                    ? FloatLoops.Kind.OTHER
                    : FloatLoops.kindOf(shape.activation());
        }
        this.parameterData = FloatLoops.buffer(parameters);
        this.gradientData = FloatLoops.buffer(gradients);
        this.loopAdam = FloatLoops.isAdam(plan.updater()) && count <= FloatLoops.ADAM_LOOP_MAX;
    }

    /**
     * One updater instance per block, as DL4J's {@code BaseMultiLayerUpdater} makes them: over the whole flat gradient
     * and state when there is one block (the arrays themselves), else over each run's gradient view and its part of
     * the state, the blocks' states one after the other.
     */
    private void instantiateUpdaters(List<long[]> runs) {
        if (trainedGradients == null) {
            blockGradients[0] = gradients;
            blockUpdaters[0] = plan.updater().instantiate(updaterState, true);
            return;
        }
        long state = 0;
        for (int i = 0; i < runs.size(); i++) {
            long from = runs.get(i)[0];
            long length = runs.get(i)[1] - from;
            blockGradients[i] = slice(gradients, from, length);
            trainedGradients[i] = blockGradients[i];
            long size = plan.updater().stateSize(length);
            // every block's updater shares the plan's configuration: a new schedule reaches all of them
            blockUpdaters[i] = plan.updater().instantiate(size > 0 ? slice(updaterState, state, size) : null, true);
            state += size;
        }
    }

    /**
     * Layer {@code l}, a batch-norm layer: rank-1 views of its four parameter vectors and their gradients. Its health
     * signals (gradient norm, update ratio) are those of gamma and beta, the trained parameters, as DL4J's probe
     * reports them; per-layer clipping takes all four, as DL4J's does.
     */
    private void batchNormViews(int l, DenseShape shape) {
        int units = shape.outputs();
        long at = shape.offset();
        batchNorms[l] = new BatchNormLayer(shape.batchNorm(), vector(parameters, at, units),
                vector(parameters, at + units, units), vector(parameters, at + 2L * units, units),
                vector(parameters, at + 3L * units, units), vector(gradients, at, units),
                vector(gradients, at + units, units), vector(gradients, at + 2L * units, units),
                vector(gradients, at + 3L * units, units));
        layerGradients[l] = slice(gradients, at, 2L * units);
        layerParameters[l] = slice(parameters, at, 2L * units);
        clipGradients[l] = slice(gradients, at, 4L * units);
    }

    /** A rank-1 view of {@code length} values of a flat buffer (the target of the ops over rows). */
    private static INDArray vector(INDArray flat, long from, long length) {
        INDArray view = slice(flat, from, length).reshape(length);
        if (!view.isView()) {
            throw new IllegalStateException("a rank-1 view at " + from + " is a copy, not a view");
        }
        return view;
    }

    /**
     * A network for the spec with the initial parameters DL4J gives a graph built from it: the same seed, the same
     * initialisers, drawn in the same order ({@link #copyParameters} takes any other starting point).
     *
     * @throws UnsupportedSpecException if the spec has anything {@link EnginePlan} does not cover, naming it
     */
    public static LeanNetwork create(ModelSpec spec) {
        LeanNetwork network = new LeanNetwork(EnginePlan.of(spec, true));
        network.initialise();
        return network;
    }

    private void initialise() {
        // DL4J seeds once per graph, then initialises the layers in order, each drawing from the same generator
        Nd4j.getRandom().setSeed(plan.seed());
        for (int l = 0; l < layers.size(); l++) {
            DenseShape shape = layers.get(l);
            if (batchNorms[l] != null) {
                // constants: batch norm draws nothing from the generator, in DL4J too
                batchNorms[l].initialise();
                continue;
            }
            shape.init().init(shape.inputs(), shape.outputs(), new long[] {shape.inputs(), shape.outputs()}, 'f',
                    weights[l]);
            biases[l].assign(0);
            if (shape.layerNorm()) {
                gains[l].assign(shape.gainInit());
            }
        }
    }

    /**
     * One optimizer step on {@code rows} row-major rows of features and labels (one-hot classes or targets);
     * returns the mean loss of the rows before the step plus the regularisation penalty, as DL4J's {@code score()}.
     */
    public double fit(float[] x, float[] y, int rows) {
        return fit(x, y, null, rows, false);
    }

    /**
     * One optimizer step as {@link #fit(float[], float[], int)}, each row's loss and gradient multiplied by its weight
     * ({@code weights} null: all 1; the mean is still over the rows, as DL4J's per-example label mask does). When
     * {@code sample} is set, the step also measures each layer's health signals ({@link #gradientNorm},
     * {@link #updateRatio}), as the trainer's DL4J gradient probe does.
     */
    public double fit(float[] x, float[] y, float[] weights, int rows, boolean sample) {
        BatchBuffers b = buffers(rows, x);
        forward(b, true);
        forwardedRows = 0;
        return fitForwarded(b, y, weights, rows, sample);
    }

    /**
     * Whether the training forward pass computes what {@link #output} computes (no dropout, no batch norm: training
     * normalises by the batch's statistics, inference by the running ones), so that {@link #outputForFit} can score a
     * batch and {@link #fitOutput} train on it from one forward pass.
     */
    public boolean trainingForwardIsInference() {
        return layers.stream().allMatch(shape -> shape.dropout() == null && shape.batchNorm() == null);
    }

    /**
     * Test-then-train in one forward pass: the outputs of {@code rows} rows, equal to {@link #output}'s, from the
     * training forward pass, whose buffers {@link #fitOutput} then steps from (unless another call comes between).
     *
     * @throws IllegalStateException if the network has dropout ({@link #trainingForwardIsInference} is false)
     */
    public float[] outputForFit(float[] x, int rows) {
        if (!trainingForwardIsInference()) {
            throw new IllegalStateException("with dropout or batch norm the training forward pass is not the inference pass");
        }
        BatchBuffers b = buffers(rows, x);
        forward(b, true);
        forwardedRows = rows;
        return loss.outputs(b.outputs, rows);
    }

    /**
     * The step {@link #fit(float[], float[], float[], int, boolean)} takes, on the rows of the last
     * {@link #outputForFit} (same count), without a second forward pass: the same numbers.
     *
     * @throws IllegalStateException if the last call was not {@link #outputForFit} of {@code rows} rows
     */
    public double fitOutput(float[] y, float[] weights, int rows, boolean sample) {
        if (forwardedRows != rows || buffers == null || buffers.rows != rows) {
            throw new IllegalStateException("no forward pass of " + rows + " rows to step from (last: "
                    + forwardedRows + ")");
        }
        forwardedRows = 0;
        return fitForwarded(buffers, y, weights, rows, sample);
    }

    private double fitForwarded(BatchBuffers b, float[] y, float[] weights, int rows, boolean sample) {
        double mean = loss.lossAndDelta(b.outputs, y, weights, rows, b.outputDelta);
        backward(b);
        FloatLoops.divide(gradientData, (int) gradients.length(), rows);
        for (BatchNormLayer batchNorm : batchNorms) {
            if (batchNorm != null) {
                // after the division by the batch size, which DL4J does not apply to the running statistics
                batchNorm.statisticsStep();
            }
        }
        backwardDoneNanos = System.nanoTime();
        if (sample) {
            // the mean gradient before clipping: what the exploding-gradient monitor must see
            for (int l = 0; l < layers.size(); l++) {
                gradientNorms[l] = layerGradients[l].norm2Number().doubleValue();
            }
        }
        plan.clipping().apply(gradients, clipGradients, trainedGradients);
        if (!penalties.isEmpty()) {
            // DL4J's score is taken before the step: the penalty of the parameters the loss was computed with
            mean += penalties.score(iteration, EPOCH);
            penalties.apply(ApplyStep.BEFORE_UPDATER, updaterRate(), iteration, EPOCH);
        }
        // Adam in one loop over the flat buffers when the state is one block (no batch norm, whose running
        // statistics have their own NoOp block)
        boolean loop = loopAdam && blockUpdaters.length == 1;
        boolean subtracted = loop && penalties.isEmpty();
        if (loop) {
            Adam adam = (Adam) plan.updater();
            // without weight decay after the updater, the update is subtracted in the same pass
            FloatLoops.adam(gradientData, FloatLoops.buffer(updaterState), (int) gradients.length(),
                    adam.getLearningRate(iteration, EPOCH), adam.getBeta1(), adam.getBeta2(), adam.getEpsilon(),
                    iteration, subtracted ? parameterData : null);
        } else {
            for (int i = 0; i < blockUpdaters.length; i++) {
                blockUpdaters[i].applyUpdater(blockGradients[i], iteration, EPOCH);
            }
        }
        if (!penalties.isEmpty()) {
            penalties.apply(ApplyStep.POST_UPDATER, updaterRate(), iteration, EPOCH);
        }
        if (!subtracted) {
            parameters.subi(gradients);
        }
        if (sample) {
            // the gradient buffer now holds the update the step subtracted
            for (int l = 0; l < layers.size(); l++) {
                double parameterNorm = layerParameters[l].norm2Number().doubleValue();
                updateRatios[l] = parameterNorm == 0 ? Double.NaN
                        : layerGradients[l].norm2Number().doubleValue() / parameterNorm;
            }
        }
        iteration++;
        updateDoneNanos = System.nanoTime();
        return mean;
    }

    /** The rate DL4J hands the regularisations: the updater's at this step, 1 for one without a rate (adadelta). */
    private double updaterRate() {
        return updater.getConfig().hasLearningRate() ? updater.getConfig().getLearningRate(iteration, EPOCH) : 1.0;
    }

    /** The outputs (class probabilities or regression values) of {@code rows} row-major rows, row-major. */
    public float[] output(float[] x, int rows) {
        forwardedRows = 0;
        BatchBuffers b = buffers(rows, x);
        forward(b, false);
        return loss.outputs(b.outputs, rows);
    }

    private BatchBuffers buffers(int rows, float[] x) {
        if (buffers == null || buffers.rows != rows) {
            buffers = buffersByRows.computeIfAbsent(rows, r -> new BatchBuffers(r, layers));
        }
        buffers.inputData.put(0, x, 0, rows * plan.inputs());
        return buffers;
    }

    /** {@code training}: with dropout (the masks drawn from ND4J's generator, as DL4J draws them), else without. */
    private void forward(BatchBuffers b, boolean training) {
        INDArray in = b.input;
        for (int l = 0; l < layers.size(); l++) {
            InputDropout dropout = layers.get(l).dropout();
            if (training && dropout != null) {
                dropout.apply(in, b.dropoutMasks[l], b.droppedInputs[l]);
                in = b.droppedInputs[l];
            }
            b.inputs[l] = in;
            INDArray z = b.preActivations[l];
            INDArray a = b.activations[l];
            int product = training ? BatchBuffers.FORWARD_TRAINING : BatchBuffers.FORWARD_INFERENCE;
            if (loopKinds[l] != FloatLoops.Kind.OTHER
                    && (long) b.rows * layers.get(l).outputs() <= FloatLoops.LAYER_LOOP_MAX) {
                b.multiply(l, product, in, false, weights[l], false, z);
                FloatLoops.biasActivate(FloatLoops.buffer(z), parameterData, (int) layers.get(l).biasOffset(), b.rows,
                        layers.get(l).outputs(), loopKinds[l], FloatLoops.buffer(a));
                in = a;
                continue;
            }
            if (batchNorms[l] != null) {
                batchNormForward(b, l, in, z, training);
            } else {
                preActivate(b, l, product, in, z);
            }
            a.assign(z);
            layers.get(l).activation().getActivation(a, true);
            in = a;
        }
    }

    /** Layer {@code l}'s pre-activations of {@code in} into {@code z}: x·W (layer-normalised), the bias, the skip. */
    private void preActivate(BatchBuffers b, int l, int product, INDArray in, INDArray z) {
        if (gains[l] == null) {
            b.multiply(l, product, in, false, weights[l], false, z);
        } else {
            // DL4J's BaseLayer: x·W standardised over each row's outputs times the gain, then the bias; the
            // product before the norm is kept for the norm's backward pass
            b.multiply(l, product, in, false, weights[l], false, b.preNorms[l]);
            Nd4j.getExecutioner().exec(new LayerNorm(b.preNorms[l], gains[l], z, true, 1));
        }
        z.addiRowVector(biases[l]);
        addSkip(b, l, z);
    }

    /**
     * Closing a residual block, layer {@code l}'s output {@code z} plus the block's input (then comes the block's
     * activation); the output before the add is kept first, for the layer's health signals ({@link #activations}).
     */
    private void addSkip(BatchBuffers b, int l, INDArray z) {
        if (layers.get(l).residualFrom() >= 0) {
            b.branchOutputs[l].assign(z);
            z.addi(b.inputs[layers.get(l).residualFrom()]);
        }
    }

    /** Batch-norm layer {@code l}'s output of {@code in} into {@code z}, plus the skip if it closes a residual block. */
    private void batchNormForward(BatchBuffers b, int l, INDArray in, INDArray z, boolean training) {
        batchNorms[l].forward(in, b.centred[l], b.scaled[l], z, training);
        addSkip(b, l, z);
    }

    /**
     * Batch-norm layer {@code l}'s backward pass from its {@code delta}: gamma's and beta's gradient, and the error of
     * the layer below (through the batch statistics, plus the skip and dropout as for a dense layer); returns the
     * delta of the layer below, or null for the first layer.
     */
    private INDArray batchNormBackward(BatchBuffers b, int l, INDArray delta) {
        INDArray error = l > 0 ? b.errors[l - 1] : null;
        batchNorms[l].backward(delta, b.centred[l], b.scaled[l], b.normScratch[l], error);
        if (error == null) {
            return null;
        }
        if (skipReaders[l] >= 0) {
            error.addi(b.skipErrors[skipReaders[l]]);
        }
        if (layers.get(l).dropout() != null) {
            layers.get(l).dropout().backprop(error, b.dropoutMasks[l]);
        }
        return layers.get(l - 1).activation().backprop(b.preActivations[l - 1], error).getFirst();
    }

    /** From dLoss/dLogits in the last layer's error buffer: the gradient, summed (not averaged) over the rows. */
    private void backward(BatchBuffers b) {
        INDArray delta = b.errors[layers.size() - 1];
        for (int l = layers.size() - 1; l >= 0; l--) {
            INDArray below = b.inputs[l];
            if (layers.get(l).residualFrom() >= 0) {
                // what flows into the skip, kept before the norm's backward pass overwrites the delta
                b.skipErrors[l].assign(delta);
            }
            if (batchNorms[l] != null) {
                delta = batchNormBackward(b, l, delta);
                continue;
            }
            boolean small = (long) b.rows * layers.get(l).outputs() <= FloatLoops.LAYER_LOOP_MAX;
            if (small && delta.ordering() == 'f' && delta.offset() == 0) {
                FloatLoops.columnSums(FloatLoops.buffer(delta), b.rows, layers.get(l).outputs(), gradientData,
                        (int) layers.get(l).biasOffset());
            } else {
                delta.sum(biasGradients[l], 0);
            }
            if (gains[l] != null) {
                // the bias comes after the norm; the norm's backward pass turns the delta into dLoss/d(x·W) in place
                Nd4j.getExecutioner().exec(new LayerNormBp(b.preNorms[l], gains[l], delta, delta, gainGradients[l],
                        true, 1));
            }
            b.multiply(l, BatchBuffers.WEIGHT_GRADIENT, below, true, delta, false, weightGradients[l]);
            if (l > 0) {
                INDArray error = errorBelow(b, l, delta);
                FloatLoops.Kind kindBelow = loopKinds[l - 1];
                if (kindBelow == FloatLoops.Kind.RELU
                        && (long) b.rows * layers.get(l - 1).outputs() <= FloatLoops.LAYER_LOOP_MAX) {
                    FloatLoops.reluBackward(FloatLoops.buffer(b.preActivations[l - 1]), FloatLoops.buffer(error),
                            b.rows * layers.get(l - 1).outputs());
                    delta = b.preActivations[l - 1];
                    continue;
                }
                // dLoss/dPreActivations; in place in the pre-activations, which the step needs no more
                delta = layers.get(l - 1).activation().backprop(b.preActivations[l - 1], error).getFirst();
            }
        }
    }

    /**
     * The outputs of layer {@code layer} (0 = the first hidden layer) of the last {@link #output} or step, as its
     * health signals describe that layer: its activations, or, for the last layer of a residual block, its own output
     * before the block's input is added and the block's activation applied (the branch the layer computes, as DL4J's
     * graph reports that layer: see docs/engine.md). A live [rows, units] buffer that the next call overwrites.
     */
    public INDArray activations(int layer) {
        INDArray branch = buffers.branchOutputs[layer];
        return branch != null ? branch : buffers.activations[layer];
    }

    /** The number of layers with parameters, the output layer included. */
    public int layerCount() {
        return layers.size();
    }

    /** Of layer {@code layer} on the last sampled step: the L2 norm of its mean gradient before clipping. */
    public double gradientNorm(int layer) {
        return gradientNorms[layer];
    }

    /** Of layer {@code layer} on the last sampled step: ‖update‖ / ‖parameters after the step‖ (weights and bias). */
    public double updateRatio(int layer) {
        return updateRatios[layer];
    }

    /** When the last step's backward pass and its update ended ({@link System#nanoTime()}). */
    public long backwardDoneNanos() {
        return backwardDoneNanos;
    }

    public long updateDoneNanos() {
        return updateDoneNanos;
    }

    /**
     * The optimizer's state (Adam's moments etc.), a live view in DL4J's layout ({@code graph.getUpdater()
     * .getStateViewArray()} of the same spec: one block over the whole flat gradient); null for plain SGD.
     */
    public INDArray updaterState() {
        return updaterState;
    }

    /** Sets the step count (a restored or rolled-back state): it drives Adam's bias correction and the schedules. */
    public void setIterations(int iterations) {
        this.iteration = iterations;
    }

    /** dLoss/d(the activations below layer {@code l}), from its delta: back through its weights, skip and dropout. */
    private INDArray errorBelow(BatchBuffers b, int l, INDArray delta) {
        INDArray error = b.errors[l - 1];
        b.multiply(l, BatchBuffers.ERROR_BELOW, delta, false, weights[l], true, error);
        if (skipReaders[l] >= 0) {
            // the input also went round the block: the two paths' gradients add
            error.addi(b.skipErrors[skipReaders[l]]);
        }
        if (layers.get(l).dropout() != null) {
            layers.get(l).dropout().backprop(error, b.dropoutMasks[l]);
        }
        return error;
    }

    /** The flat parameters, DL4J's layout ({@code ComputationGraph.params()} of the same spec): a live view. */
    public INDArray parameters() {
        return parameters;
    }

    /** Replaces the parameters, e.g. with a DL4J graph's {@code params()}; the optimizer state is kept. */
    public void copyParameters(INDArray source) {
        if (source.length() != parameters.length()) {
            throw new IllegalArgumentException("expected " + parameters.length() + " parameters, got "
                    + source.length());
        }
        parameters.assign(source.reshape(parameters.shape()));
    }

    /**
     * Replaces the learning-rate schedule from the next step on (the health monitors' {@code AdjustedSchedule}, say),
     * as DL4J's {@code NetworkUtils.setLearningRate} does for a graph: the optimizer state and the step count are
     * kept, and the schedule is read at the same step count as before.
     *
     * @throws IllegalStateException for an optimizer without a learning rate (adadelta)
     */
    public void setLearningRate(ISchedule schedule) {
        if (!updater.getConfig().hasLearningRate()) {
            throw new IllegalStateException("the optimizer " + updater.getConfig().getClass().getSimpleName()
                    + " has no learning rate to schedule");
        }
        updater.getConfig().setLrAndSchedule(Double.NaN, schedule);
    }

    /** The learning rate of the next step; NaN for an optimizer without one (adadelta). */
    public double learningRate() {
        return updater.getConfig().hasLearningRate() ? updater.getConfig().getLearningRate(iteration, EPOCH) : Double.NaN;
    }

    /** The number of optimizer steps taken; it drives Adam's bias correction and the schedules. */
    public int iterations() {
        return iteration;
    }

    private static INDArray slice(INDArray flat, long from, long length) {
        return flat.get(NDArrayIndex.interval(0, 0, true), NDArrayIndex.interval(from, from + length));
    }

    private static INDArray weightView(INDArray flat, DenseShape shape) {
        INDArray view = slice(flat, shape.offset(), shape.weightCount()).reshape('f', shape.inputs(), shape.outputs());
        if (!view.isView()) {
            throw new IllegalStateException("the weight view of a layer " + shape + " is a copy, not a view");
        }
        return view;
    }

    @Override
    public void close() {
        buffersByRows.values().forEach(BatchBuffers::close);
        for (BatchNormLayer batchNorm : batchNorms) {
            if (batchNorm != null) {
                batchNorm.close();
            }
        }
        buffersByRows.clear();
        parameters.close();
        gradients.close();
        if (updaterState != null) {
            updaterState.close();
        }
    }
}
