package dev.kimilinear.cuda;

import jcuda.driver.CUdeviceptr;

/**
 * MLA prefill attention on the tensor cores (mla_prefill.cu), in expanded form: per pass of
 * an {@link MlaPrefillPlan}, the latent rows of the keys are gathered from the paged cache,
 * expanded per head through W_UK (keys, 128 wide, beside the shared 64-wide k_rot) and W_UV
 * (values, transposed), and attended to flash-style by the prompt chunks' queries: causal
 * within each sequence, any number of sequences of mixed lengths and cached contexts per
 * launch. Hopper only (wgmma); the head shapes are Kimi Linear's.
 */
public final class MlaPrefillKernel {
    /** Nope, rot and value widths per head the kernel is built for. */
    public static final int NOPE = 128;
    public static final int ROT = 64;
    public static final int VALUE = 128;
    static final int THREADS = 384;
    /** Queries of both warpgroups, two stages of K and V^T tiles, alignment and mbarriers. */
    static final int SMEM = 2 * 3 * 64 * 128 + 2 * (3 * 128 * 128 + 2 * 128 * 128) + 1024 + 64;
    private static final int GATHER_WARPS = 8;

    private MlaPrefillKernel() {
    }

    /** Where this kernel runs: an sm_90 device and Kimi Linear's per-head widths. */
    public static boolean supported(CudaContext ctx, int dn, int dr, int dv, int r) {
        return GemmKernel.hopper(ctx) && dn == NOPE && dr == ROT && dv == VALUE && r % 64 == 0;
    }

    /**
     * Scratch of one pass: the gathered rows [capacity, r + dr], K_nope [capacity, H*128] and
     * V^T [H*128, capacity] in bf16; the softmax state between passes, fp32 [tokens, H, 128 + 2].
     */
    public record Scratch(CUdeviceptr rows, CUdeviceptr kn, CUdeviceptr vt, CUdeviceptr oacc, CUdeviceptr ml,
                          int capacity) {
        public static long bytes(int capacity, int tokens, int heads, int width) {
            return 2L * capacity * width + 2 * 2L * capacity * heads * VALUE + 4L * tokens * heads * (VALUE + 2)
                    + 4 * 256;
        }

        /** Carves the regions out of one allocation of {@link #bytes} at base. */
        public static Scratch at(CUdeviceptr base, int capacity, int tokens, int heads, int width) {
            long o = 0;
            CUdeviceptr rows = base.withByteOffset(o);
            o = aligned(o + 2L * capacity * width);
            CUdeviceptr kn = base.withByteOffset(o);
            o = aligned(o + 2L * capacity * heads * VALUE);
            CUdeviceptr vt = base.withByteOffset(o);
            o = aligned(o + 2L * capacity * heads * VALUE);
            CUdeviceptr oacc = base.withByteOffset(o);
            o = aligned(o + 4L * tokens * heads * VALUE);
            return new Scratch(rows, kn, vt, oacc, base.withByteOffset(o), capacity);
        }

        private static long aligned(long bytes) {
            return (bytes + 255) / 256 * 256;
        }
    }

    /** rows[g] = the cache row of the key of gathered row g (zeros past a piece's end), for totalRows rows. */
    public static void gather(CudaContext ctx, CUdeviceptr cache, CUdeviceptr blockTables, int maxPages, int pageSize,
                              CUdeviceptr pieces, int numPieces, CUdeviceptr rows, int totalRows, int width) {
        if (width % 8 != 0) {
            throw new IllegalArgumentException("latent row width " + width + " must be a multiple of 8");
        }
        Launch.run(ctx, "mla_prefill_gather", "rows=" + totalRows + " pieces=" + numPieces + " width=" + width,
                Launch.ceilDiv(totalRows, GATHER_WARPS), 1, 1, 32 * GATHER_WARPS, 0, cache, blockTables, maxPages,
                pageSize, pieces, numPieces, rows, totalRows, width);
    }

    /**
     * The attention of one pass: out [T, ldo] (head h at h*128) for the items of pieces that
     * end their sequence, the softmax state in oacc/ml for the others.
     *
     * @param q  [T, ldq] bf16 queries, head h at h*192 (nope 128, rot 64)
     * @param kn [G, ldk] bf16 expanded keys, head h at h*128
     * @param rows [G, ldr] gathered latent rows, k_rot at column rOff
     * @param vt [H*128, ldv] bf16 expanded values, transposed
     * @param maps the pass's tensor maps ({@link #maps}), or a null address: K and V^T tiles then
     *             load by cp.async (the same bytes land either way)
     */
    public static void attention(CudaContext ctx, CUdeviceptr q, long ldq, CUdeviceptr kn, long ldk, CUdeviceptr rows,
                                 long ldr, int rOff, CUdeviceptr vt, long ldv, CUdeviceptr cuSeqlens,
                                 CUdeviceptr ctxLens, CUdeviceptr pieces, CUdeviceptr work, int numWork, CUdeviceptr out,
                                 long ldo, CUdeviceptr oacc, CUdeviceptr ml, int heads, CUdeviceptr maps) {
        float scaleLog2 = (float) (1.0 / Math.log(2) / Math.sqrt(NOPE + ROT));
        Launch.run(ctx, "mla_prefill_attention", "items=" + numWork + " heads=" + heads, heads, numWork, 1, THREADS,
                SMEM, q, ldq, kn, ldk, rows, ldr, rOff, vt, ldv, cuSeqlens, ctxLens, pieces, work, out, ldo, oacc, ml,
                heads, scaleLog2, maps);
    }

