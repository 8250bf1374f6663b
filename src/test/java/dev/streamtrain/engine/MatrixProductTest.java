package dev.streamtrain.engine;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@link MatrixProduct} against {@code Nd4j.gemm} on the same arrays: equal to the bit for every product a
 * {@link LeanNetwork} step makes (x·W from a row-major input or column-major activations, the weight gradient
 * {@code inputᵀ·delta}, the error below {@code delta·Wᵀ}), with the weights a column-major view at an offset into one
 * flat buffer, for batches of many rows and of one, layers of one unit, and a row-major output.
 */
class MatrixProductTest {

    @Test
    void everyProductOfAStepIsNd4jsBitForBit() {
        for (int rows : new int[] {64, 32, 7, 1}) {
            for (int[] layer : new int[][] {{64, 256}, {256, 256}, {256, 10}, {12, 1}, {1, 3}}) {
                int in = layer[0];
                int out = layer[1];
                long seed = 31L * rows + 7L * in + out;
                // the weights as LeanNetwork keeps them: a column-major [in, out] view inside a flat [1, n] buffer
                INDArray flat = random(seed, 1, 5 + in * out + 3);
                INDArray weights = flat.get(NDArrayIndex.interval(0, 0, true), NDArrayIndex.interval(5, 5 + in * out))
                        .reshape('f', in, out);
                assertThat(weights.isView()).isTrue();
                INDArray rowMajorInput = random(seed + 1, rows, in).dup('c');
                INDArray columnMajorInput = rowMajorInput.dup('f');
                INDArray delta = random(seed + 2, rows, out).subi(0.5).dup('f');
                String label = rows + " rows, " + in + " -> " + out;
                for (INDArray input : new INDArray[] {rowMajorInput, columnMajorInput}) {
                    assertSame(label + ", x·W (" + input.ordering() + ")", input, false, weights, false,
                            Nd4j.create(DataType.FLOAT, new long[] {rows, out}, 'f'));
                    assertSame(label + ", xᵀ·delta (" + input.ordering() + ")", input, true, delta, false,
                            Nd4j.create(DataType.FLOAT, new long[] {in, out}, 'f'));
                }
                assertSame(label + ", delta·Wᵀ", delta, false, weights, true,
                        Nd4j.create(DataType.FLOAT, new long[] {rows, in}, 'f'));
                assertSame(label + ", x·W into a row-major output", columnMajorInput, false, weights, false,
                        Nd4j.create(DataType.FLOAT, new long[] {rows, out}, 'c'));
            }
        }
    }

    @Test
    void mismatchedShapesAreRefusedNamingThem() {
        INDArray a = Nd4j.create(DataType.FLOAT, new long[] {4, 3}, 'f');
        INDArray b = Nd4j.create(DataType.FLOAT, new long[] {2, 5}, 'f');
        INDArray c = Nd4j.create(DataType.FLOAT, new long[] {4, 5}, 'f');
        assertThatThrownBy(() -> MatrixProduct.of(a, false, b, false, c))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("4x3 · 2x5");
    }

    private static INDArray random(long seed, int rows, int columns) {
        Nd4j.getRandom().setSeed(seed);
        return Nd4j.rand(DataType.FLOAT, rows, columns);
    }

    private static void assertSame(String label, INDArray a, boolean transposeA, INDArray b, boolean transposeB,
                                   INDArray c) {
        assertThat(MatrixProduct.covers(a, b, c)).as(label).isTrue();
        INDArray expected = c.ulike();
        Nd4j.gemm(a, b, expected, transposeA, transposeB, 1.0, 0.0);
        // a first product into garbage: beta 0 must overwrite it
        c.assign(Float.NaN);
        MatrixProduct product = MatrixProduct.of(a, transposeA, b, transposeB, c);
        product.run();
        assertThat(c.dup('c').data().asFloat()).as(label).containsExactly(expected.dup('c').data().asFloat());
        assertThat(product.multiplies(a, b, c)).isTrue();
        assertThat(product.multiplies(a.dup(), b, c)).isFalse();
    }
}
