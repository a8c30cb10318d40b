package dev.kimilinear.cuda;

import jcuda.driver.CUdeviceptr;

/**
 * {@code C = alpha * A * B^T + beta * C} for A [M, K] and B [N, K] in bf16 (B a weight stored
 * [out, in]) with fp32 accumulation (gemm.cu). Up to 8 rows: a decode-sized tensor-core product
 * streaming the weights (the CUDA-core GEMV stays for comparison). More rows: on Hopper the
 * wgmma product, or for up to 64 rows against weights too narrow to fill the machine with its
 * tiles, a product with K split over a cluster; elsewhere the mma.sync tile kernel. Batches
 * with strides, and the expert-grouped form (skinny, tile or Hopper kernel by rows per step).
 * Every one of these loads 16 bytes at a time; operands off that alignment (K, a leading dimension
 * or stride not a multiple of 8, an operand not at a 16-byte address: models of odd shapes) take
 * the tile kernel reading element by element instead ({@link #any}).
 */
public final class GemmKernel {
    /** Output element type. */
    public enum Out { F32, BF16 }

    private static final int STAGES = 3;
    private static final int BN = 128;
    private static final int LDS = 40;
    /** Hopper product: tile rows, tile columns, shared memory (4 stages of A and B tiles, alignment, barriers). */
    private static final int H_BM = 128;
    private static final int H_BN = 256;
    /** K per stage of the Hopper product (bf16). */
    private static final int H_BK = 64;
    /**
     * Dynamic shared memory of the Hopper product, bf16 or e4m3: 4 stages of 128-byte rows, the
     * 1024-byte alignment of the swizzle, the stages' mbarriers and two tensor maps being built.
     */
    static final int H_SMEM = 4 * (128 + 256) * 64 * 2 + 1024 + 128 + 256;
    /** Rows per tile of the Hopper product's expert-grouped form ({@link #groupedTileRows} for prefill). */
    static final int GROUPED_PREFILL_TILE_ROWS = H_BM;
    /** Rows per tile of the tile kernel's grouped form. */
    public static final int GROUPED_TILE_ROWS = 64;
    /** Rows per tile, and most routed rows, of the grouped form on the skinny kernel (decode sizes). */
    static final int GROUPED_SKINNY_TILE_ROWS = 8;
    static final int GROUPED_SKINNY_MAX_ROWS = 256;
    /**
     * Rows per tile, and most routed rows, of the grouped form on the split decode-sized product
     * (Hopper): a 256-sequence decode step routes 2048 rows, about 8 per expert, so nearly every
     * expert is one tile and its weights stream once at the split product's rate (the 64-row tile
     * kernel streamed them at 62-64% of copy bandwidth there).
     */
    static final int GROUPED_SPLIT_TILE_ROWS = 16;
    static final int GROUPED_SPLIT_MAX_ROWS = 2048;
    /** Routed rows above which the grouped product runs on the Hopper kernel (prefill sizes). */
    static final int GROUPED_HOPPER_MIN_ROWS = 2048;
    /**
     * Rows up to which products take the decode-sized path (measured on the H100: faster than
     * the GEMV at 1 and 8 rows; from 16 to 64 rows at N = 12320 no faster than the 64-row tile
     * kernel, whose summation order the bf16 model results were checked with).
     */
    static final int SKINNY_ROWS = 8;
    /** Most rows the decode-sized kernels are built for. */
    static final int SKINNY_MAX_ROWS = 64;
    /** K slices (the cluster size) and weight rows per block of the split decode-sized product. */
    static final int SPLIT_SLICES = 8;
    static final int SPLIT_ROWS = 128;
    /**
     * K slices of the grouped split product. Measured on the H100 (`bench kernels moe-split`, 256
     * experts, top-8): in 4 slices the gate and up products (K = 2304) take 0.660 and 0.862 ms at 64
     * and 256 tokens against 0.719 and 0.953 ms in 8, the down product (K = 1024) 0.351 and 0.435
     * ms against 0.465 and 0.615 (92-95% of copy bandwidth against 65-72%): per expert tile each
     * block then streams twice the weights for the same staging and merge.
     */
    static final int GROUPED_SPLIT_SLICES = 4;
    /**
     * When the split product takes decode-sized rows on Hopper: K of at least SPLIT_MIN_K, and
     * fewer Hopper tiles than a SPLIT_TILE_SHARE-th of the multiprocessors. Measured on the H100
     * with 64 rows: o_proj 2304 x 4096 (9 tiles) 0.027 ms split, 0.086 ms on the tile kernel;
     * 12320 x 2304 (49 tiles) 0.032 ms Hopper, 0.073 ms split (there its mma.sync work and
     * shared-memory reads no longer hide under the weight stream), 0.056 ms tile kernel.
     */
    static final int SPLIT_MIN_K = 1024;
    static final int SPLIT_TILE_SHARE = 4;

