package dev.kimilinear.cuda;

import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MlaPrefillPlanTest {
    private static final int TILE = MlaPrefillPlan.TILE;

    /** Every sequence's keys once, in key order, first and last pieces flagged; passes within capacity. */
    @Test
    void piecesCoverEachSequenceInKeyOrder() {
        int[] ctxLens = {5, 0, 3000, 129, 70000, 0};
        int[] news = {1, 200, 1, 500, 8192, 0};
        int[] cu = cumulative(news);
        for (int capacity : new int[] {128, 640, 4096, 1 << 17}) {
            for (int first : new int[] {0, 2}) {
                MlaPrefillPlan plan = MlaPrefillPlan.of(cu, ctxLens, first, capacity);
                int[] covered = new int[ctxLens.length];
                for (MlaPrefillPlan.Pass pass : plan.passes()) {
                    assertTrue(pass.rows() <= capacity && pass.rows() % TILE == 0, plan.toString());
                    Set<Integer> seqs = new HashSet<>();
                    int rows = 0;
                    for (int p = 0; p < pass.numPieces(); p++) {
                        int[] pc = java.util.Arrays.copyOfRange(pass.pieces(), 5 * p, 5 * p + 5);
                        int s = pc[0];
                        assertTrue(s >= first && news[s] > 0, "sequence " + s + " planned");
                        assertTrue(seqs.add(s), "one piece of a sequence per pass");
                        assertEquals(covered[s], pc[1], "pieces follow each other in key order");
                        assertEquals(rows, pc[3], "pieces sit end to end on tile boundaries");
                        assertEquals(pc[1] == 0 ? MlaPrefillPlan.FIRST : 0, pc[4] & MlaPrefillPlan.FIRST);
                        int keys = ctxLens[s] + news[s];
                        assertEquals(pc[2] == keys ? MlaPrefillPlan.LAST : 0, pc[4] & MlaPrefillPlan.LAST);
                        covered[s] = pc[2];
                        rows += (pc[2] - pc[1] + TILE - 1) / TILE * TILE;
                    }
                    assertEquals(rows, pass.rows());
                }
                for (int s = 0; s < ctxLens.length; s++) {
                    int expect = s < first || news[s] == 0 ? 0 : ctxLens[s] + news[s];
                    assertEquals(expect, covered[s], "keys of sequence " + s + " at capacity " + capacity);
                }
            }
        }
    }

    /** Work items: every query block of a piece that sees a key or ends its sequence, costliest first. */
    @Test
    void workItemsCoverQueryBlocksCostliestFirst() {
        int[] ctxLens = {0, 1000, 300};
        int[] news = {1000, 129, 1};
        int[] cu = cumulative(news);
        MlaPrefillPlan plan = MlaPrefillPlan.of(cu, ctxLens, 0, 1024);
        int lastLastItems = 0;
        for (MlaPrefillPlan.Pass pass : plan.passes()) {
            int prev = Integer.MAX_VALUE;
            Set<Long> seen = new HashSet<>();
            for (int i = 0; i < pass.numWork(); i++) {
                int p = pass.work()[2 * i];
                int q0 = pass.work()[2 * i + 1];
                int[] pc = java.util.Arrays.copyOfRange(pass.pieces(), 5 * p, 5 * p + 5);
                int blocks = MlaPrefillPlan.blocks(pc[1], pc[2], ctxLens[pc[0]], q0, news[pc[0]]);
                assertTrue(blocks <= prev, "items sorted by key tiles, descending");
                prev = blocks;
                assertEquals(0, q0 % TILE);
                assertTrue(q0 < news[pc[0]]);
                assertTrue(seen.add(((long) p << 32) | q0), "each item once");
                if ((pc[4] & MlaPrefillPlan.LAST) != 0) {
                    lastLastItems++;
                }
            }
        }
        // every query block of every sequence is finished by exactly one item of its last piece
        int blocks = 0;
        for (int x : news) {
            blocks += (x + TILE - 1) / TILE;
        }
        assertEquals(blocks, lastLastItems);
        // causal: query block 0 of a fresh prompt sees one tile, its last block all 8
        assertEquals(1, MlaPrefillPlan.blocks(0, 1000, 0, 0, 1000));
        assertEquals(8, MlaPrefillPlan.blocks(0, 1000, 0, 896, 1000));
        // a later piece holds only keys past every query of the block: nothing to do
        assertEquals(0, MlaPrefillPlan.blocks(1024, 2048, 0, 0, 1000));
        assertEquals(1, MlaPrefillPlan.blocks(1024, 1129, 1000, 0, 129));
    }

    @Test
    void capacityMustBeWholeTiles() {
        assertThrows(IllegalArgumentException.class, () -> MlaPrefillPlan.of(new int[] {0, 1}, new int[] {0}, 0, 100));
        assertThrows(IllegalArgumentException.class, () -> MlaPrefillPlan.of(new int[] {0, 1}, new int[] {0}, 0, 0));
    }

    @Test
    void causalPairsCountContextAndTheChunkTriangle() {
        assertEquals(8192L * 8193 / 2, MlaPrefillPlan.causalPairs(new int[] {0, 8192}, new int[] {0}, 0));
        assertEquals(3L * 10 + 6, MlaPrefillPlan.causalPairs(new int[] {0, 2, 5}, new int[] {7, 10}, 1));
    }

    private static int[] cumulative(int[] news) {
        int[] cu = new int[news.length + 1];
        for (int s = 0; s < news.length; s++) {
            cu[s + 1] = cu[s] + news[s];
        }
        return cu;
    }
}
