package dev.kimilinear.cuda;

import jcuda.driver.CUdeviceptr;

/**
 * Router, dispatch (rows permuted per expert for {@link GemmKernel#grouped}) and combine
 * (moe.cu).
 */
public final class MoeKernel {
    /** Sizes of moe_route's per-warp arrays (moe.cu: MOE_MAX_EXPERTS; groups and choices per token). */
    static final int MAX_EXPERTS = 512;
    static final int MAX_GROUPS = 64;
    static final int MAX_TOP_K = 32;

    private MoeKernel() {
    }

    public static void route(CudaContext ctx, CUdeviceptr logits, CUdeviceptr bias, int tokens, int experts, int topK,
                             int groups, int topkGroup, boolean renormalize, float scaling, boolean softmax,
                             CUdeviceptr ids, CUdeviceptr weights) {
        checkRouting(experts, groups, topK);
        Launch.run(ctx, "moe_route", "T=" + tokens + " E=" + experts + " k=" + topK, Launch.ceilDiv(tokens, 4), 1, 1,
                128, 0, logits, bias, tokens, experts, topK, groups, topkGroup, renormalize ? 1 : 0, scaling,
                softmax ? 1 : 0, ids, weights);
    }

    static void checkRouting(int experts, int groups, int topK) {
        if (experts > MAX_EXPERTS || groups > MAX_GROUPS || topK > MAX_TOP_K) {
            throw new CudaException("moe_route: " + experts + " experts, " + groups + " groups, top-" + topK
                    + " exceed the built limits (" + MAX_EXPERTS + ", " + MAX_GROUPS + ", " + MAX_TOP_K + ")");
        }
    }

    /** Most tiles the grouped product can need for {@code rows} routed rows (at any tile size it plans). */
    public static int maxTiles(int rows, int experts) {
        return maxTiles(rows, experts, GemmKernel.GROUPED_SKINNY_TILE_ROWS);
    }

    /** Most tiles {@link #dispatch} can plan for {@code rows} routed rows in tiles of {@code tileRows}. */
    public static int maxTiles(int rows, int experts, int tileRows) {
        return Launch.ceilDiv(rows, tileRows) + experts;
    }

    /**
     * Counts rows per expert, lays out their blocks (offsets [E + 1]) and the tile list, then
     * copies each token's row x [T, ldx] into its experts' blocks xperm [T*k, dim]; rowPos [T*k].
     * counts and cursors are [E] ints of scratch. Returns the rows per tile it planned with, for
     * {@link GemmKernel#grouped}.
     */
    public static int dispatch(CudaContext ctx, CUdeviceptr ids, int tokens, int topK, int experts, CUdeviceptr counts,
                                CUdeviceptr offsets, CUdeviceptr tiles, CUdeviceptr numTiles, CUdeviceptr cursors,
                                CUdeviceptr x, long ldx, CUdeviceptr xperm, CUdeviceptr rowPos, int dim) {
        return dispatch(ctx, ids, tokens, topK, experts, counts, offsets, tiles, numTiles, cursors, x, null, ldx, xperm,
                null, rowPos, dim);
    }

    /** As above, also permuting a second plane (xLo -> xpermLo) when xLo is not null. */
    public static int dispatch(CudaContext ctx, CUdeviceptr ids, int tokens, int topK, int experts, CUdeviceptr counts,
                                CUdeviceptr offsets, CUdeviceptr tiles, CUdeviceptr numTiles, CUdeviceptr cursors,
                                CUdeviceptr x, CUdeviceptr xLo, long ldx, CUdeviceptr xperm, CUdeviceptr xpermLo,
                                CUdeviceptr rowPos, int dim) {
        int rows = tokens * topK;
        String shapes = "T=" + tokens + " k=" + topK + " E=" + experts + " dim=" + dim;
        ctx.bind();
        jcuda.driver.JCudaDriver.cuMemsetD32Async(counts, 0, experts, ctx.rawStream());
        Launch.run(ctx, "moe_histogram", shapes, Launch.ceilDiv(rows, 256), 1, 1, 256, 0, ids, rows, counts);
        int tileRows = GemmKernel.groupedTileRows(ctx, rows);
        plan(ctx, counts, experts, tileRows, offsets, tiles, numTiles, cursors, shapes);
        Launch.run(ctx, wholeRows(x, xLo, ldx, xperm, xpermLo, dim) ? "moe_dispatch" : "moe_dispatch_any", shapes, rows,
                1, 1, 128, 0, ids, topK, offsets, cursors, x,
                NormKernel.orNone(xLo), ldx, xperm, NormKernel.orNone(xpermLo), rowPos, dim);
        return tileRows;
    }