    /**
     * Bytes of fp32 partial sums the K-split product may use (per context, {@link
     * CudaContext#gemmScratch}): 8 splits of 256 x 4096.
     */
    public static final long SPLIT_K_SCRATCH_BYTES = 8L * 256 * 4096 * 4;
    /** Most K splits, and fewest 64-column stages a split keeps. */
    static final int SPLIT_K_MAX = 16;
    static final int SPLIT_K_MIN_STAGES = 4;

    private GemmKernel() {
    }

    public static void matmul(CudaContext ctx, CUdeviceptr a, long lda, CUdeviceptr b, long ldb, CUdeviceptr c,
                              long ldc, Out out, int m, int n, int k, float alpha, float beta) {
        batched(ctx, a, lda, 0, b, ldb, 0, c, ldc, 0, out, m, n, k, 1, alpha, beta);
    }

    /** Plain product with contiguous rows: C [M, N] = A [M, K] * B [N, K]^T. */
    public static void matmul(CudaContext ctx, CUdeviceptr a, CUdeviceptr b, CUdeviceptr c, Out out, int m, int n, int k) {
        matmul(ctx, a, k, b, k, c, n, out, m, n, k, 1f, 0f);
    }

    /** {@code batch} independent products; the strides are in elements. */
    public static void batched(CudaContext ctx, CUdeviceptr a, long lda, long sA, CUdeviceptr b, long ldb, long sB,
                               CUdeviceptr c, long ldc, long sC, Out out, int m, int n, int k, int batch,
                               float alpha, float beta) {
        if (!aligned(a, lda, batch > 1 ? sA : 0, b, ldb, batch > 1 ? sB : 0, k)) {
            any(ctx, a, lda, sA, b, ldb, sB, c, ldc, sC, out, m, n, k, batch, alpha, beta);
            return;
        }
        if (m == 0 || n == 0) {
            return;
        }
        if (m <= SKINNY_ROWS) {
            skinny(ctx, a, lda, sA, b, ldb, sB, c, ldc, sC, out, m, n, k, batch, alpha, beta);
            return;
        }
        if (hopper(ctx)) {
            // few tiles of 128 x 256 leave most multiprocessors idle; for decode-sized rows and a
            // long K the split product spreads the weights over the machine instead
            long tiles = (long) Launch.ceilDiv(m, H_BM) * Launch.ceilDiv(n, H_BN) * batch;
            if (m <= SKINNY_MAX_ROWS && batch == 1 && k >= SPLIT_MIN_K
                    && tiles * SPLIT_TILE_SHARE < ctx.device().multiprocessors()) {
                skinnySplit(ctx, a, lda, b, ldb, c, ldc, out, m, n, k, alpha, beta);
            } else if (batch == 1 && splitK(ctx, a, lda, b, ldb, c, ldc, out, m, n, k, alpha, beta)) {
                return;
            } else {
                warpgroups(ctx, a, lda, sA, b, ldb, sB, c, ldc, sC, out, m, n, k, batch, alpha, beta);
            }
            return;
        }
        tiled(ctx, a, lda, sA, b, ldb, sB, c, ldc, sC, out, m, n, k, batch, alpha, beta);
    }

