package dev.kimilinear.cuda;

import jcuda.driver.CUdeviceptr;

/**
 * e4m3 weights with one fp32 scale per output channel (gemm_fp8.cu): quantising bf16 rows,
 * dequantising them back, the decode-sized products that read the e4m3 bytes against bf16
 * activations (sm_90: the split product of {@link GemmKernel} with the weights widened in
 * registers), and the prefill-sized products of e4m3 by e4m3 on wgmma (sm_90: the Hopper
 * product of {@link GemmKernel} over e4m3 rows). Quantisation is {@code Fp8Quantizer}'s on the
 * host, bit for bit.
 */
public final class GemmFp8Kernel {
    /** Most activation rows the e4m3 decode-sized product takes. */
    public static final int DECODE_MAX_ROWS = GemmKernel.SKINNY_MAX_ROWS;
    /**
     * Slices of K per cluster in the e4m3 decode products (gemm_fp8.cu says why fewer than the
     * bf16 form's 8, and what was measured).
     */
    static final int DENSE_SLICES = 4;
    static final int GROUPED_SLICES = 2;

    private GemmFp8Kernel() {
    }

    /** Q [rows, K] e4m3 (row pitch ldq bytes) and scales [rows] from X [rows, K] bf16. */
    public static void quantize(CudaContext ctx, CUdeviceptr x, long ldx, int rows, int k, CUdeviceptr q, long ldq,
                                CUdeviceptr scales) {
        Launch.run(ctx, "quantize_rows_e4m3", "rows=" + rows + " K=" + k, rows, 1, 1, 256, 0, x, ldx, rows, k, q, ldq,
                scales);
    }

    /** X [rows, K] bf16 = Q * scale per row. */
    public static void dequantize(CudaContext ctx, CUdeviceptr q, long ldq, CUdeviceptr scales, int rows, int k,
                                  CUdeviceptr x, long ldx) {
        long total = (long) rows * k;
        int grid = (int) Math.min(Launch.ceilDiv(total, 256), 8L * ctx.device().multiprocessors() * 8);
        Launch.run(ctx, "dequantize_rows_e4m3", "rows=" + rows + " K=" + k, Math.max(grid, 1), 1, 1, 256, 0, q, ldq,
                scales, rows, k, x, ldx);
    }

    /**
     * As {@link #quantize} for the first *rows rows of X, a count on the device (an MoE dispatch's
     * offsets[E]); the grid covers maxRows.
     */
    public static void quantizeCounted(CudaContext ctx, CUdeviceptr x, long ldx, CUdeviceptr rows, int maxRows, int k,
                                       CUdeviceptr q, long ldq, CUdeviceptr scales) {
        Launch.run(ctx, "quantize_rows_e4m3_counted", "maxRows=" + maxRows + " K=" + k, maxRows, 1, 1, 256, 0, x, ldx,
                rows, k, q, ldq, scales);
    }

    /**
     * C [m, n] = alpha * (A [m, k] * sa per row) * (Q [n, k] * sq per row)^T + beta * C, both
     * e4m3 (row pitches in bytes), on wgmma (sm_90): the prefill-sized product.
     */
    public static void prefill(CudaContext ctx, CUdeviceptr a, long lda, CUdeviceptr sa, CUdeviceptr q, long ldq,
                               CUdeviceptr sq, CUdeviceptr c, long ldc, GemmKernel.Out out, int m, int n, int k,
                               float alpha, float beta) {
        String shapes = "fp8 wgmma M=" + m + " N=" + n + " K=" + k;
        checkBoth(k, lda, ldq, shapes);
        if (m == 0 || n == 0) {
            return;
        }
        long tiles = (long) Launch.ceilDiv(m, GemmKernel.GROUPED_PREFILL_TILE_ROWS) * Launch.ceilDiv(n, 256);
        int grid = (int) Math.min(tiles, ctx.device().multiprocessors());
        Launch.run(ctx, out == GemmKernel.Out.F32 ? "gemm90_fp8_f32" : "gemm90_fp8_bf16", shapes, grid, 1, 1, 384,
                GemmKernel.H_SMEM, a, lda, sa, q, ldq, sq, c, ldc, m, n, k, alpha, beta, ctx.tensorMapsFor(grid));
    }

