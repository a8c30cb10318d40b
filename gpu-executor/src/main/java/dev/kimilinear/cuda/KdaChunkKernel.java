package dev.kimilinear.cuda;

import jcuda.driver.CUdeviceptr;

/**
 * KDA chunkwise prefill over packed sequences, in one of two forms.
 *
 * <p>{@link Form#TENSOR_CORE} (kda_chunk_tc.cu): kda_chunk_intra prepares every (chunk, head) at
 * once (cumulative gate, both score matrices and the WY solve, the decay split at a 16-token
 * sub-chunk reference so the scores are tensor-core products with bf16 operands), then
 * kda_chunk_recur carries the fp32 state across each sequence's chunks, 32 value columns a block
 * (64 columns sharing each chunk's tiles when the batch has blocks enough to fill the GPU twice).
 * Between the two, per chunk and head: a record [W | Qg | Kd | Aqk | gl] the recurrence copies
 * into shared memory whole, and U in 32-column slices (KdaScratch in the kernel file).
 *
 * <p>{@link Form#EXACT} (kda_chunk.cu): the same algorithm in fp32 on the CUDA cores, the decay
 * taken pairwise; for parity runs that need the reference to fp32 rounding.
 */
public final class KdaChunkKernel {
    public static final int CHUNK = 64;

    /** Which implementation runs, and the precision of the q, k and v it takes. */
    public enum Form {
        /** q, k and v in bf16 (its products take bf16 operands; half the bytes to read). */
        TENSOR_CORE,
        /** q, k and v in fp32. */
        EXACT;

        /** Bytes of one element of q, k and v. */
        public int qkvBytes() {
            return this == TENSOR_CORE ? 2 : 4;
        }
    }

    private KdaChunkKernel() {
    }

    /**
     * Scratch bytes for {@code numChunks} chunks, enough for either form (the exact form's fp32
     * W, U, Qg, Kd [64, D], Aqk [64, 64] and gl [D] per chunk and head is the larger).
     */
    public static long scratchBytes(int numChunks, int heads, int dim) {
        return 4L * numChunks * heads * (4L * CHUNK * dim + (long) CHUNK * CHUNK + dim) + 6 * 256;
    }

    /** Dynamic shared memory of kda_chunk_intra for head dim {@code dim} (mirrors KdaIntraLayout). */
    static int intraSmem(int dim) {
        int pw = Math.min(dim, 64);
        int tile = Math.max(2 * Math.max(288 * (pw + 8), 128 * (dim + 8)), 4 * (64 * 65 + 3 * 16 * 17));
        return 4 * 64 * (dim + 4) + 4 * 64 * 65 + 4 * 2 * 4 * 256 + 2 * 64 * 72 + tile + 4 * 64 + 4 * dim + 16;
    }

    /** Threads of kda_chunk_intra. */
    static final int INTRA_THREADS = 512;

    /** Chunks one kda_chunk_intra launch takes (the grid's y extent). */
    static final int MAX_INTRA_CHUNKS = 65535;

    /** Bytes of one (chunk, head) record of the tensor-core form: W, Qg, Kd [64, D], Aqk [64, 64] bf16, gl [D] fp32. */
    static long recordBytes(int dim) {
        return 2L * 3 * CHUNK * dim + 2L * CHUNK * CHUNK + 4L * dim;
    }

    /** Bytes of U for one (chunk, head): D / 32 slices [64, 32] bf16. */
    static long uBytes(int dim) {
        return 2L * CHUNK * dim;
    }

    /** Dynamic shared memory of kda_chunk_recur with {@code slices} 32-column slices a block (mirrors KdaRecurLayout, 2 stages). */
    static int recurSmem(int dim, int slices) {
        int cp = 32 * slices + 8;
        int buf = (int) recordBytes(dim) + slices * 2 * CHUNK * 32;
        return 2 * buf + 2 * dim * cp + 2 * 64 * cp + 16 * 2;
    }

    /** Block shapes of the tensor-core recurrence. */
    enum RecurShape {
        /** kda_chunk_recur: a block per 32 value columns (fills the GPU at one sequence). */
        NARROW,
        /** kda_chunk_recur_wide: a block per 64 columns, its two slices sharing each chunk's record. */
        WIDE,
        /**
         * kda_chunk_recur_wide_shared (D = 128): WIDE as clusters of a (sequence, head)'s two blocks
         * on sm_90, each chunk's record read from L2 once and multicast into both.
         */
        WIDE_SHARED
    }