    /**
     * Whether the 16-byte loads of every kernel but {@link #any} hold: K, the leading dimensions
     * and the strides (0 where there is one batch) multiples of 8 elements, both operands at
     * 16-byte addresses.
     */
    static boolean aligned(CUdeviceptr a, long lda, long sA, CUdeviceptr b, long ldb, long sB, int k) {
        return aligned(DeviceAddress.of(a), lda, sA, DeviceAddress.of(b), ldb, sB, k);
    }

    static boolean aligned(long aAddress, long lda, long sA, long bAddress, long ldb, long sB, int k) {
        return k % 8 == 0 && lda % 8 == 0 && ldb % 8 == 0 && sA % 8 == 0 && sB % 8 == 0 && aAddress % 16 == 0
                && bAddress % 16 == 0;
    }

    /**
     * The tile kernel reading its operands element by element (gemm_any_*): any K, leading
     * dimension, stride and even address. Same tiles and tensor-core steps as {@link #tiled};
     * only the loads differ (synchronous, so slower).
     */
    static void any(CudaContext ctx, CUdeviceptr a, long lda, long sA, CUdeviceptr b, long ldb, long sB,
                    CUdeviceptr c, long ldc, long sC, Out out, int m, int n, int k, int batch, float alpha, float beta) {
        String shapes = "M=" + m + " N=" + n + " K=" + k + " batch=" + batch + " lda=" + lda + " ldb=" + ldb + " ldc=" + ldc;
        int bm = m <= 64 ? 64 : 128;
        String name = "gemm_any_bm" + bm + (out == Out.F32 ? "_f32" : "_bf16");
        Launch.run(ctx, name, shapes, Launch.ceilDiv(n, BN), Launch.ceilDiv(m, bm), batch, 256, smem(bm),
                a, lda, sA, b, ldb, sB, c, ldc, sC, m, n, k, alpha, beta);
    }

    /** True where the Hopper product runs: an sm_90 device, whose code is the fatbin's sm_90a build. */
    static boolean hopper(CudaContext ctx) {
        return ctx.device().major() == 9 && ctx.device().minor() == 0;
    }

    /** The mma.sync tile kernel (any sm_80+ device): 64- or 128-row tiles of 128 columns, one per block. */
    static void tiled(CudaContext ctx, CUdeviceptr a, long lda, long sA, CUdeviceptr b, long ldb, long sB,
                      CUdeviceptr c, long ldc, long sC, Out out, int m, int n, int k, int batch, float alpha,
                      float beta) {
        String shapes = "M=" + m + " N=" + n + " K=" + k + " batch=" + batch + " lda=" + lda + " ldb=" + ldb + " ldc=" + ldc;
        check(a, lda, batch > 1 ? sA : 0, b, ldb, batch > 1 ? sB : 0, k, shapes);
        int bm = m <= 64 ? 64 : 128;
        String name = "gemm_bm" + bm + (out == Out.F32 ? "_f32" : "_bf16");
        Launch.run(ctx, name, shapes, Launch.ceilDiv(n, BN), Launch.ceilDiv(m, bm), batch, 256, smem(bm),
                a, lda, sA, b, ldb, sB, c, ldc, sC, m, n, k, alpha, beta);
    }

    /**
     * The Hopper product (gemm90_*, sm_90 only): 128 x 256 tiles on wgmma, a loading warpgroup and
     * two multiplying ones, a persistent grid of one block per multiprocessor walking the tiles
     * (batches included) with the columns fastest, so the blocks in flight share B in L2.
     */
    static void warpgroups(CudaContext ctx, CUdeviceptr a, long lda, long sA, CUdeviceptr b, long ldb, long sB,
                           CUdeviceptr c, long ldc, long sC, Out out, int m, int n, int k, int batch, float alpha,
                           float beta) {
        String shapes = "M=" + m + " N=" + n + " K=" + k + " batch=" + batch + " lda=" + lda + " ldb=" + ldb + " ldc=" + ldc;
        check(a, lda, batch > 1 ? sA : 0, b, ldb, batch > 1 ? sB : 0, k, shapes);
        if (!hopper(ctx)) {
            throw new CudaException("gemm90 [" + shapes + "]: needs an sm_90 device, not " + ctx.device());
        }
        long tiles = (long) Launch.ceilDiv(m, H_BM) * Launch.ceilDiv(n, H_BN) * batch;
        int grid = (int) Math.min(tiles, ctx.device().multiprocessors());
        Launch.run(ctx, out == Out.F32 ? "gemm90_f32" : "gemm90_bf16", shapes, grid, 1, 1, 384, H_SMEM,
                a, lda, sA, b, ldb, sB, c, ldc, sC, m, n, k, batch, alpha, beta, ctx.tensorMapsFor(grid));
    }

