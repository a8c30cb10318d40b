package dev.kimilinear.cpu;

import dev.kimilinear.checkpoint.Checkpoint;
import dev.kimilinear.engine.StepBatch;
import dev.kimilinear.model.KimiLinearConfig;
import dev.kimilinear.model.ParityFixture;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The elastic model's layouts against one plain backend holding the same ids: replicas each
 * computing their own sequences, the pooled pipeline after a relief (every sequence's state
 * moved to the stages holding its layers), and replicas again after a restore that moves the
 * sequences to other ids, give the plain backend's logits at every step.
 */
class CpuElasticModelTest {
    private static final int PAGE = 4;
    private static final int[] LENGTHS = {9, 6, 11, 5};

    @Test
    void replicatedPooledAndRestoredLayoutsComputeWhatOneBackendDoes() {
        assumeTrue(Files.isDirectory(ParityFixture.DIR), "fixture folder absent");
        KimiLinearConfig cfg = KimiLinearConfig.load(ParityFixture.DIR.resolve("config.json"));
        Random rnd = new Random(5);
        try (Checkpoint ckpt = Checkpoint.open(ParityFixture.DIR);
             CpuElasticModel elastic = CpuElasticModel.of(cfg, ckpt, 2, 1L << 30, PAGE, 256);
             CpuBackend plain = CpuBackend.load(ParityFixture.DIR, 1L << 24, PAGE, 256)) {
            elastic.reserve(8, 64);
            plain.reserve(8, 64);
            assertEquals(2, elastic.groups());
            assertEquals(4, elastic.slotsPerGroup());
            assertEquals(32, elastic.pagesPerGroup());
            // two sequences on each replica: slots 0, 1 and 4, 5; pages from each one's group
            int[] slots = {0, 1, 4, 5};
            int[][] tables = new int[4][];
            int[] next = {0, 32};
            for (int s = 0; s < 4; s++) {
                tables[s] = new int[8];
                for (int p = 0; p < 8; p++) {
                    tables[s][p] = next[s / 2]++;
                }
                elastic.resetSlot(slots[s]);
                plain.resetSlot(slots[s]);
            }
            int[] context = new int[4];
            int[][] prompts = new int[4][];
            for (int s = 0; s < 4; s++) {
                prompts[s] = rnd.ints(LENGTHS[s], 3, cfg.vocabSize()).toArray();
            }
            // a prefill step, a decode step, then the relief and another decode step
            compare(elastic, plain, step(prompts, slots, context, tables), "prefill");
            int[][] one = new int[4][];
            for (int round = 0; round < 4; round++) {
                for (int s = 0; s < 4; s++) {
                    one[s] = new int[] {3 + rnd.nextInt(cfg.vocabSize() - 3)};
                }
                if (round == 1) {
                    boolean[] slotsHeld = new boolean[8];
                    boolean[] pagesHeld = new boolean[64];
                    for (int s = 0; s < 4; s++) {
                        slotsHeld[slots[s]] = true;
                        for (int p : tables[s]) {
                            pagesHeld[p] = true;
                        }
                    }
                    int pooled = elastic.relieve(slotsHeld, pagesHeld);
                    assertTrue(pooled >= 64, "pooled pages " + pooled);
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
                    int[] at = {32, 0};
                    for (int s = 0; s < 4; s++) {
                        int g = s < 2 ? 1 : 0;
                        movedSlots[s] = g * 4 + s % 2;
                        slotMoves[slots[s]] = movedSlots[s];
                        moved[s] = new int[8];
                        for (int p = 0; p < 8; p++) {
                            moved[s][p] = at[s / 2]++;
                            pageMoves[tables[s][p]] = moved[s][p];
                        }
                    }
                    elastic.restore(slotMoves, pageMoves);
                    assertEquals(2, elastic.groups());
                    StepBatch b = step(one, movedSlots, context.clone(), moved);
                    StepBatch p = step(one, slots, context, tables);
                    assertClose(logits(plain, p, cfg), logits(elastic, b, cfg), "decode after the restore");
                    break;
                }
                compare(elastic, plain, step(one, slots, context, tables), "decode " + round);
            }
            // a sequence's slot and pages on different replicas is refused
            StepBatch mixed = new StepBatch(new int[] {5}, new int[] {0, 1}, new int[] {0}, new int[] {0},
                    new int[][] {{40}}, new int[] {0});
            assertThrows(IllegalArgumentException.class, () -> logits(elastic, mixed, cfg));
        }
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

    private static void compare(CpuElasticModel elastic, CpuBackend plain, StepBatch b, String what) {
        KimiLinearConfig cfg = plain.config();
        assertClose(logits(plain, b, cfg), logits(elastic, b, cfg), what);
    }

    private static float[] logits(dev.kimilinear.engine.Backend backend, StepBatch b, KimiLinearConfig cfg) {
        float[] out = new float[b.logitRows().length * cfg.vocabSize()];
        backend.logits(b, out);
        return out;
    }

    private static void assertClose(float[] expected, float[] actual, String what) {
        double worst = 0;
        for (int i = 0; i < expected.length; i++) {
            assertTrue(Float.isFinite(actual[i]), what + ": logit " + i);
            worst = Math.max(worst, Math.abs(expected[i] - actual[i]));
        }
        assertTrue(worst <= 1e-4, what + ": logits differ by " + worst);
    }
}