    /**
     * The recurrence's block shape for a batch: WIDE once its blocks cover about three quarters of
     * the multiprocessors, WIDE_SHARED once they take more than one wave (the recurrence then waits
     * on L2, and the shared record halves what it reads there). H100, H=32 D=128, T=8192 a
     * sequence: B=1 narrow 0.197 ms, wide 0.273; B=2 narrow 0.485, wide 0.309, shared 0.321; B=4
     * narrow 1.554, wide 0.911, shared 0.647 (B=8 T=4096: wide 0.925, shared 0.660).
     */
    static RecurShape recurShape(CudaContext ctx, int seqs, int heads, int dim) {
        long wideBlocks = (long) seqs * heads * (dim / 64);
        int sms = ctx.device().multiprocessors();
        if (dim < 64 || 4L * wideBlocks < 3L * sms || recurSmem(dim, 2) > ctx.device().maxSharedPerBlock()) {
            return RecurShape.NARROW;
        }
        return dim == 128 && wideBlocks > sms ? RecurShape.WIDE_SHARED : RecurShape.WIDE;
    }

    /** {@link #run(CudaContext, CUdeviceptr, CUdeviceptr, CUdeviceptr, CUdeviceptr, CUdeviceptr, CUdeviceptr, CUdeviceptr, CUdeviceptr, CUdeviceptr, CUdeviceptr, CUdeviceptr, int, int, int, int, Form)} on the tensor cores. */
    public static void run(CudaContext ctx, CUdeviceptr q, CUdeviceptr k, CUdeviceptr v, CUdeviceptr g,
                           CUdeviceptr beta, CUdeviceptr chunks, CUdeviceptr seqChunks, CUdeviceptr slots,
                           CUdeviceptr state, CUdeviceptr out, CUdeviceptr scratch, int numChunks, int seqs, int heads,
                           int dim) {
        run(ctx, q, k, v, g, beta, chunks, seqChunks, slots, state, out, scratch, numChunks, seqs, heads, dim,
                Form.TENSOR_CORE);
    }

    /**
     * q, k, v [T, H, D] in the form's precision ({@link Form#qkvBytes}; q, k normalised, q scaled),
     * g [T, H, D] fp32 (the log decay, at most 0), beta [T, H] fp32;
     * chunks / seqChunks: the device copies of a {@link KdaChunkPlan}; slots [N]: each sequence's
     * state slot; state [slots, H, D, D] fp32 in/out; out [T, H, D]; scratch of {@link #scratchBytes}.
     */
    public static void run(CudaContext ctx, CUdeviceptr q, CUdeviceptr k, CUdeviceptr v, CUdeviceptr g,
                           CUdeviceptr beta, CUdeviceptr chunks, CUdeviceptr seqChunks, CUdeviceptr slots,
                           CUdeviceptr state, CUdeviceptr out, CUdeviceptr scratch, int numChunks, int seqs, int heads,
                           int dim, Form form) {
        KdaRecurrentKernel.checkDim(dim, "kda_chunk");
        if (seqs == 0) {
            return;
        }
        String shapes = "chunks=" + numChunks + " N=" + seqs + " H=" + heads + " D=" + dim;
        long per = (long) numChunks * heads;
        if (form == Form.EXACT) {
            long tile = Workspace.aligned(4L * per * CHUNK * dim);
            CUdeviceptr w = scratch;
            CUdeviceptr u = scratch.withByteOffset(tile);
            CUdeviceptr qg = scratch.withByteOffset(2 * tile);
            CUdeviceptr kd = scratch.withByteOffset(3 * tile);
            CUdeviceptr aqk = scratch.withByteOffset(4 * tile);
            CUdeviceptr gl = scratch.withByteOffset(4 * tile + Workspace.aligned(4L * per * CHUNK * CHUNK));
            int p = dim + 1;
            int smem1 = 4 * (4 * CHUNK * p + CHUNK * 65 + CHUNK);
            if (numChunks > 0) {
                Launch.run(ctx, "kda_chunk_prepare_d" + dim, shapes, numChunks, heads, 1, 256, smem1,
                        q, k, v, g, beta, chunks, heads, w, u, qg, kd, aqk, gl);
            }
            int smem2 = 4 * (dim * 32 + CHUNK * dim + CHUNK * 33 + CHUNK * CHUNK + dim);
            Launch.run(ctx, "kda_chunk_state_d" + dim, shapes, seqs, heads, dim / 32, 256, smem2,
                    w, u, qg, kd, aqk, gl, chunks, seqChunks, slots, state, out, heads);
            return;
        }
        if (numChunks > 0) {
            intra(ctx, q, k, v, g, beta, chunks, scratch, numChunks, heads, dim);
        }
        recur(ctx, chunks, seqChunks, slots, state, out, scratch, numChunks, seqs, heads, dim);
    }