    /**
     * The Hopper product's tensor copy alone ({@code gemm90_tensor_copy_probe}): the box of 64
     * columns x 128 rows at (col, row) of a bf16 matrix [rows, cols] (pitch ld elements) as it
     * lands in shared memory: 16 KB, row r's 16-byte chunk c at r * 128 + (c ^ (r % 8)) * 16,
     * zeros past the matrix. sm_90 only.
     */
    static short[] probeTensorCopy(CudaContext ctx, CUdeviceptr a, long ld, int rows, int cols, int col, int row) {
        if (!hopper(ctx)) {
            throw new CudaException("gemm90_tensor_copy_probe: needs an sm_90 device, not " + ctx.device());
        }
        try (DeviceBuffer out = DeviceBuffer.allocate(ctx, 16384)) {
            out.poison();
            Launch.run(ctx, "gemm90_tensor_copy_probe", "rows=" + rows + " cols=" + cols + " at " + col + "," + row, 1, 1,
                    1, 128, 16384 + 1024 + 128 + 128, a, ld, rows, cols, col, row, ctx.tensorMapRoom(), out.ptr());
            return out.toShorts();
        }
    }

    /**
     * K splits for a Hopper product of {@code tiles} 128 x 256 tiles and {@code stages} 64-column
     * stages of K on {@code sms} multiprocessors, or 1: the split count whose waves of blocks
     * times stages per block is least (ties: fewer), among those that divide the stages, keep at
     * least {@link #SPLIT_K_MIN_STAGES} each, and whose partials fit {@code scratchFloats}. A
     * decode-sized product (256 rows by 2304 columns: 18 tiles) otherwise leaves most
     * multiprocessors idle while 18 blocks walk all of K.
     */
    /** Diagnostic switch: {@code -Dkimi.cuda.noSplitK=true} keeps K whole in every product. */
    private static final boolean NO_SPLIT_K = Boolean.getBoolean("kimi.cuda.noSplitK");

    static int splitCount(long tiles, int stages, int sms, long partialFloats, long scratchFloats) {
        if (tiles * 2 > sms) {
            return 1;
        }
        int best = 1;
        long bestCost = stages;   // one wave of tiles, every stage
        for (int s = 2; s <= SPLIT_K_MAX; s++) {
            if (stages % s != 0 || stages / s < SPLIT_K_MIN_STAGES || (long) s * partialFloats > scratchFloats) {
                continue;
            }
            long cost = (tiles * s + sms - 1) / sms * (stages / s);
            if (cost < bestCost) {
                best = s;
                bestCost = cost;
            }
        }
        return best;
    }

    /**
     * A product of few tiles with K split over the Hopper product's batches (split z multiplies
     * columns [z K/s, (z+1) K/s) of A and B into its own fp32 partials), then the partials added
     * in order into C. False (nothing run) where it does not pay or no scratch was set up.
     */
    private static boolean splitK(CudaContext ctx, CUdeviceptr a, long lda, CUdeviceptr b, long ldb, CUdeviceptr c,
                                  long ldc, Out out, int m, int n, int k, float alpha, float beta) {
        DeviceBuffer scratch = ctx.gemmScratchIfAny();
        if (NO_SPLIT_K || scratch == null || k % H_BK != 0 || m <= SKINNY_MAX_ROWS) {
            return false;
        }
        long tiles = (long) Launch.ceilDiv(m, H_BM) * Launch.ceilDiv(n, H_BN);
        int splits = splitCount(tiles, k / H_BK, ctx.device().multiprocessors(), (long) m * n, scratch.bytes() / 4);
        if (splits == 1) {
            return false;
        }
        int part = k / splits;
        warpgroups(ctx, a, lda, part, b, ldb, part, scratch.ptr(), n, (long) m * n, Out.F32, m, n, part, splits, 1f, 0f);
        reduceSplits(ctx, scratch.ptr(), splits, c, ldc, out, m, n, alpha, beta);
        return true;
    }

