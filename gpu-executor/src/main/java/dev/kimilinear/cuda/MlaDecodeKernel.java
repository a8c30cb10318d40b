package dev.kimilinear.cuda;

import jcuda.driver.CUdeviceptr;

import java.util.Arrays;

/**
 * MLA attention in absorbed form over the paged latent cache (mla_decode.cu): the general
 * kernel for prompt tokens continuing a cached context and decode tokens alike, the split
 * decode kernel (a block per context slice and sequence, all heads at once, so each cached
 * row is read once) with its merge, and the cache write. The cache holds bf16 rows, or fp32
 * rows for fp32-faithful runs ({@link ActivationPrecision#SPLIT}).
 */
public final class MlaDecodeKernel {
    /** Cached rows per tile of the split decode. */
    static final int DECODE_TILE = 32;
    /** Tiles in flight or in use per block of the split decode. */
    static final int DECODE_STAGES = 5;
    /** Most heads the split decode holds in one block. */
    static final int MAX_HEADS = 32;
    /** Threads of a split-decode block: two groups of 4 warps (16 heads each) and a loading warp. */
    static final int DECODE_THREADS = 288;
    /** Widest cached row (r + dr) of the split decode: 10 k-steps of 16 columns per warp of a group. */
    static final int MAX_ROW_WIDTH = 640;
    /** fp32 partial-score pitch and bf16 probability pitch of the split decode's shared memory. */
    private static final int SCORE_PITCH = 36;
    private static final int PROB_PITCH = 40;
    /** Threads of a merge block. */
    static final int COMBINE_THREADS = 512;
    /** Widest latent of the general (absorbed) kernel: 16 values per lane of a warp. */
    public static final int MAX_ABSORBED_RANK = 512;

    private MlaDecodeKernel() {
    }

    /** Writes [cnorm (bf16, r) | bf16(kva[:, r:r+dr])] into cache row rowOf[t] for every new token. */
    public static void cacheWrite(CudaContext ctx, CUdeviceptr kva, long ldk, CUdeviceptr cnorm, CUdeviceptr rowOf,
                                  CUdeviceptr cache, int tokens, int r, int dr) {
        cacheWrite(ctx, kva, ldk, cnorm, rowOf, cache, tokens, r, dr, false);
    }

    /** As above; with f32Cache, cnorm and the cache rows are fp32. */
    public static void cacheWrite(CudaContext ctx, CUdeviceptr kva, long ldk, CUdeviceptr cnorm, CUdeviceptr rowOf,
                                  CUdeviceptr cache, int tokens, int r, int dr, boolean f32Cache) {
        Launch.run(ctx, f32Cache ? "mla_cache_write_f32" : "mla_cache_write", "T=" + tokens + " r=" + r + " dr=" + dr,
                tokens, 1, 1, 128, 0, kva, ldk, cnorm, rowOf, cache, r, dr);
    }

    /**
     * qa [T, H, r] absorbed queries (fp32); q [T, ldq] holding q_rot of head h at h*dqk + dn;
     * blockTables [N, maxPages]; cuSeqlens [N + 1]; ctxLens [N]; seqOf [T]; out [T, H, r] bf16.
     */
    public static void attention(CudaContext ctx, CUdeviceptr qa, CUdeviceptr q, long ldq, CUdeviceptr cache,
                                 CUdeviceptr blockTables, int maxPages, int pageSize, CUdeviceptr cuSeqlens,
                                 CUdeviceptr ctxLens, CUdeviceptr seqOf, CUdeviceptr out, int tokens, int heads, int r,
                                 int dr, int dqk, int dn, float scale) {
        attention(ctx, qa, q, ldq, cache, false, blockTables, maxPages, pageSize, cuSeqlens, ctxLens, seqOf, out, null,
                tokens, heads, r, dr, dqk, dn, scale);
    }

