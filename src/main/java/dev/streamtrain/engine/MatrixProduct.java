package dev.streamtrain.engine;

import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.openblas.global.openblas_nolapack;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * One matrix product {@code c = op(a)·op(b)} between preallocated float arrays of fixed shapes, by the OpenBLAS
 * {@code cblas_sgemm} that ND4J itself calls, with the arguments libnd4j's {@code MmulHelper::mmulMxM} derives from
 * the same arrays: the same kernel on the same memory, so the same numbers as {@code Nd4j.gemm} to the bit. What it
 * leaves out is ND4J's custom-op call around the kernel (an op descriptor, a graph context, shape buffers and their
 * checks per call), which on the products of a small streaming model costs as much as the arithmetic
 * (docs/engine-speed.md). Everything is worked out once, when a {@link LeanNetwork} allocates its buffers for a batch
 * size; {@link #run()} allocates nothing. It holds the arrays: they must not be closed before it is dropped.
 */
final class MatrixProduct {

    private final int order;
    private final int transA;
    private final int transB;
    private final int m;
    private final int n;
    private final int k;
    private final int lda;
    private final int ldb;
    private final int ldc;
    private final FloatPointer a;
    private final FloatPointer b;
    private final FloatPointer c;
    /** The arrays themselves: {@link #multiplies} compares them, and holding them keeps their memory alive. */
    private final INDArray[] arrays;

    private MatrixProduct(int[] blas, INDArray[] arrays) {
        this.order = blas[0];
        this.transA = blas[1];
        this.transB = blas[2];
        this.m = blas[3];
        this.n = blas[4];
        this.k = blas[5];
        this.lda = blas[6];
        this.ldb = blas[7];
        this.ldc = blas[8];
        this.arrays = arrays;
        this.a = pointer(arrays[0]);
        this.b = pointer(arrays[1]);
        this.c = pointer(arrays[2]);
    }

    /**
     * {@code c = op(a)·op(b)}, op the transpose where {@code transposeA}/{@code transposeB} is set, as
     * {@code Nd4j.gemm(a, b, c, transposeA, transposeB, 1, 0)} computes it.
     *
     * @throws IllegalArgumentException for arrays that are not rank-2 float, whose shapes do not match, or that
     *                                  libnd4j would first copy (no unit stride in either dimension)
     */
    static MatrixProduct of(INDArray a, boolean transposeA, INDArray b, boolean transposeB, INDArray c) {
        for (INDArray array : new INDArray[] {a, b, c}) {
            if (array.rank() != 2 || array.dataType() != DataType.FLOAT) {
                throw new IllegalArgumentException("a product needs rank-2 float arrays, not " + array.shapeInfoToString());
            }
        }
        // Mmul's transposes are permuted views: the strides swap with the sizes
        long[] aShape = swapped(a.shape(), transposeA);
        long[] aStride = swapped(a.stride(), transposeA);
        long[] bShape = swapped(b.shape(), transposeB);
        long[] bStride = swapped(b.stride(), transposeB);
        long m = aShape[0];
        long k = aShape[1];
        long n = bShape[1];
        if (bShape[0] != k || c.size(0) != m || c.size(1) != n) {
            throw new IllegalArgumentException("shapes " + m + "x" + k + " · " + bShape[0] + "x" + n + " into "
                    + c.size(0) + "x" + c.size(1));
        }
        // MmulHelper::mmulMxM's choice of order, transposes and leading dimensions, line for line
        boolean aMcont = m == 1 || aStride[0] == 1;
        boolean aKcont = k == 1 || aStride[1] == 1;
        boolean bKcont = k == 1 || bStride[0] == 1;
        boolean bNcont = n == 1 || bStride[1] == 1;
        boolean cMcont = m == 1 || c.stride(0) == 1;
        boolean cNcont = n == 1 || c.stride(1) == 1;
        if ((!aMcont && !aKcont) || (!bKcont && !bNcont) || (!cMcont && !cNcont)) {
            throw new IllegalArgumentException("an array without a unit stride: libnd4j would multiply a copy");
        }
        boolean transA = aMcont != cMcont;
        boolean transB = bKcont != cMcont;
        long ldA = aMcont && aKcont ? m : !aMcont ? aStride[0] : aStride[1];
        long ldB = bKcont && bNcont ? k : !bKcont ? bStride[0] : bStride[1];
        long ldC = cMcont && cNcont ? m : !cMcont ? c.stride(0) : c.stride(1);
        int[] blas = {cMcont ? openblas_nolapack.CblasColMajor : openblas_nolapack.CblasRowMajor,
            transA ? openblas_nolapack.CblasTrans : openblas_nolapack.CblasNoTrans,
            transB ? openblas_nolapack.CblasTrans : openblas_nolapack.CblasNoTrans,
            (int) m, (int) n, (int) k, (int) ldA, (int) ldB, (int) ldC};
        return new MatrixProduct(blas, new INDArray[] {a, b, c});
    }

    /**
     * Whether {@link #of} takes these arrays: rank-2 float arrays each with a unit stride in one dimension (libnd4j
     * multiplies a copy of any other, and so does {@code Nd4j.gemm}, which remains the way for them).
     */
    static boolean covers(INDArray a, INDArray b, INDArray c) {
        for (INDArray array : new INDArray[] {a, b, c}) {
            if (array.rank() != 2 || array.dataType() != DataType.FLOAT
                    || (array.size(0) != 1 && array.stride(0) != 1 && array.size(1) != 1 && array.stride(1) != 1)) {
                return false;
            }
        }
        return true;
    }

    /** Whether this is the product of these very arrays (the same objects, so the same memory and shapes). */
    boolean multiplies(INDArray a, INDArray b, INDArray c) {
        return arrays[0] == a && arrays[1] == b && arrays[2] == c;
    }

    /** Computes the product into {@code c}. */
    void run() {
        openblas_nolapack.cblas_sgemm(order, transA, transB, m, n, k, 1f, a, lda, b, ldb, 0f, c, ldc);
    }

    private static long[] swapped(long[] pair, boolean swap) {
        return swap ? new long[] {pair[1], pair[0]} : pair;
    }

    /**
     * The array's first element: a view's data buffer is a buffer of its own over the original's memory, whose address
     * is already moved on by the view's offset ({@code offset()} is that buffer's).
     */
    private static FloatPointer pointer(INDArray array) {
        return new FloatPointer(array.data().addressPointer());
    }
}
