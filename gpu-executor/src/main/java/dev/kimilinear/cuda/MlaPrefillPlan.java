package dev.kimilinear.cuda;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * How the prefill attention of {@link MlaPrefillKernel} walks the cached keys of a batch's
 * prompt sequences: in passes of at most {@code capacity} gathered rows, each sequence's keys
 * [0, context + new) cut into pieces in key order (at most one piece of a sequence per pass),
 * and per pass the work items (piece, block of 128 queries), costliest first so that the
 * longest items start before the short ones fill the tail.
 *
 * @param passes   the passes in the order they run
 * @param capacity rows of the gathered buffer (a multiple of {@link #TILE})
 */
public record MlaPrefillPlan(List<Pass> passes, int capacity) {
    /** Keys per tile and queries per work item; pieces start on tile boundaries of the buffer. */
    public static final int TILE = 128;
    /** Ints per piece: sequence, first key, end key, first gathered row, flags. */
    public static final int PIECE_INTS = 5;
    /** Ints per work item: piece, first query. */
    public static final int WORK_INTS = 2;
    public static final int FIRST = 1;
    public static final int LAST = 2;

    /**
     * One pass: gather {@code rows} latent rows, expand them, attend.
     *
     * @param pieces [PIECE_INTS * numPieces], first gathered rows ascending
     * @param work   [WORK_INTS * numWork]
     * @param rows   gathered rows the pass uses (a multiple of TILE)
     */
    public record Pass(int[] pieces, int[] work, int rows) {
        public int numPieces() {
            return pieces.length / PIECE_INTS;
        }

        public int numWork() {
            return work.length / WORK_INTS;
        }
    }

    /**
     * @param cuSeqlens [N + 1] token offsets of the batch's sequences
     * @param ctxLens   [N] tokens cached before this step
     * @param firstSeq  sequences before it are left out (the decode prefix, attended elsewhere)
     * @param capacity  most gathered rows per pass, a positive multiple of TILE
     */
    public static MlaPrefillPlan of(int[] cuSeqlens, int[] ctxLens, int firstSeq, int capacity) {
        if (capacity <= 0 || capacity % TILE != 0) {
            throw new IllegalArgumentException("capacity " + capacity + " must be a positive multiple of " + TILE);
        }
        int n = cuSeqlens.length - 1;
        if (ctxLens.length < n) {
            throw new IllegalArgumentException(ctxLens.length + " context lengths for " + n + " sequences");
        }
        List<Pass> passes = new ArrayList<>();
        List<int[]> pieces = new ArrayList<>();
        int used = 0;
        for (int s = firstSeq; s < n; s++) {
            int news = cuSeqlens[s + 1] - cuSeqlens[s];
            if (news < 0 || ctxLens[s] < 0) {
                throw new IllegalArgumentException("sequence " + s + ": " + news + " new tokens after " + ctxLens[s]);
            }
            if (news == 0) {
                continue;
            }
            int keys = ctxLens[s] + news;
            for (int k = 0; k < keys; ) {
                if (used == capacity) {
                    passes.add(pass(pieces, used, cuSeqlens, ctxLens));
                    pieces.clear();
                    used = 0;
                }
                int len = Math.min(keys - k, capacity - used);
                int flags = (k == 0 ? FIRST : 0) | (k + len == keys ? LAST : 0);
                pieces.add(new int[] {s, k, k + len, used, flags});
                used += roundUp(len);
                k += len;
            }
        }
        if (!pieces.isEmpty()) {
            passes.add(pass(pieces, used, cuSeqlens, ctxLens));
        }
        return new MlaPrefillPlan(List.copyOf(passes), capacity);
    }

    private static Pass pass(List<int[]> pieces, int rows, int[] cu, int[] ctxLens) {
        int[] flat = new int[PIECE_INTS * pieces.size()];
        List<long[]> items = new ArrayList<>();   // cost, piece, first query
        for (int p = 0; p < pieces.size(); p++) {
            int[] pc = pieces.get(p);
            System.arraycopy(pc, 0, flat, PIECE_INTS * p, PIECE_INTS);
            int s = pc[0];
            int news = cu[s + 1] - cu[s];
            for (int q0 = 0; q0 < news; q0 += TILE) {
                int blocks = blocks(pc[1], pc[2], ctxLens[s], q0, news);
                // an item with no key in this piece keeps its state where it is, unless it must write
                if (blocks > 0 || (pc[4] & LAST) != 0) {
                    items.add(new long[] {blocks, p, q0});
                }
            }
        }
        items.sort((a, b) -> Long.compare(b[0], a[0]));
        int[] work = new int[WORK_INTS * items.size()];
        for (int i = 0; i < items.size(); i++) {
            work[WORK_INTS * i] = (int) items.get(i)[1];
            work[WORK_INTS * i + 1] = (int) items.get(i)[2];
        }
        return new Pass(flat, work, rows);
    }

    /** Key tiles of the piece [k0, k1) that the queries q0 .. q0 + TILE of a sequence see (as the kernel counts). */
    static int blocks(int k0, int k1, int ctx, int q0, int news) {
        int last = Math.min(k1 - 1, ctx + Math.min(q0 + TILE, news) - 1);
        return last >= k0 ? (last - k0) / TILE + 1 : 0;
    }

    static int roundUp(int rows) {
        return (rows + TILE - 1) / TILE * TILE;
    }

    /** Ints of every pass's pieces and work items, laid end to end (see {@link #flatten}). */
    public int ints() {
        int total = 0;
        for (Pass p : passes) {
            total += p.pieces.length + p.work.length;
        }
        return total;
    }

    /** Every pass's pieces then work items, end to end: what the device reads. */
    public int[] flatten() {
        int[] out = new int[ints()];
        int o = 0;
        for (Pass p : passes) {
            System.arraycopy(p.pieces, 0, out, o, p.pieces.length);
            o += p.pieces.length;
            System.arraycopy(p.work, 0, out, o, p.work.length);
            o += p.work.length;
        }
        return out;
    }

    /** Causal query-key pairs the plan attends to over all heads' one: for benchmarks and checks. */
    public static long causalPairs(int[] cuSeqlens, int[] ctxLens, int firstSeq) {
        long pairs = 0;
        for (int s = firstSeq; s < cuSeqlens.length - 1; s++) {
            long news = cuSeqlens[s + 1] - cuSeqlens[s];
            pairs += news * ctxLens[s] + news * (news + 1) / 2;
        }
        return pairs;
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("MlaPrefillPlan[capacity=" + capacity);
        for (Pass p : passes) {
            sb.append(", pass(rows=").append(p.rows).append(" pieces=").append(Arrays.toString(p.pieces))
                    .append(" items=").append(p.numWork()).append(')');
        }
        return sb.append(']').toString();
    }
}