    /** As above over a bf16 or fp32 cache; outLo (or null) receives the bf16 remainders of out. */
    public static void attention(CudaContext ctx, CUdeviceptr qa, CUdeviceptr q, long ldq, CUdeviceptr cache,
                                 boolean f32Cache, CUdeviceptr blockTables, int maxPages, int pageSize,
                                 CUdeviceptr cuSeqlens, CUdeviceptr ctxLens, CUdeviceptr seqOf, CUdeviceptr out,
                                 CUdeviceptr outLo, int tokens, int heads, int r, int dr, int dqk, int dn, float scale) {
        if (r > MAX_ABSORBED_RANK) {
            throw new CudaException("mla_absorbed_attention: latent rank " + r + " exceeds the " + MAX_ABSORBED_RANK
                    + " it holds in registers");
        }
        int smem = 4 * (r + dr + 8 * r);
        // cached values in pairs where the widths are even; one at a time otherwise
        String name = (f32Cache ? "mla_absorbed_attention_f32cache" : "mla_absorbed_attention")
                + (r % 2 == 0 && dr % 2 == 0 ? "" : "_any");
        Launch.run(ctx, name, "T=" + tokens + " H=" + heads + " r=" + r + " dr=" + dr, tokens, heads, 1, 256, smem,
                qa, q, ldq, cache, blockTables, maxPages, pageSize, cuSeqlens, ctxLens, seqOf, out,
                NormKernel.orNone(outLo), heads, r, dr, dqk, dn, scale);
    }

    /** Whether {@link #decode} takes these shapes (otherwise {@link #attention} serves decode too). */
    public static boolean splitDecodeFits(int heads, int r, int dr) {
        return heads <= MAX_HEADS && r % 16 == 0 && (r + dr) % 8 == 0 && r <= 512 && r + dr <= MAX_ROW_WIDTH;
    }

    /** Bytes of partial results {@link #decode} needs for up to {@code seqs} sequences. */
    public static long partialBytes(int seqs, int heads, int r, int multiprocessors) {
        return 4L * (seqs + 2L * multiprocessors) * heads * (r + 2);
    }

    /**
     * One decode token per sequence (token s belongs to sequence s, its row already written):
     * qa [N, H, r] absorbed queries in bf16 (the kernel's products take bf16 operands); q_rot in q
     * as for {@link #attention}; out [N, H, r] bf16. maxContext: at least the largest ctxLens entry (it sizes the grid;
     * each sequence's slices follow its own length); partials: {@link #partialBytes}. order [N]:
     * the sequence indices by context, longest first ({@link #longestFirst}), so that blocks taking
     * several sequences each take long and short ones alike; null takes them in index order.
     */
    public static void decode(CudaContext ctx, CUdeviceptr qa, CUdeviceptr q, long ldq, CUdeviceptr cache,
                              CUdeviceptr blockTables, int maxPages, int pageSize, CUdeviceptr ctxLens, CUdeviceptr order,
                              int maxContext, CUdeviceptr partials, CUdeviceptr out, int seqs, int heads, int r, int dr,
                              int dqk, int dn, float scale) {
        String shapes = "N=" + seqs + " H=" + heads + " r=" + r + " dr=" + dr + " ctx<=" + maxContext;
        if (!splitDecodeFits(heads, r, dr)) {
            throw new CudaException("mla_decode_split [" + shapes + "]: needs H <= " + MAX_HEADS
                    + ", r a multiple of 16 (at most 512) and r + dr a multiple of 8 (at most " + MAX_ROW_WIDTH + ")");
        }
        int sms = ctx.device().multiprocessors();
        int len = maxContext + 1;
        int splits = splits(seqs, len, sms);
        int smem = decodeSharedBytes(r + dr);
        CUdeviceptr ml = partials.withByteOffset(4L * seqs * splits * heads * r);
        float scaleLog2 = (float) (scale / Math.log(2));
        // two slices on sm_90: the pair of blocks is a cluster merged through distributed shared memory
        boolean pair = splits == 2 && ctx.device().major() >= 9;
        if (splits == 1 && seqs > sms) {
            // more sequences than multiprocessors: each block takes every blocks-th sequence as one
            // stream of tiles (no second wave of block start-ups), as evenly as the count allows
            int blocks = Launch.ceilDiv(seqs, Launch.ceilDiv(seqs, sms));
            Launch.run(ctx, "mla_decode_split_persist", shapes + " blocks=" + blocks, 1, blocks, 1, DECODE_THREADS,
                    smem, qa, q, ldq, cache, blockTables, maxPages, pageSize, ctxLens, partials, ml, out, heads, r, dr,
                    dqk, dn, scaleLog2, seqs, order == null ? new CUdeviceptr() : order);
            return;
        }
        Launch.run(ctx, pair ? "mla_decode_split_pair" : "mla_decode_split", shapes + " splits=" + splits, splits,
                seqs, 1, DECODE_THREADS, smem, qa, q, ldq, cache, blockTables, maxPages, pageSize, ctxLens, partials,
                ml, out, heads, r, dr, dqk, dn, scaleLog2);
        if (splits > 1 && !pair) {
            Launch.run(ctx, "mla_decode_combine", shapes + " splits=" + splits, seqs, heads, 1, COMBINE_THREADS,
                    4 * splits,
                    partials, ml, splits, heads, r, out);
        }
    }

