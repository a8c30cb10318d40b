package dev.kimilinear.cuda;

import jcuda.driver.CUdeviceptr;

/**
 * An e4m3 weight with one fp32 scale per output channel, [experts][rows, cols] bytes and
 * [experts][rows] scales. Decode-sized products read the bytes directly on sm_90 (half the bytes
 * of bf16); other products widen the weight into {@code scratch} (bf16, large enough for every
 * expert) and run the bf16 kernels, which is also the whole path off sm_90.
 */
record Fp8Weight(CUdeviceptr q, CUdeviceptr scales, int rows, int cols, int experts, DequantScratch scratch)
        implements LinearWeight {

    @Override
    public void matmul(CudaContext ctx, CUdeviceptr a, long lda, CUdeviceptr c, long ldc, GemmKernel.Out out, int m,
                       float alpha, float beta) {
        if (m <= GemmFp8Kernel.DECODE_MAX_ROWS && direct(ctx)) {
            GemmFp8Kernel.decode(ctx, a, lda, q, cols, scales, c, ldc, out, m, rows, cols, alpha, beta);
            return;
        }
        GemmFp8Kernel.dequantize(ctx, q, cols, scales, rows, cols, scratch.ptr(), cols);
        GemmKernel.matmul(ctx, a, lda, scratch.ptr(), cols, c, ldc, out, m, rows, cols, alpha, beta);
    }

    @Override
    public void grouped(CudaContext ctx, CUdeviceptr a, long lda, CUdeviceptr c, long ldc, GemmKernel.Out out,
                        CUdeviceptr offsets, CUdeviceptr tiles, CUdeviceptr numTiles, int maxTiles, int tileRows,
                        float alpha, float beta) {
        if (tileRows == GemmKernel.GROUPED_SPLIT_TILE_ROWS && direct(ctx)) {
            GemmFp8Kernel.grouped(ctx, a, lda, q, cols, (long) rows * cols, scales, c, ldc, out, offsets, tiles,
                    numTiles, maxTiles, rows, cols, alpha, beta);
            return;
        }
        GemmFp8Kernel.dequantize(ctx, q, cols, scales, rows * experts, cols, scratch.ptr(), cols);
        GemmKernel.grouped(ctx, a, lda, scratch.ptr(), cols, (long) rows * cols, c, ldc, out, offsets, tiles, numTiles,
                maxTiles, tileRows, rows, cols, alpha, beta);
    }

    /** The e4m3 product reads these bytes: an sm_90 device and rows of whole 16-byte loads. */
    private boolean direct(CudaContext ctx) {
        return GemmFp8Kernel.direct(ctx) && cols % 16 == 0;
    }
}
