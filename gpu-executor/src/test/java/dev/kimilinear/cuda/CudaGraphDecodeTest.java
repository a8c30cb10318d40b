package dev.kimilinear.cuda;

import dev.kimilinear.cpu.CpuOps;
import dev.kimilinear.engine.StepBatch;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Decode steps replayed from captured graphs give exactly the logits of the same steps run
 * kernel by kernel: several sequences of different lengths, contexts crossing page and
 * block-table-bucket boundaries (a new shape is recorded anew), tokens fed back greedily. A
 * batch between graph sizes is padded to the next (CudaModel.decodeBucket): its real rows
 * then come from products over more rows, equal to float rounding and with the same tokens.
 */
@Tag("gpu")
class CudaGraphDecodeTest {
    private static final int PAGE = 16;
    private static final int STEPS = 40;

    @Test
    void replayedDecodeStepsEqualEagerStepsBitForBit() {
        compare(4, true);
    }

    @Test
    void aPaddedBatchReplaysTheSameTokens() {
        assertEquals(4, CudaModel.decodeBucket(3, 16));
        assertEquals(16, CudaModel.decodeBucket(9, 16));
        assertEquals(12, CudaModel.decodeBucket(12, 12), "never past the most sequences");
        assertEquals(96, CudaModel.decodeBucket(65, 256));
        assertEquals(320, CudaModel.decodeBucket(257, 1024));
        compare(3, false);
    }

    private static void compare(int seqs, boolean bitwise) {
        CudaContext ctx = GpuTest.context();
        assumeTrue(Files.isDirectory(CudaModelTest.FIXTURE), "fixture folder absent");
        boolean sync = ctx.syncCheck();
        ctx.setSyncCheck(false);
        try (CudaModel model = CudaModel.load(CudaModelTest.FIXTURE, ctx.device().index(), PAGE, 256, 16,
                ActivationPrecision.BF16)) {
            Random rnd = new Random(System.nanoTime());
            int[][] prompts = new int[seqs][];
            for (int s = 0; s < seqs; s++) {
                prompts[s] = new int[5 + rnd.nextInt(20) + 9 * s];
                for (int i = 0; i < prompts[s].length; i++) {
                    prompts[s][i] = 3 + rnd.nextInt(500);
                }
            }
            model.setDecodeGraphs(false);
            float[][] eager = generate(model, prompts);
            model.setDecodeGraphs(true);
            float[][] replayed = generate(model, prompts);
            for (int step = 0; step < STEPS && !bitwise; step++) {
                double worst = 0;
                double scale = 0;
                for (int i = 0; i < eager[step].length; i++) {
                    worst = Math.max(worst, Math.abs(eager[step][i] - replayed[step][i]));
                    scale = Math.max(scale, Math.abs(eager[step][i]));
                }
                assertTrue(worst <= 1e-3 * scale, "decode step " + step + ": padded graph differs by " + worst);
                for (int s = 0; s < seqs; s++) {
                    int vocab = model.config().vocabSize();
                    assertEquals(CpuOps.argmax(eager[step], s * vocab, vocab), CpuOps.argmax(replayed[step], s * vocab,
                            vocab), "decode step " + step + " sequence " + s);
                }
            }
            for (int step = 0; step < STEPS && bitwise; step++) {
                for (int i = 0; i < eager[step].length; i++) {
                    assertEquals(Float.floatToRawIntBits(eager[step][i]), Float.floatToRawIntBits(replayed[step][i]),
                            "decode step " + step + " logit " + i + ": graph " + replayed[step][i] + ", eager "
                                    + eager[step][i]);
                }
            }
        } finally {
            ctx.setSyncCheck(sync);
        }
    }

    /** Prefills every prompt in its own slot, then decodes all sequences together; logits per step. */
    private static float[][] generate(CudaModel model, int[][] prompts) {
        int seqs = prompts.length;
        int vocab = model.config().vocabSize();
        int maxLen = 0;
        for (int[] p : prompts) {
            maxLen = Math.max(maxLen, p.length + STEPS);
        }
        int pagesPer = (maxLen + PAGE - 1) / PAGE;
        model.reserve(seqs, seqs * pagesPer);
        int[][] tables = new int[seqs][pagesPer];
        int[] next = new int[seqs];
        int[] ctxLens = new int[seqs];
        for (int s = 0; s < seqs; s++) {
            model.resetSlot(s);
            for (int p = 0; p < pagesPer; p++) {
                tables[s][p] = p * seqs + (seqs - 1 - s);
            }
            int n = prompts[s].length;
            float[] logits = new float[vocab];
            model.logits(new StepBatch(prompts[s], new int[] {0, n}, new int[] {s}, new int[] {0},
                    new int[][] {Arrays.copyOf(tables[s], (n + PAGE - 1) / PAGE)}, new int[] {n - 1}), logits);
            next[s] = CpuOps.argmax(logits, 0, vocab);
            ctxLens[s] = n;
        }
        float[][] out = new float[STEPS][seqs * vocab];
        int[] cu = new int[seqs + 1];
        Arrays.setAll(cu, i -> i);
        int[] slots = Arrays.copyOf(cu, seqs);
        int[] rows = Arrays.copyOf(cu, seqs);
        for (int step = 0; step < STEPS; step++) {
            int[][] stepTables = new int[seqs][];
            for (int s = 0; s < seqs; s++) {
                // each table covers just the pages its context needs, so the table pitch grows
                stepTables[s] = Arrays.copyOf(tables[s], ctxLens[s] / PAGE + 1);
            }
            model.logits(new StepBatch(next.clone(), cu, slots, ctxLens.clone(), stepTables, rows), out[step]);
            for (int s = 0; s < seqs; s++) {
                next[s] = CpuOps.argmax(out[step], s * vocab, vocab);
                ctxLens[s]++;
            }
        }
        return out;
    }
}