    /** C [m, n] = alpha * (sum of the splits' fp32 partials [splits][m, n], in order) + beta * C. */
    static void reduceSplits(CudaContext ctx, CUdeviceptr partials, int splits, CUdeviceptr c, long ldc, Out out, int m,
                             int n, float alpha, float beta) {
        Launch.run(ctx, "gemm_splitk_reduce", "M=" + m + " N=" + n + " splits=" + splits,
                Launch.ceilDiv((long) m * n, 256), 1, 1, 256, 0, partials, (long) m * n, splits, c, ldc, m, n, alpha,
                beta, out == Out.BF16 ? 1 : 0);
    }

    /** A warp per output column on the CUDA cores, for up to 8 rows (one row streams 8 loads per lane). */
    static void gemv(CudaContext ctx, CUdeviceptr a, long lda, long sA, CUdeviceptr b, long ldb, long sB,
                     CUdeviceptr c, long ldc, long sC, Out out, int m, int n, int k, int batch, float alpha, float beta) {
        String shapes = "M=" + m + " N=" + n + " K=" + k + " batch=" + batch;
        check(a, lda, batch > 1 ? sA : 0, b, ldb, batch > 1 ? sB : 0, k, shapes);
        if (m > 8) {
            throw new CudaException("gemv [" + shapes + "]: at most 8 rows");
        }
        Launch.run(ctx, m == 1 ? "gemv_bf16_row" : "gemv_bf16", shapes, Launch.ceilDiv(n, 8), batch, 1, 256, 0,
                a, lda, sA, b, ldb, sB, c, ldc, sC, m, n, k, alpha, beta, out == Out.BF16 ? 1 : 0);
    }

    /**
     * Up to {@value #SKINNY_MAX_ROWS} rows on the tensor cores with the weight rows on the
     * 16-row side (gemm_skinny_m*): the weights stream once into registers, 64 output columns
     * per block.
     */
    static void skinny(CudaContext ctx, CUdeviceptr a, long lda, long sA, CUdeviceptr b, long ldb, long sB,
                       CUdeviceptr c, long ldc, long sC, Out out, int m, int n, int k, int batch, float alpha,
                       float beta) {
        String shapes = "M=" + m + " N=" + n + " K=" + k + " batch=" + batch;
        check(a, lda, batch > 1 ? sA : 0, b, ldb, batch > 1 ? sB : 0, k, shapes);
        if (m > SKINNY_MAX_ROWS) {
            throw new CudaException("gemm_skinny [" + shapes + "]: at most " + SKINNY_MAX_ROWS + " rows");
        }
        int tiles = m <= 8 ? 8 : m <= 16 ? 16 : m <= 32 ? 32 : 64;
        Launch.run(ctx, "gemm_skinny_m" + tiles, shapes, Launch.ceilDiv(n, 64), batch, 1, 256, 0,
                a, lda, sA, b, ldb, sB, c, ldc, sC, m, n, k, alpha, beta, out == Out.BF16 ? 1 : 0);
    }

    /**
     * Up to {@value #SKINNY_MAX_ROWS} rows on Hopper (gemm_skinny_split_m*): K cut into
     * {@value #SPLIT_SLICES} slices, one block each per 128 weight rows, the blocks of a column
     * tile a cluster whose partial sums are added in a fixed order in its first block.
     */
    static void skinnySplit(CudaContext ctx, CUdeviceptr a, long lda, CUdeviceptr b, long ldb, CUdeviceptr c, long ldc,
                            Out out, int m, int n, int k, float alpha, float beta) {
        String shapes = "M=" + m + " N=" + n + " K=" + k;
        check(a, lda, 0, b, ldb, 0, k, shapes);
        if (!hopper(ctx) || m > SKINNY_MAX_ROWS) {
            throw new CudaException("gemm_skinny_split [" + shapes + "]: needs an sm_90 device and at most "
                    + SKINNY_MAX_ROWS + " rows");
        }
        int rowsPadded = m <= 16 ? 16 : m <= 32 ? 32 : 64;
        int slice = ((k + SPLIT_SLICES - 1) / SPLIT_SLICES + 31) / 32 * 32;
        int smem = Math.max(rowsPadded * (slice + 8) * 2, rowsPadded * (SPLIT_ROWS + 4) * 4);
        Launch.run(ctx, "gemm_skinny_split_m" + rowsPadded, shapes, Launch.ceilDiv(n, SPLIT_ROWS), SPLIT_SLICES, 1, 256,
                smem, a, lda, b, ldb, c, ldc, m, n, k, alpha, beta, out == Out.BF16 ? 1 : 0);
    }

