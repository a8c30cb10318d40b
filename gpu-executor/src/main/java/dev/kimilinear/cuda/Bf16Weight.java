package dev.kimilinear.cuda;

import jcuda.driver.CUdeviceptr;

/** A bf16 weight, [experts][rows, cols] contiguous. */
record Bf16Weight(CUdeviceptr ptr, int rows, int cols, int experts) implements LinearWeight {

    @Override
    public void matmul(CudaContext ctx, CUdeviceptr a, long lda, CUdeviceptr c, long ldc, GemmKernel.Out out, int m,
                       float alpha, float beta) {
        GemmKernel.matmul(ctx, a, lda, ptr, cols, c, ldc, out, m, rows, cols, alpha, beta);
    }

    @Override
    public void grouped(CudaContext ctx, CUdeviceptr a, long lda, CUdeviceptr c, long ldc, GemmKernel.Out out,
                        CUdeviceptr offsets, CUdeviceptr tiles, CUdeviceptr numTiles, int maxTiles, int tileRows,
                        float alpha, float beta) {
        GemmKernel.grouped(ctx, a, lda, ptr, cols, (long) rows * cols, c, ldc, out, offsets, tiles, numTiles, maxTiles,
                tileRows, rows, cols, alpha, beta);
    }

    @Override
    public boolean fusesGroupedSwiglu(CudaContext ctx, int tileRows, CUdeviceptr a, long lda) {
        return rows % 2 == 0 && GemmKernel.fusesGroupedSwiglu(ctx, tileRows, a, lda, ptr, cols, (long) rows * cols, cols);
    }

    @Override
    public boolean fusesSwiglu(CudaContext ctx, int m, CUdeviceptr a, long lda) {
        return experts == 1 && rows % 2 == 0 && GemmKernel.fusesSwiglu(ctx, m, rows / 2, a, lda, ptr, cols, cols);
    }

    @Override
    public void matmulSwiglu(CudaContext ctx, CUdeviceptr a, long lda, CUdeviceptr act, long ldo, int m) {
        if (!fusesSwiglu(ctx, m, a, lda)) {
            throw new CudaException("swiglu: no fused product for " + m + " rows of a " + rows + " x " + cols
                    + " weight here");
        }
        GemmKernel.matmulSwiglu(ctx, a, lda, ptr, cols, act, ldo, m, rows / 2, cols, 1f);
    }

    @Override
    public void groupedSwiglu(CudaContext ctx, CUdeviceptr a, long lda, CUdeviceptr act, long ldo, CUdeviceptr offsets,
                              CUdeviceptr tiles, CUdeviceptr numTiles, int maxTiles, int tileRows) {
        if (!fusesGroupedSwiglu(ctx, tileRows, a, lda)) {
            throw new CudaException("grouped swiglu: no fused product for tiles of " + tileRows + " rows of a "
                    + rows + " x " + cols + " weight here");
        }
        GemmKernel.groupedSwiglu(ctx, a, lda, ptr, cols, (long) rows * cols, act, ldo, offsets, tiles, numTiles,
                maxTiles, rows / 2, cols, 1f);
    }
}
