package dev.kimilinear.cuda;

import dev.kimilinear.cpu.CpuOps;
import dev.kimilinear.engine.StepBatch;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Decode steps replayed from captured graphs give exactly the logits of the same steps run
 * kernel by kernel: several sequences of different lengths, contexts crossing page and
 * block-table-bucket boundaries (a new shape is recorded anew), tokens fed back greedily.
 */
@Tag("gpu")
class CudaGraphDecodeTest {
    private static final int SEQS = 3;
    private static final int PAGE = 16;
    private static final int STEPS = 40;

    @Test
    void replayedDecodeStepsEqualEagerStepsBitForBit() {
        CudaContext ctx = GpuTest.context();
        assumeTrue(Files.isDirectory(CudaModelTest.FIXTURE), "fixture folder absent");
        boolean sync = ctx.syncCheck();
        ctx.setSyncCheck(false);
        try (CudaModel model = CudaModel.load(CudaModelTest.FIXTURE, ctx.device().index(), PAGE, 256, 16,
                ActivationPrecision.BF16)) {
            Random rnd = new Random(System.nanoTime());
            int[][] prompts = new int[SEQS][];
            for (int s = 0; s < SEQS; s++) {
                prompts[s] = new int[5 + rnd.nextInt(20) + 9 * s];
                for (int i = 0; i < prompts[s].length; i++) {
                    prompts[s][i] = 3 + rnd.nextInt(500);
                }
            }
            model.setDecodeGraphs(false);
            float[][] eager = generate(model, prompts);
            model.setDecodeGraphs(true);
            float[][] replayed = generate(model, prompts);
            for (int step = 0; step < STEPS; step++) {
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
        int vocab = model.config().vocabSize();
        int maxLen = 0;
        for (int[] p : prompts) {
            maxLen = Math.max(maxLen, p.length + STEPS);
        }
        int pagesPer = (maxLen + PAGE - 1) / PAGE;
        model.reserve(SEQS, SEQS * pagesPer);
        int[][] tables = new int[SEQS][pagesPer];
        int[] next = new int[SEQS];
        int[] ctxLens = new int[SEQS];
        for (int s = 0; s < SEQS; s++) {
            model.resetSlot(s);
            for (int p = 0; p < pagesPer; p++) {
                tables[s][p] = p * SEQS + (SEQS - 1 - s);
            }
            int n = prompts[s].length;
            float[] logits = new float[vocab];
            model.logits(new StepBatch(prompts[s], new int[] {0, n}, new int[] {s}, new int[] {0},
                    new int[][] {Arrays.copyOf(tables[s], (n + PAGE - 1) / PAGE)}, new int[] {n - 1}), logits);
            next[s] = CpuOps.argmax(logits, 0, vocab);
            ctxLens[s] = n;
        }
        float[][] out = new float[STEPS][SEQS * vocab];
        int[] cu = {0, 1, 2, 3};
        int[] slots = {0, 1, 2};
        int[] rows = {0, 1, 2};
        for (int step = 0; step < STEPS; step++) {
            int[][] stepTables = new int[SEQS][];
            for (int s = 0; s < SEQS; s++) {
                // each table covers just the pages its context needs, so the table pitch grows
                stepTables[s] = Arrays.copyOf(tables[s], ctxLens[s] / PAGE + 1);
            }
            model.logits(new StepBatch(next.clone(), cu, slots, ctxLens.clone(), stepTables, rows), out[step]);
            for (int s = 0; s < SEQS; s++) {
                next[s] = CpuOps.argmax(out[step], s * vocab, vocab);
                ctxLens[s]++;
            }
        }
        return out;
    }
}