    /**
     * Rows per tile of the expert-grouped product for {@code rows} routed rows: on an sm_90
     * device 16 (the split product) up to 2048 rows, decode steps of up to 256 tokens, and the
     * Hopper product's 128 for prefill-sized work; elsewhere 8 (the skinny kernel, each expert's
     * weights streamed once) for decode steps of a few tokens, else the tile kernel's 64.
     * {@link MoeKernel#dispatch} plans with it and {@link #grouped} must be given the same.
     */
    public static int groupedTileRows(CudaContext ctx, int rows) {
        if (hopper(ctx) && rows <= GROUPED_SPLIT_MAX_ROWS) {
            return GROUPED_SPLIT_TILE_ROWS;
        }
        if (rows <= GROUPED_SKINNY_MAX_ROWS) {
            return GROUPED_SKINNY_TILE_ROWS;
        }
        return rows > GROUPED_HOPPER_MIN_ROWS && hopper(ctx) ? H_BM : GROUPED_TILE_ROWS;
    }

    /** The grouped split product (16-row tiles, sm_90) with K in {@code slices} slices: 4 or 8. */
    static void groupedSplit(CudaContext ctx, CUdeviceptr a, long lda, CUdeviceptr b, long ldb, long sB, CUdeviceptr c,
                             long ldc, Out out, CUdeviceptr offsets, CUdeviceptr tiles, CUdeviceptr numTiles,
                             int maxTiles, int n, int k, float alpha, float beta, int slices) {
        if (slices != 4 && slices != SPLIT_SLICES) {
            throw new IllegalArgumentException("gemm_grouped_split: " + slices + " slices are not built (4 or "
                    + SPLIT_SLICES + ")");
        }
        int slice = ((k + slices - 1) / slices + 31) / 32 * 32;
        int smem = Math.max(16 * (slice + 8) * 2, 16 * (SPLIT_ROWS + 4) * 4);
        Launch.run(ctx, slices == SPLIT_SLICES ? "gemm_grouped_split_m16" : "gemm_grouped_split_m16_s" + slices,
                "grouped N=" + n + " K=" + k + " maxTiles=" + maxTiles + " slices=" + slices,
                Launch.ceilDiv(n, SPLIT_ROWS), slices, maxTiles, 256, smem, a, lda, b, ldb, sB, c, ldc, offsets, tiles,
                numTiles, n, k, alpha, beta, out == Out.BF16 ? 1 : 0);
    }