    /**
     * The expert-grouped prefill product (tiles of {@link GemmKernel#GROUPED_PREFILL_TILE_ROWS}
     * rows from {@link MoeKernel#dispatch}): e4m3 rows permuted per expert with their scales sa,
     * expert e's codes at q + e * sQ bytes and scales at sq + e * n.
     */
    public static void groupedPrefill(CudaContext ctx, CUdeviceptr a, long lda, CUdeviceptr sa, CUdeviceptr q, long ldq,
                                      long sQ, CUdeviceptr sq, CUdeviceptr c, long ldc, GemmKernel.Out out,
                                      CUdeviceptr offsets, CUdeviceptr tiles, CUdeviceptr numTiles, int maxTiles, int n,
                                      int k, float alpha, float beta) {
        String shapes = "fp8 wgmma grouped N=" + n + " K=" + k + " maxTiles=" + maxTiles;
        checkBoth(k, lda, ldq, shapes);
        int grid = Math.max(1, (int) Math.min((long) maxTiles * Launch.ceilDiv(n, 256), ctx.device().multiprocessors()));
        Launch.run(ctx, out == GemmKernel.Out.F32 ? "gemm90_fp8_grouped_f32" : "gemm90_fp8_grouped_bf16", shapes,
                grid, 1, 1, 384, GemmKernel.H_SMEM, a, lda, sa, q, ldq, sQ, sq, c, ldc, offsets, tiles,
                numTiles, n, k, alpha, beta, ctx.tensorMapsFor(grid));
    }

    /**
     * {@link #groupedPrefill} of a fused gate/up weight (expert e: [2n, k] codes at q + e * sQ,
     * 2n scales at sq + e * 2n, gate rows first) with SwiGLU applied as it stores: act [rows, n]
     * bf16 = silu(A W_gate^T) * (A W_up^T) ({@link GemmKernel#groupedSwiglu}).
     */
    public static void groupedSwigluPrefill(CudaContext ctx, CUdeviceptr a, long lda, CUdeviceptr sa, CUdeviceptr q,
                                            long ldq, long sQ, CUdeviceptr sq, CUdeviceptr act, long ldc,
                                            CUdeviceptr offsets, CUdeviceptr tiles, CUdeviceptr numTiles, int maxTiles,
                                            int n, int k, float alpha) {
        String shapes = "fp8 wgmma grouped swiglu N=" + n + " K=" + k + " maxTiles=" + maxTiles;
        checkBoth(k, lda, ldq, shapes);
        int grid = Math.max(1, (int) Math.min((long) maxTiles * Launch.ceilDiv(n, 128), ctx.device().multiprocessors()));
        Launch.run(ctx, "gemm90_fp8_grouped_swiglu", shapes, grid, 1, 1, 384, GemmKernel.H_SMEM, a, lda, sa,
                q, ldq, sQ, sq, act, ldc, offsets, tiles, numTiles, n, k, alpha, ctx.tensorMapsFor(grid));
    }

    /**
     * {@link #prefill} of a fused gate/up weight (q [2n, k] codes, 2n scales, gate rows first)
     * with SwiGLU applied as it stores: act [m, n] bf16 = silu(A W_gate^T) * (A W_up^T).
     */
    public static void swigluPrefill(CudaContext ctx, CUdeviceptr a, long lda, CUdeviceptr sa, CUdeviceptr q, long ldq,
                                     CUdeviceptr sq, CUdeviceptr act, long ldc, int m, int n, int k, float alpha) {
        String shapes = "fp8 wgmma swiglu M=" + m + " N=" + n + " K=" + k;
        checkBoth(k, lda, ldq, shapes);
        long tiles = (long) Launch.ceilDiv(m, GemmKernel.GROUPED_PREFILL_TILE_ROWS) * Launch.ceilDiv(n, 128);
        int grid = (int) Math.max(1, Math.min(tiles, ctx.device().multiprocessors()));
        Launch.run(ctx, "gemm90_fp8_swiglu", shapes, grid, 1, 1, 384, GemmKernel.H_SMEM, a, lda, sa, q, ldq, sq, act, ldc,
                m, n, k, alpha, ctx.tensorMapsFor(grid));
    }