    /** The tensor-core form's scratch: the records, then U (fits in {@link #scratchBytes}). */
    private static CUdeviceptr[] tensorCoreScratch(CUdeviceptr scratch, int numChunks, int heads, int dim) {
        long per = (long) numChunks * heads;
        return new CUdeviceptr[] {scratch, scratch.withByteOffset(Workspace.aligned(per * recordBytes(dim)))};
    }

    /** Stage 1 of the tensor-core form alone (every chunk and head at once; q, k, v bf16); numChunks > 0. */
    static void intra(CudaContext ctx, CUdeviceptr q, CUdeviceptr k, CUdeviceptr v, CUdeviceptr g, CUdeviceptr beta,
                      CUdeviceptr chunks, CUdeviceptr scratch, int numChunks, int heads, int dim) {
        if (numChunks > MAX_INTRA_CHUNKS) {
            throw new IllegalArgumentException("kda_chunk_intra: " + numChunks + " chunks in one call, at most "
                    + MAX_INTRA_CHUNKS + " (" + CHUNK + "-token chunks on the grid's y axis); split the prompt batch");
        }
        CUdeviceptr[] s = tensorCoreScratch(scratch, numChunks, heads, dim);
        // heads on x, chunks on y: blocks resident together read whole token rows (measured: 0.493 -> 0.475 ms at
        // B=1 T=8192 H=32 against chunks on x)
        Launch.run(ctx, "kda_chunk_intra_d" + dim, "chunks=" + numChunks + " H=" + heads + " D=" + dim, heads,
                numChunks, 1, INTRA_THREADS, intraSmem(dim), q, k, v, g, beta, chunks, heads, s[0], s[1]);
    }

    /** Stage 2 of the tensor-core form alone: the state across each sequence's chunks, and the output. */
    static void recur(CudaContext ctx, CUdeviceptr chunks, CUdeviceptr seqChunks, CUdeviceptr slots, CUdeviceptr state,
                      CUdeviceptr out, CUdeviceptr scratch, int numChunks, int seqs, int heads, int dim) {
        recur(ctx, chunks, seqChunks, slots, state, out, scratch, numChunks, seqs, heads, dim,
                recurShape(ctx, seqs, heads, dim));
    }

    /** Stage 2 with the block shape chosen by the caller (WIDE: dim >= 64; WIDE_SHARED: dim = 128). */
    static void recur(CudaContext ctx, CUdeviceptr chunks, CUdeviceptr seqChunks, CUdeviceptr slots, CUdeviceptr state,
                      CUdeviceptr out, CUdeviceptr scratch, int numChunks, int seqs, int heads, int dim,
                      RecurShape shape) {
        if (shape != RecurShape.NARROW && dim < 64 || shape == RecurShape.WIDE_SHARED && dim != 128) {
            throw new IllegalArgumentException("kda_chunk recurrence: block shape " + shape + " needs D "
                    + (shape == RecurShape.WIDE ? ">= 64" : "= 128") + ", got D=" + dim);
        }
        CUdeviceptr[] s = tensorCoreScratch(scratch, numChunks, heads, dim);
        int slices = shape == RecurShape.NARROW ? 1 : 2;
        String name = switch (shape) {
            case NARROW -> "kda_chunk_recur_d" + dim;
            case WIDE -> "kda_chunk_recur_wide_d" + dim;
            case WIDE_SHARED -> "kda_chunk_recur_wide_shared_d" + dim;
        };
        Launch.run(ctx, name,
                "chunks=" + numChunks + " N=" + seqs + " H=" + heads + " D=" + dim, seqs, heads, dim / (32 * slices),
                128 * slices, recurSmem(dim, slices), s[0], s[1], chunks, seqChunks, slots, state, out, heads);
    }
}