    /** offsets [E + 1], the tile list and its length from the counts [E]; cursors [E] zeroed (one block, a thread per expert). */
    static void plan(CudaContext ctx, CUdeviceptr counts, int experts, int tileRows, CUdeviceptr offsets,
                     CUdeviceptr tiles, CUdeviceptr numTiles, CUdeviceptr cursors, String shapes) {
        int threads = Math.min(1024, Launch.ceilDiv(experts, 32) * 32);
        Launch.run(ctx, "moe_plan", shapes, 1, 1, 1, threads, 0, counts, experts, tileRows, offsets, tiles, numTiles,
                cursors);
    }

    /**
     * Whether moe_dispatch may copy rows 16 bytes at a time (widths and pitches multiples of 8,
     * every plane 16-byte aligned); other shapes take moe_dispatch_any, element by element.
     */
    static boolean wholeRows(CUdeviceptr x, CUdeviceptr xLo, long ldx, CUdeviceptr xperm, CUdeviceptr xpermLo, int dim) {
        return dim % 8 == 0 && ldx % 8 == 0 && DeviceAddress.aligned(x, 16) && DeviceAddress.aligned(xperm, 16)
                && (xLo == null || DeviceAddress.aligned(xLo, 16) && DeviceAddress.aligned(xpermLo, 16));
    }

    /** h[t] += sum_j w[t, j] * down[rowPos[t, j]]; down [T*k, dim] fp32, h [T, dim] fp32. */
    public static void combine(CudaContext ctx, CUdeviceptr down, CUdeviceptr rowPos, CUdeviceptr weights, int topK,
                               CUdeviceptr h, int tokens, int dim) {
        Launch.run(ctx, "moe_combine", "T=" + tokens + " k=" + topK + " dim=" + dim, tokens, 1, 1, 256, 0,
                down, rowPos, weights, topK, h, dim);
    }

    /** Tokens from which the router's logits take the tiled kernel (prefill-sized steps). */
    static final int ROUTER_TILED_MIN_TOKENS = 1024;

    /** logits [T, E] = x [T, ldx] (fp32) * router [E, d]^T (bf16), in fp32. */
    public static void routerLogits(CudaContext ctx, CUdeviceptr x, long ldx, CUdeviceptr router, CUdeviceptr logits,
                                    int tokens, int experts, int dim) {
        routerLogits(ctx, x, ldx, router, logits, tokens, experts, dim, tokens >= ROUTER_TILED_MIN_TOKENS);
    }

    /** {@link #routerLogits} on the tiled kernel or on a warp per (token, expert). */
    static void routerLogits(CudaContext ctx, CUdeviceptr x, long ldx, CUdeviceptr router, CUdeviceptr logits,
                             int tokens, int experts, int dim, boolean tiled) {
        String shape = "T=" + tokens + " E=" + experts + " d=" + dim;
        if (tiled) {
            Launch.run(ctx, "moe_router_logits_tiled", shape, Launch.ceilDiv(tokens, 64), Launch.ceilDiv(experts, 64),
                    1, 256, 0, x, ldx, router, logits, tokens, experts, dim);
        } else {
            Launch.run(ctx, "moe_router_logits", shape, Launch.ceilDiv((long) tokens * experts, 8), 1, 1, 256, 0, x,
                    ldx, router, logits, tokens, experts, dim);
        }
    }
}
