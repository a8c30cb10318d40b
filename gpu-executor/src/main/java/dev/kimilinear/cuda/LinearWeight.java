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

    /**
     * Whether {@link #groupedSwiglu} runs here for tiles of tileRows rows of a (bf16, pitch lda):
     * where it does not, the forward runs {@link #grouped} into fp32 and the activation apart.
     */
    boolean fusesGroupedSwiglu(CudaContext ctx, int tileRows, CUdeviceptr a, long lda);

    /**
     * For a fused gate/up weight (per expert: gate rows [0, rows / 2), then up rows), rows permuted
     * per expert as {@link #grouped} takes them: act [m, rows / 2] bf16 (pitch ldo) =
     * silu(A W_gate^T) * (A W_up^T), in one product.
     */
    void groupedSwiglu(CudaContext ctx, CUdeviceptr a, long lda, CUdeviceptr act, long ldo, CUdeviceptr offsets,
                       CUdeviceptr tiles, CUdeviceptr numTiles, int maxTiles, int tileRows);

    /**
     * Whether {@link #matmulSwiglu} runs, and pays, for m rows of a (bf16, pitch lda): where it
     * does not, the forward runs {@link #matmul} into fp32 and the activation apart.
     */
    boolean fusesSwiglu(CudaContext ctx, int m, CUdeviceptr a, long lda);

    /**
     * For a fused gate/up weight (gate rows [0, rows / 2), then up rows): act [m, rows / 2] bf16
     * (pitch ldo) = silu(A W_gate^T) * (A W_up^T), in one product.
     */
    void matmulSwiglu(CudaContext ctx, CUdeviceptr a, long lda, CUdeviceptr act, long ldo, int m);

    /** Output channels of one expert (n). */
    int rows();

    /** Input channels (k). */
    int cols();
}