    private static void checkBoth(int k, long lda, long ldq, String shapes) {
        if (k % 16 != 0 || lda % 16 != 0 || ldq % 16 != 0) {
            throw new CudaException("gemm fp8 [" + shapes + "]: K and both e4m3 row pitches must be multiples of 16");
        }
    }

    /** Whether the products that read e4m3 weights directly run here (an sm_90 device). */
    public static boolean direct(CudaContext ctx) {
        return GemmKernel.hopper(ctx);
    }

    /** C [m, n] = alpha * A [m, k] (bf16) * (Q [n, k] * scale)^T + beta * C, for up to 64 rows on sm_90. */
    public static void decode(CudaContext ctx, CUdeviceptr a, long lda, CUdeviceptr q, long ldq, CUdeviceptr scales,
                              CUdeviceptr c, long ldc, GemmKernel.Out out, int m, int n, int k, float alpha, float beta) {
        int slices = DENSE_SLICES;
        String shapes = "fp8 M=" + m + " N=" + n + " K=" + k;
        check(k, lda, ldq, shapes);
        if (!direct(ctx) || m > DECODE_MAX_ROWS) {
            throw new CudaException("gemm_fp8w_split [" + shapes + "]: needs an sm_90 device and at most "
                    + DECODE_MAX_ROWS + " rows");
        }
        if (m == 0 || n == 0) {
            return;
        }
        int rowsPadded = m <= 16 ? 16 : m <= 32 ? 32 : 64;
        Launch.run(ctx, "gemm_fp8w_split_m" + rowsPadded + "_s" + slices, shapes, Launch.ceilDiv(n, GemmKernel.SPLIT_ROWS),
                slices, 1, 256, smem(rowsPadded, k, slices), a, lda, q, ldq, scales, c, ldc, m, n, k, alpha,
                beta, out == GemmKernel.Out.BF16 ? 1 : 0);
    }

    /**
     * The expert-grouped form for decode steps (tiles of {@link GemmKernel#groupedTileRows} = 16
     * rows on sm_90): expert e's weights at q + e * sQ bytes, its scales at scales + e * n.
     */
    public static void grouped(CudaContext ctx, CUdeviceptr a, long lda, CUdeviceptr q, long ldq, long sQ,
                               CUdeviceptr scales, CUdeviceptr c, long ldc, GemmKernel.Out out, CUdeviceptr offsets,
                               CUdeviceptr tiles, CUdeviceptr numTiles, int maxTiles, int n, int k, float alpha,
                               float beta) {
        int slices = GROUPED_SLICES;
        String shapes = "fp8 grouped N=" + n + " K=" + k + " maxTiles=" + maxTiles;
        check(k, lda, ldq, shapes);
        if (!direct(ctx)) {
            throw new CudaException("gemm_grouped_fp8w_split [" + shapes + "]: needs an sm_90 device, not " + ctx.device());
        }
        Launch.run(ctx, "gemm_grouped_fp8w_split_m16_s" + slices, shapes, Launch.ceilDiv(n, GemmKernel.SPLIT_ROWS),
                slices, maxTiles, 256, smem(16, k, slices), a, lda, q, ldq, sQ, scales, c, ldc, offsets, tiles,
                numTiles, n, k, alpha, beta, out == GemmKernel.Out.BF16 ? 1 : 0);
    }

    /** The staged activations' slice (K over the cluster, in steps of 64) or the partial sums, whichever is larger. */
    private static int smem(int rowsPadded, int k, int slices) {
        int slice = ((k + slices - 1) / slices + 63) / 64 * 64;
        return Math.max(rowsPadded * (slice + 8) * 2, rowsPadded * (GemmKernel.SPLIT_ROWS + 4) * 4);
    }

    private static void check(int k, long lda, long ldq, String shapes) {
        if (k % 16 != 0 || lda % 8 != 0 || ldq % 16 != 0) {
            throw new CudaException("gemm fp8 [" + shapes + "]: K and the e4m3 row pitch must be multiples of 16, the "
                    + "activations' of 8");
        }
    }
}
