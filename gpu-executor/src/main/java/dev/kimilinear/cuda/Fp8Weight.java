package dev.kimilinear.cuda;

import jcuda.driver.CUdeviceptr;

/**
 * An e4m3 weight with one fp32 scale per output channel, [experts][rows, cols] bytes and
 * [experts][rows] scales. On sm_90 every product reads the codes: decode-sized ones widen them in
 * registers against bf16 activations (half the weight bytes of bf16), prefill-sized ones quantise
 * the activations per row into {@code codes} and multiply e4m3 by e4m3 on wgmma. Off sm_90 the
 * weight is widened into {@code scratch} (bf16, large enough for every expert) for the bf16 kernels,
 * as it is for widths off the e4m3 product's 16-byte loads (the bf16 kernels take those element-wise).
 */
record Fp8Weight(CUdeviceptr q, CUdeviceptr scales, int rows, int cols, int experts, DequantScratch scratch,
                 ActivationCodes codes) implements LinearWeight {

    @Override
    public void matmul(CudaContext ctx, CUdeviceptr a, long lda, CUdeviceptr c, long ldc, GemmKernel.Out out, int m,
                       float alpha, float beta) {
        if (direct(ctx, cols)) {
            // activations the decode product cannot stage 16 bytes at a time take the prefill form,
            // whose quantisation reads rows of any alignment
            if (m <= GemmFp8Kernel.DECODE_MAX_ROWS && stageable(a, lda)) {
                GemmFp8Kernel.decode(ctx, a, lda, q, cols, scales, c, ldc, out, m, rows, cols, alpha, beta);
            } else {
                CUdeviceptr aq = codes.codes(m, cols);
                GemmFp8Kernel.quantize(ctx, a, lda, m, cols, aq, cols, codes.scales());
                GemmFp8Kernel.prefill(ctx, aq, cols, codes.scales(), q, cols, scales, c, ldc, out, m, rows, cols, alpha,
                        beta);
            }
            return;
        }
        GemmFp8Kernel.dequantize(ctx, q, cols, scales, rows, cols, scratch.ptr(), cols);
        GemmKernel.matmul(ctx, a, lda, scratch.ptr(), cols, c, ldc, out, m, rows, cols, alpha, beta);
    }

    @Override
    public void grouped(CudaContext ctx, CUdeviceptr a, long lda, CUdeviceptr c, long ldc, GemmKernel.Out out,
                        CUdeviceptr offsets, CUdeviceptr tiles, CUdeviceptr numTiles, int maxTiles, int tileRows,
                        float alpha, float beta) {
        if (tileRows == GemmKernel.GROUPED_SPLIT_TILE_ROWS && direct(ctx, cols)) {
            if (!stageable(a, lda)) {
                // routed rows are packed by the dispatch at the weight's width, a multiple of 16
                throw new CudaException("fp8 grouped decode: routed rows at pitch " + lda + " not 16-byte aligned");
            }
            GemmFp8Kernel.grouped(ctx, a, lda, q, cols, (long) rows * cols, scales, c, ldc, out, offsets, tiles,
                    numTiles, maxTiles, rows, cols, alpha, beta);
            return;
        }
        if (tileRows == GemmKernel.GROUPED_PREFILL_TILE_ROWS && direct(ctx, cols)) {
            // the routed rows' count is on the device (offsets[experts]); the grid covers the most
            // there can be: the tiles cover every row, at most tileRows each
            int bound = (int) Math.min(codes.maxRows(), (long) maxTiles * tileRows);
            CUdeviceptr aq = codes.codes(bound, cols);
            GemmFp8Kernel.quantizeCounted(ctx, a, lda, offsets.withByteOffset(4L * experts), bound, cols, aq, cols,
                    codes.scales());
            GemmFp8Kernel.groupedPrefill(ctx, aq, cols, codes.scales(), q, cols, (long) rows * cols, scales, c, ldc,
                    out, offsets, tiles, numTiles, maxTiles, rows, cols, alpha, beta);
            return;
        }
        GemmFp8Kernel.dequantize(ctx, q, cols, scales, rows * experts, cols, scratch.ptr(), cols);
        GemmKernel.grouped(ctx, a, lda, scratch.ptr(), cols, (long) rows * cols, c, ldc, out, offsets, tiles, numTiles,
                maxTiles, tileRows, rows, cols, alpha, beta);
    }

    @Override
    public boolean fusesSwiglu(CudaContext ctx, int m, CUdeviceptr a, long lda) {
        // rows the weight-only decode form takes stay there; the fused form quantises the rows first
        return experts == 1 && rows % 2 == 0 && m > GemmFp8Kernel.DECODE_MAX_ROWS && direct(ctx, cols)
                && GemmKernel.swigluTilesFill(ctx, m, rows / 2);
    }

    @Override
    public void matmulSwiglu(CudaContext ctx, CUdeviceptr a, long lda, CUdeviceptr act, long ldo, int m) {
        if (!fusesSwiglu(ctx, m, a, lda)) {
            throw new CudaException("fp8 swiglu: no fused product for " + m + " rows of a " + rows + " x " + cols
                    + " weight here");
        }
        CUdeviceptr aq = codes.codes(m, cols);
        GemmFp8Kernel.quantize(ctx, a, lda, m, cols, aq, cols, codes.scales());
        GemmFp8Kernel.swigluPrefill(ctx, aq, cols, codes.scales(), q, cols, scales, act, ldo, m, rows / 2, cols, 1f);
    }

    @Override
    public boolean fusesGroupedSwiglu(CudaContext ctx, int tileRows, CUdeviceptr a, long lda) {
        // the activations are quantised into codes first, from rows of any alignment
        return rows % 2 == 0 && tileRows == GemmKernel.GROUPED_PREFILL_TILE_ROWS && direct(ctx, cols);
    }

    @Override
    public void groupedSwiglu(CudaContext ctx, CUdeviceptr a, long lda, CUdeviceptr act, long ldo, CUdeviceptr offsets,
                              CUdeviceptr tiles, CUdeviceptr numTiles, int maxTiles, int tileRows) {
        if (!fusesGroupedSwiglu(ctx, tileRows, a, lda)) {
            throw new CudaException("fp8 grouped swiglu: no fused product for tiles of " + tileRows + " rows of a "
                    + rows + " x " + cols + " weight here");
        }
        int bound = (int) Math.min(codes.maxRows(), (long) maxTiles * tileRows);
        CUdeviceptr aq = codes.codes(bound, cols);
        GemmFp8Kernel.quantizeCounted(ctx, a, lda, offsets.withByteOffset(4L * experts), bound, cols, aq, cols,
                codes.scales());
        GemmFp8Kernel.groupedSwigluPrefill(ctx, aq, cols, codes.scales(), q, cols, (long) rows * cols, scales, act, ldo,
                offsets, tiles, numTiles, maxTiles, rows / 2, cols, 1f);
    }

    /** The e4m3 products read a weight's codes: on an sm_90 device, for rows of whole 16-byte loads. */
    static boolean direct(CudaContext ctx, int cols) {
        return GemmFp8Kernel.direct(ctx) && cols % 16 == 0;
    }

    /** Whether the decode products can stage these activation rows 16 bytes at a time. */
    private static boolean stageable(CUdeviceptr a, long lda) {
        return lda % 8 == 0 && DeviceAddress.aligned(a, 16);
    }
}