    /** Sequence indices by context length, longest first (ties in index order): the order {@link #decode} takes. */
    public static int[] longestFirst(int[] ctxLens) {
        // one sort of primitive keys: the length negated in the high half, the index in the low
        long[] keys = new long[ctxLens.length];
        for (int i = 0; i < keys.length; i++) {
            keys[i] = (-(long) ctxLens[i] << 32) | i;
        }
        Arrays.sort(keys);
        int[] order = new int[keys.length];
        for (int i = 0; i < keys.length; i++) {
            order[i] = (int) keys[i];
        }
        return order;
    }

    /**
     * Shared memory of a split-decode block (mla_decode_smem in mla_decode.cu): a ring of tiles
     * (bf16, rows padded to a multiple of 16 plus 8), per group of 16 heads the 4 warps' partial
     * scores and the probabilities, per head the corrections and softmax statistics, the stage
     * barriers.
     */
    static int decodeSharedBytes(int width) {
        int pitch = ((width + 15) & ~15) + 8;
        int groupHeads = MAX_HEADS / 2;
        return 2 * pitch * DECODE_STAGES * DECODE_TILE + 4 * 2 * 4 * groupHeads * SCORE_PITCH
                + 2 * 2 * groupHeads * PROB_PITCH + 4 * MAX_HEADS + 4 * 2 * MAX_HEADS + 8 * 2 * DECODE_STAGES;
    }

    /**
     * Context slices per sequence: one block per SM streams its slice, so the choice weighs
     * the waves of blocks times the rows each reads (plus a fixed start-up of about two tiles)
     * against the merge's partial results (about two tiles' worth per slice, spread over the
     * SMs, and the merge walks every slice of its sequence and head, four slices at a time:
     * about a tile per 48 slices, which puts N=1 ctx=4096 at 65 slices, measured 10% faster
     * than 33). One slice writes the output directly; two on sm_90 merge in a cluster pair.
     */
    static int splits(int seqs, int len, int sms) {
        int tiles = Launch.ceilDiv(len, DECODE_TILE);
        int best = 1;
        double bestCost = Double.MAX_VALUE;
        for (int s = 1; s <= tiles && (long) seqs * s <= seqs + 2L * sms; s++) {
            long waves = Launch.ceilDiv((long) seqs * s, sms);
            double cost = waves * (Launch.ceilDiv(tiles, s) + 2.0) + (s > 1 ? 2.0 * seqs * s / sms + s / 48.0 : 0);
            if (cost < bestCost) {
                bestCost = cost;
                best = s;
            }
        }
        return best;
    }
}
