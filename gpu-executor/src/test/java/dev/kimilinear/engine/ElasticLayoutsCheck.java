package dev.kimilinear.engine;

import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * One scenario for every elastic model against a plain backend of the same ids, 2 replicas of
 * 4 slots and {@code pagesPer} pages: two sequences on each replica prefill and decode, the
 * replicas pool (the held state moved) and decode on, then come back with the sequences moved
 * to other ids and decode once more; at every step the logits agree within {@code tolerance}.
 */
public final class ElasticLayoutsCheck {
    private ElasticLayoutsCheck() {
    }

    public static void run(ElasticBackend elastic, Backend plain, int pagesPer, int pagesEach, int[] promptLengths,
                           double tolerance) {
        int vocab = plain.config().vocabSize();
        Random rnd = new Random(5);
        elastic.reserve(8, 2 * pagesPer);
        plain.reserve(8, 2 * pagesPer);
        assertEquals(2, elastic.groups());
        assertEquals(4, elastic.slotsPerGroup());
        assertEquals(pagesPer, elastic.pagesPerGroup());
        int[] slots = {0, 1, 4, 5};
        int[][] tables = new int[4][];
        int[] next = {0, pagesPer};
        for (int s = 0; s < 4; s++) {
            tables[s] = new int[pagesEach];
            for (int p = 0; p < pagesEach; p++) {
                tables[s][p] = next[s / 2]++;
            }
            elastic.resetSlot(slots[s]);
            plain.resetSlot(slots[s]);
        }
        int[] context = new int[4];
        int[][] prompts = new int[4][];
        for (int s = 0; s < 4; s++) {
            prompts[s] = rnd.ints(promptLengths[s], 3, vocab).toArray();
        }
        compare(elastic, plain, step(prompts, slots, context.clone(), tables), step(prompts, slots, context, tables),
                tolerance, "prefill");
        int[][] one = new int[4][];
        for (int round = 0; round < 4; round++) {
            for (int s = 0; s < 4; s++) {
                one[s] = new int[] {3 + rnd.nextInt(vocab - 3)};
            }
            if (round == 1) {
                boolean[] slotsHeld = new boolean[8];
                boolean[] pagesHeld = new boolean[2 * pagesPer];
                for (int s = 0; s < 4; s++) {
                    slotsHeld[slots[s]] = true;
                    for (int p : tables[s]) {
                        pagesHeld[p] = true;
                    }
                }
                int pooled = elastic.relieve(slotsHeld, pagesHeld);
                assertTrue(pooled >= 2 * pagesPer, "pooled pages " + pooled);
                assertEquals(1, elastic.groups());
                assertEquals(pooled, elastic.pagesPerGroup());
                assertEquals(-1, elastic.relieve(slotsHeld, pagesHeld), "pooled already");
            }
            if (round == 3) {
                // back to replicas, the first two sequences moved to replica 1 and the others to replica 0
                int[] slotMoves = new int[8];
                Arrays.fill(slotMoves, -1);
                int[] pageMoves = new int[elastic.pagesPerGroup()];
                Arrays.fill(pageMoves, -1);
                int[][] moved = new int[4][];
                int[] movedSlots = new int[4];
                int[] at = {pagesPer, 0};
                for (int s = 0; s < 4; s++) {
                    movedSlots[s] = (s < 2 ? 4 : 0) + s % 2;
                    slotMoves[slots[s]] = movedSlots[s];
                    moved[s] = new int[pagesEach];
                    for (int p = 0; p < pagesEach; p++) {
                        moved[s][p] = at[s / 2]++;
                        pageMoves[tables[s][p]] = moved[s][p];
                    }
                }
                elastic.restore(slotMoves, pageMoves);
                assertEquals(2, elastic.groups());
                compare(elastic, plain, step(one, movedSlots, context.clone(), moved), step(one, slots, context, tables),
                        tolerance, "decode after the restore");
                break;
            }
            compare(elastic, plain, step(one, slots, context.clone(), tables), step(one, slots, context, tables),
                    tolerance, "decode " + round);
        }
        // a sequence's slot and pages on different replicas is refused
        StepBatch mixed = new StepBatch(new int[] {5}, new int[] {0, 1}, new int[] {0}, new int[] {0},
                new int[][] {{pagesPer + 1}}, new int[] {0});
        assertThrows(IllegalArgumentException.class, () -> elastic.logits(mixed, new float[vocab]));
    }

    /** A step of each sequence's new tokens, advancing the contexts. */
    private static StepBatch step(int[][] tokens, int[] slots, int[] context, int[][] tables) {
        int n = tokens.length;
        int[] cu = new int[n + 1];
        for (int s = 0; s < n; s++) {
            cu[s + 1] = cu[s] + tokens[s].length;
        }
        int[] flat = new int[cu[n]];
        int[] rows = new int[n];
        for (int s = 0; s < n; s++) {
            System.arraycopy(tokens[s], 0, flat, cu[s], tokens[s].length);
            rows[s] = cu[s + 1] - 1;
        }
        StepBatch b = new StepBatch(flat, cu, slots.clone(), context.clone(), tables, rows);
        for (int s = 0; s < n; s++) {
            context[s] += tokens[s].length;
        }
        return b;
    }

    private static void compare(Backend elastic, Backend plain, StepBatch forElastic, StepBatch forPlain,
                                double tolerance, String what) {
        int vocab = plain.config().vocabSize();
        float[] expected = new float[forPlain.logitRows().length * vocab];
        float[] actual = new float[expected.length];
        plain.logits(forPlain, expected);
        elastic.logits(forElastic, actual);
        double worst = 0;
        for (int i = 0; i < expected.length; i++) {
            assertTrue(Float.isFinite(actual[i]), what + ": logit " + i);
            worst = Math.max(worst, Math.abs(expected[i] - actual[i]));
        }
        assertTrue(worst <= tolerance, what + ": logits differ by " + worst);
    }
}