    /**
     * The tensor maps of one pass's kn [totalRows, heads*128], rows [totalRows, width] and vt
     * [heads*128, totalRows] (pitches ldk, ldr, ldv), built on the device into the context's map
     * room, where {@link CudaContext#tensorCopies} is on (sm_90); else a null address. The
     * attention launched next on the stream reads them (a product launched between would build
     * its own there).
     */
    public static CUdeviceptr maps(CudaContext ctx, CUdeviceptr kn, long ldk, CUdeviceptr rows, long ldr, int width,
                                   CUdeviceptr vt, long ldv, int heads, int totalRows) {
        if (!ctx.tensorCopies() || !GemmKernel.hopper(ctx)) {
            return CudaContext.NO_TENSOR_MAPS;
        }
        CUdeviceptr room = ctx.tensorMapRoom();
        Launch.run(ctx, "mla_prefill_maps", "rows=" + totalRows + " heads=" + heads, 1, 1, 1, 32, 0, kn, ldk,
                heads * VALUE, rows, ldr, width, vt, ldv, heads * VALUE, totalRows, room);
        return room;
    }

    /**
     * Every pass of the plan: gather, expand, attend. The plan's ints ({@link MlaPrefillPlan#flatten})
     * are on the device at planInts.
     *
     * @param wUk [H*128, r] the key rows of kv_b_proj, head after head
     * @param wUv [H*128, r] its value rows, head after head
     */
    public static void run(CudaContext ctx, MlaPrefillPlan plan, CUdeviceptr planInts, CUdeviceptr q, long ldq,
                           CUdeviceptr cache, CUdeviceptr blockTables, int maxPages, int pageSize, CUdeviceptr cuSeqlens,
                           CUdeviceptr ctxLens, CUdeviceptr wUk, CUdeviceptr wUv, Scratch scratch, CUdeviceptr out,
                           long ldo, int heads, int r) {
        int width = r + ROT;
        int hv = heads * VALUE;
        long o = 0;
        for (MlaPrefillPlan.Pass pass : plan.passes()) {
            if (pass.rows() > scratch.capacity()) {
                throw new IllegalArgumentException("a pass of " + pass.rows() + " rows exceeds the scratch's "
                        + scratch.capacity());
            }
            CUdeviceptr pieces = planInts.withByteOffset(4 * o);
            CUdeviceptr work = planInts.withByteOffset(4 * (o + pass.pieces().length));
            o += pass.pieces().length + pass.work().length;
            gather(ctx, cache, blockTables, maxPages, pageSize, pieces, pass.numPieces(), scratch.rows(), pass.rows(),
                    width);
            GemmKernel.matmul(ctx, scratch.rows(), width, wUk, r, scratch.kn(), hv, GemmKernel.Out.BF16, pass.rows(),
                    hv, r, 1f, 0f);
            GemmKernel.matmul(ctx, wUv, r, scratch.rows(), width, scratch.vt(), scratch.capacity(), GemmKernel.Out.BF16,
                    hv, pass.rows(), r, 1f, 0f);
            CUdeviceptr maps = maps(ctx, scratch.kn(), hv, scratch.rows(), width, width, scratch.vt(),
                    scratch.capacity(), heads, pass.rows());
            attention(ctx, q, ldq, scratch.kn(), hv, scratch.rows(), width, r, scratch.vt(), scratch.capacity(),
                    cuSeqlens, ctxLens, pieces, work, pass.numWork(), out, ldo, scratch.oacc(), scratch.ml(), heads,
                    maps);
        }
    }

    /** W_UK and W_UV of kv_b_proj [H*(dn+dv), r] regrouped: the key rows of every head, then the value rows. */
    public static short[][] splitKvB(short[] kvB, int heads, int dn, int dv, int r) {
        short[] uk = new short[heads * dn * r];
        short[] uv = new short[heads * dv * r];
        for (int h = 0; h < heads; h++) {
            System.arraycopy(kvB, h * (dn + dv) * r, uk, h * dn * r, dn * r);
            System.arraycopy(kvB, (h * (dn + dv) + dn) * r, uv, h * dv * r, dv * r);
        }
        return new short[][] {uk, uv};
    }
}