    /**
     * Rows permuted per expert: expert e owns rows offsets[e] .. offsets[e+1] of A and C and
     * multiplies them by B + e * sB. tiles / numTiles come from {@link MoeKernel#dispatch}, planned
     * with {@code tileRows} rows per tile ({@link #groupedTileRows}); maxTiles bounds numTiles.
     */
    public static void grouped(CudaContext ctx, CUdeviceptr a, long lda, CUdeviceptr b, long ldb, long sB,
                               CUdeviceptr c, long ldc, Out out, CUdeviceptr offsets, CUdeviceptr tiles,
                               CUdeviceptr numTiles, int maxTiles, int tileRows, int n, int k, float alpha, float beta) {
        String shapes = "grouped N=" + n + " K=" + k + " maxTiles=" + maxTiles + " tileRows=" + tileRows;
        if (!aligned(a, lda, 0, b, ldb, sB, k)) {
            // tiles of any planned size, each cut into 64-row parts
            Launch.run(ctx, out == Out.F32 ? "gemm_grouped_any_f32" : "gemm_grouped_any_bf16", shapes,
                    Launch.ceilDiv(n, BN), maxTiles, Launch.ceilDiv(tileRows, GROUPED_TILE_ROWS), 256,
                    smem(GROUPED_TILE_ROWS), a, lda, b, ldb, sB, c, ldc, offsets, tiles, numTiles, tileRows, n, k,
                    alpha, beta);
            return;
        }
        if (tileRows == H_BM) {
            if (!hopper(ctx)) {
                throw new CudaException("gemm90_grouped [" + shapes + "]: needs an sm_90 device, not " + ctx.device());
            }
            int grid = (int) Math.min((long) maxTiles * Launch.ceilDiv(n, H_BN), ctx.device().multiprocessors());
            Launch.run(ctx, out == Out.F32 ? "gemm90_grouped_f32" : "gemm90_grouped_bf16", shapes, grid, 1, 1, 384,
                    H_SMEM, a, lda, b, ldb, sB, c, ldc, offsets, tiles, numTiles, n, k, alpha, beta,
                    ctx.tensorMapsFor(grid));
            return;
        }
        if (tileRows == GROUPED_SPLIT_TILE_ROWS) {
            if (!hopper(ctx)) {
                throw new CudaException("gemm_grouped_split [" + shapes + "]: needs an sm_90 device, not " + ctx.device());
            }
            groupedSplit(ctx, a, lda, b, ldb, sB, c, ldc, out, offsets, tiles, numTiles, maxTiles, n, k, alpha, beta,
                    GROUPED_SPLIT_SLICES);
            return;
        }
        if (tileRows == GROUPED_SKINNY_TILE_ROWS) {
            Launch.run(ctx, "gemm_grouped_skinny", shapes, Launch.ceilDiv(n, 64), maxTiles, 1, 256, 0,
                    a, lda, b, ldb, sB, c, ldc, offsets, tiles, numTiles, n, k, alpha, beta, out == Out.BF16 ? 1 : 0);
            return;
        }
        if (tileRows != GROUPED_TILE_ROWS) {
            throw new CudaException("gemm_grouped [" + shapes + "]: tiles of " + tileRows + " rows are not built ("
                    + GROUPED_SKINNY_TILE_ROWS + ", " + GROUPED_TILE_ROWS + " or, on sm_90, " + GROUPED_SPLIT_TILE_ROWS
                    + " and " + H_BM + ")");
        }
        String name = "gemm_grouped_bm64" + (out == Out.F32 ? "_f32" : "_bf16");
        Launch.run(ctx, name, shapes, Launch.ceilDiv(n, BN), maxTiles, 1, 256, smem(GROUPED_TILE_ROWS),
                a, lda, b, ldb, sB, c, ldc, offsets, tiles, numTiles, n, k, alpha, beta);
    }

    /**
     * Whether {@link #groupedSwiglu} takes these rows: Hopper tiles of
     * {@link #GROUPED_PREFILL_TILE_ROWS} rows over operands of whole 16-byte loads.
     */
    public static boolean fusesGroupedSwiglu(CudaContext ctx, int tileRows, CUdeviceptr a, long lda, CUdeviceptr b, long ldb,
                                      long sB, int k) {
        return tileRows == H_BM && hopper(ctx) && aligned(a, lda, 0, b, ldb, sB, k);
    }

    /**
     * Whether {@link #matmulSwiglu} pays for m rows of a gate/up weight of width n (gate plus up:
     * 2n rows): a Hopper product over operands of whole 16-byte loads, with tiles enough to fill
     * the machine (fewer go to the plain product, whose K may split; SwiGLU then runs apart).
     */
    public static boolean fusesSwiglu(CudaContext ctx, int m, int n, CUdeviceptr a, long lda, CUdeviceptr b, long ldb,
                                      int k) {
        return m > SKINNY_MAX_ROWS && hopper(ctx) && aligned(a, lda, 0, b, ldb, 0, k) && swigluTilesFill(ctx, m, n);
    }

