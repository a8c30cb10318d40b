package dev.kimilinear.cuda;

import jcuda.driver.CUdeviceptr;

/**
 * A linear layer's weight on the device, [n, k] ([out, in]) per expert, in whichever format the
 * model holds it: the forward multiplies through this and never asks which.
 */
sealed interface LinearWeight permits Bf16Weight, Fp8Weight {

    /** C [m, n] = alpha * A [m, k] * W^T + beta * C; A bf16 with row pitch lda. */
    void matmul(CudaContext ctx, CUdeviceptr a, long lda, CUdeviceptr c, long ldc, GemmKernel.Out out, int m,
                float alpha, float beta);

    /**
     * Rows permuted per expert ({@link GemmKernel#grouped}): expert e's rows times its own
     * matrix, for a stack of experts.
     */
    void grouped(CudaContext ctx, CUdeviceptr a, long lda, CUdeviceptr c, long ldc, GemmKernel.Out out,
                 CUdeviceptr offsets, CUdeviceptr tiles, CUdeviceptr numTiles, int maxTiles, int tileRows, float alpha,
                 float beta);

    /** Output channels of one expert (n). */
    int rows();

    /** Input channels (k). */
    int cols();
}
