package dev.streamtrain.engine;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.FloatBuffer;
import java.util.List;

/**
 * The arrays one batch size needs, allocated once and reused by every step of that size: the input (row-major,
 * as it arrives), each layer's pre-activations and activations, and the error flowing back into each layer's
 * output (column-major, DL4J's layout: the same BLAS kernels, the same rounding). The input, the outputs and their
 * delta are read and written from Java through their direct buffers.
 */
final class BatchBuffers implements AutoCloseable {

    /** The products {@link #multiply} keeps per layer, and their places among them. */
    static final int PRODUCTS_PER_LAYER = 4;
    static final int FORWARD_TRAINING = 0;
    static final int FORWARD_INFERENCE = 1;
    static final int WEIGHT_GRADIENT = 2;
    static final int ERROR_BELOW = 3;

    final int rows;
    final INDArray input;
    final FloatBuffer inputData;
    /** Per layer: pre-activations (the last layer's are the logits), activations, and dLoss/dActivation. */
    final INDArray[] preActivations;
    final INDArray[] activations;
    final INDArray[] errors;
    /** Per layer-normalised layer: x·W before the norm, which the norm's backward pass needs; null elsewhere. */
    final INDArray[] preNorms;
    /**
     * Per layer with input dropout: the masks of the step (one per dropout entry before the layer, in order) and the
     * dropped input the layer reads; null elsewhere.
     */
    final INDArray[][] dropoutMasks;
    final INDArray[] droppedInputs;
    /** Per layer closing a residual block: dLoss/d(its output before the block's activation), for the skip. */
    final INDArray[] skipErrors;
    /**
     * Per layer closing a residual block: its own output before the skip is added (x·W + b, or batch norm's output),
     * what the layer's health signals describe; null elsewhere.
     */
    final INDArray[] branchOutputs;
    /**
     * Per batch-norm layer: x − mean, x̂, and a working array, row-major as DL4J's are (they are dup()s there); null
     * elsewhere.
     */
    final INDArray[] centred;
    final INDArray[] scaled;
    final INDArray[] normScratch;
    /** Per layer: the array it read in the last forward pass (the input, the activations below, or dropped). */
    final INDArray[] inputs;
    /** The output layer's activations: probabilities or regression values. */
    final FloatBuffer outputs;
    final FloatBuffer outputDelta;
    /**
     * Per layer, the products of the step by {@link #multiply}: x·W in training and in inference (their inputs differ
     * with dropout), the weight gradient and the error of the layer below.
     */
    private final MatrixProduct[] products;

    BatchBuffers(int rows, List<DenseShape> layers) {
        this.rows = rows;
        int count = layers.size();
        this.input = Nd4j.create(DataType.FLOAT, new long[] {rows, layers.get(0).inputs()}, 'c');
        this.inputData = input.data().asNioFloat();
        this.preActivations = new INDArray[count];
        this.activations = new INDArray[count];
        this.errors = new INDArray[count];
        this.preNorms = new INDArray[count];
        this.dropoutMasks = new INDArray[count][];
        this.droppedInputs = new INDArray[count];
        this.skipErrors = new INDArray[count];
        this.branchOutputs = new INDArray[count];
        this.inputs = new INDArray[count];
        this.centred = new INDArray[count];
        this.scaled = new INDArray[count];
        this.normScratch = new INDArray[count];
        for (int l = 0; l < count; l++) {
            long[] shape = {rows, layers.get(l).outputs()};
            // batch norm's output is row-major in DL4J (its ops work on dup()s, ND4J's default order): so is the input
            // of the layer after it, which decides the BLAS kernels of that layer's products
            char outputOrder = layers.get(l).batchNorm() != null ? 'c' : 'f';
            preActivations[l] = Nd4j.create(DataType.FLOAT, shape, outputOrder);
            activations[l] = Nd4j.create(DataType.FLOAT, shape, outputOrder);
            errors[l] = Nd4j.create(DataType.FLOAT, shape, 'f');
            if (layers.get(l).layerNorm()) {
                preNorms[l] = Nd4j.create(DataType.FLOAT, shape, 'f');
            }
            if (layers.get(l).residualFrom() >= 0) {
                skipErrors[l] = Nd4j.create(DataType.FLOAT, shape, 'f');
                branchOutputs[l] = Nd4j.create(DataType.FLOAT, shape, outputOrder);
            }
            if (layers.get(l).batchNorm() != null) {
                centred[l] = Nd4j.create(DataType.FLOAT, shape, 'c');
                scaled[l] = Nd4j.create(DataType.FLOAT, shape, 'c');
                normScratch[l] = Nd4j.create(DataType.FLOAT, shape, 'c');
            }
            if (layers.get(l).dropout() != null) {
                // DL4J draws the mask in the order of the array it drops, row-major there (the input, and the
                // activations as its graph hands them on): the same numbers land in the same places
                long[] in = {rows, layers.get(l).inputs()};
                // entries in a row: each drops the previous one's output, a copy of that array in the same order
                dropoutMasks[l] = new INDArray[layers.get(l).dropout().count()];
                for (int k = 0; k < dropoutMasks[l].length; k++) {
                    dropoutMasks[l][k] = Nd4j.create(DataType.FLOAT, in, 'c');
                }
                droppedInputs[l] = Nd4j.create(DataType.FLOAT, in, 'c');
            }
        }
        this.products = new MatrixProduct[count * PRODUCTS_PER_LAYER];
        this.outputs = activations[count - 1].data().asNioFloat();
        this.outputDelta = errors[count - 1].data().asNioFloat();
    }

    /**
     * {@code c = op(a)·op(b)} as {@code Nd4j.gemm} computes it, through the {@link MatrixProduct} kept for layer
     * {@code layer}'s product {@code kind} (one of the constants above): made on the first call, again only when the
     * arrays change (a dropout pass reads another input). Arrays it does not cover go to {@code Nd4j.gemm}.
     */
    void multiply(int layer, int kind, INDArray a, boolean transposeA, INDArray b, boolean transposeB, INDArray c) {
        int slot = layer * PRODUCTS_PER_LAYER + kind;
        MatrixProduct product = products[slot];
        if (product == null || !product.multiplies(a, b, c)) {
            if (!MatrixProduct.covers(a, b, c)) {
                Nd4j.gemm(a, b, c, transposeA, transposeB, 1.0, 0.0);
                return;
            }
            product = MatrixProduct.of(a, transposeA, b, transposeB, c);
            products[slot] = product;
        }
        product.run();
    }

    @Override
    public void close() {
        java.util.Arrays.fill(products, null);
        input.close();
        for (int l = 0; l < preActivations.length; l++) {
            preActivations[l].close();
            activations[l].close();
            errors[l].close();
            if (preNorms[l] != null) {
                preNorms[l].close();
            }
            if (skipErrors[l] != null) {
                skipErrors[l].close();
                branchOutputs[l].close();
            }
            if (dropoutMasks[l] != null) {
                for (INDArray mask : dropoutMasks[l]) {
                    mask.close();
                }
                droppedInputs[l].close();
            }
            if (centred[l] != null) {
                centred[l].close();
                scaled[l].close();
                normScratch[l].close();
            }
        }
    }
}