    /**
     * Whether the SwiGLU product of m rows by n outputs (128 x 128 output tiles) has tiles enough
     * that a K split of the plain product would not pay ({@link #splitCount}'s threshold).
     */
    static boolean swigluTilesFill(CudaContext ctx, int m, int n) {
        return 2L * Launch.ceilDiv(m, H_BM) * Launch.ceilDiv(n, H_BN / 2) > ctx.device().multiprocessors();
    }

    /**
     * A fused gate/up weight's product b [2n, k] (gate rows, then up rows) with SwiGLU applied as
     * it stores: act [m, n] bf16 (pitch ldc) = silu(alpha A W_gate^T) * (alpha A W_up^T).
     */
    public static void matmulSwiglu(CudaContext ctx, CUdeviceptr a, long lda, CUdeviceptr b, long ldb, CUdeviceptr act,
                                    long ldc, int m, int n, int k, float alpha) {
        String shapes = "swiglu M=" + m + " N=" + n + " K=" + k;
        if (!hopper(ctx) || !aligned(a, lda, 0, b, ldb, 0, k)) {
            throw new CudaException("gemm90_swiglu [" + shapes + "]: needs an sm_90 device and K, the leading"
                    + " dimensions multiples of 8 with 16-byte aligned operands");
        }
        long tiles = (long) Launch.ceilDiv(m, H_BM) * Launch.ceilDiv(n, H_BN / 2);
        int grid = (int) Math.max(1, Math.min(tiles, ctx.device().multiprocessors()));
        Launch.run(ctx, "gemm90_swiglu", shapes, grid, 1, 1, 384, H_SMEM, a, lda, b, ldb, act, ldc, m, n, k, alpha,
                ctx.tensorMapsFor(grid));
    }

    /**
     * The expert-grouped prefill product of a fused gate/up weight, expert e's [2n, k] at b + e * sB
     * (gate rows [0, n), then up rows), with SwiGLU applied as it stores: act [rows, n] bf16 (pitch
     * ldc) = silu(alpha A W_gate^T) * (alpha A W_up^T). Tiles as {@link #grouped} plans them for
     * {@link #GROUPED_PREFILL_TILE_ROWS} rows ({@link #fusesGroupedSwiglu} says when this runs). It writes
     * no fp32 gate/up rows and needs no separate activation pass.
     */
    public static void groupedSwiglu(CudaContext ctx, CUdeviceptr a, long lda, CUdeviceptr b, long ldb, long sB,
                                     CUdeviceptr act, long ldc, CUdeviceptr offsets, CUdeviceptr tiles,
                                     CUdeviceptr numTiles, int maxTiles, int n, int k, float alpha) {
        String shapes = "grouped swiglu N=" + n + " K=" + k + " maxTiles=" + maxTiles;
        if (!fusesGroupedSwiglu(ctx, H_BM, a, lda, b, ldb, sB, k)) {
            throw new CudaException("gemm90_grouped_swiglu [" + shapes + "]: needs an sm_90 device and K, the leading"
                    + " dimensions and strides multiples of 8 with 16-byte aligned operands");
        }
        int grid = Math.max(1, (int) Math.min((long) maxTiles * Launch.ceilDiv(n, H_BN / 2),
                ctx.device().multiprocessors()));
        Launch.run(ctx, "gemm90_grouped_swiglu", shapes, grid, 1, 1, 384, H_SMEM, a, lda, b, ldb, sB, act,
                ldc, offsets, tiles, numTiles, n, k, alpha, ctx.tensorMapsFor(grid));
    }

    private static int smem(int bm) {
        return STAGES * (bm + BN) * LDS * 2;
    }

    /** For the kernels that load 16 bytes at a time ({@link #batched} sends other shapes to {@link #any}). */
    private static void check(CUdeviceptr a, long lda, long sA, CUdeviceptr b, long ldb, long sB, int k, String shapes) {
        if (!aligned(a, lda, sA, b, ldb, sB, k)) {
            throw new CudaException("gemm [" + shapes + "]: K, the leading dimensions and strides of A and B must be"
                    + " multiples of 8 and A and B 16-byte aligned (other shapes: GemmKernel.any)");
        }
    }
}
