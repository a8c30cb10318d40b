package dev.kimilinear.cuda;

import dev.kimilinear.cpu.CpuOps;
import dev.kimilinear.engine.RowChoices;
import dev.kimilinear.engine.SamplingParams;
import dev.kimilinear.engine.TokenChooser;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Tag("gpu")
class SamplingKernelTest {

    /** Both load paths (16-byte aligned rows, and rows that are not) with ties, NaN and a maximum in the tail. */
    @Test
    void argmaxTakesTheLowestIndexOfTheMaximumAndSkipsNaN() {
        CudaContext ctx = GpuTest.context();
        Random rnd = new Random(5);
        int rows = 4;
        int vocab = 1030;
        for (int ldl : new int[] {1032, 1031}) {
            float[] logits = GpuTest.random(rnd, rows * ldl, 3f);
            int[] expect = new int[rows];
            for (int r = 0; r < rows; r++) {
                int base = r * ldl;
                logits[base + 3] = Float.NaN;
                if (r == 3) {
                    logits[base + vocab - 1] = 50f;   // the maximum past the last whole group of four
                    expect[r] = vocab - 1;
                } else {
                    logits[base + 900] = 50f;
                    logits[base + 7 + r] = 50f;   // a tie: the lower index wins
                    expect[r] = 7 + r;
                }
            }
            try (DeviceBuffer dl = DeviceBuffer.of(ctx, logits); DeviceBuffer out = DeviceBuffer.allocate(ctx, 4L * rows)) {
                out.poison();
                SamplingKernel.argmax(ctx, dl.ptr(), ldl, rows, vocab, out.ptr());
                int[] arg = out.toInts();
                for (int r = 0; r < rows; r++) {
                    assertEquals(expect[r], arg[r], "argmax of row " + r + " with ldl " + ldl);
                }
            }
        }
    }

    @Test
    void argmaxOfWideRowsMatchesTheHost() {
        CudaContext ctx = GpuTest.context();
        Random rnd = new Random(3);
        int rows = 5;
        int vocab = 163840;
        float[] logits = GpuTest.random(rnd, rows * vocab, 3f);
        try (DeviceBuffer dl = DeviceBuffer.of(ctx, logits); DeviceBuffer out = DeviceBuffer.allocate(ctx, 4L * rows)) {
            SamplingKernel.argmax(ctx, dl.ptr(), vocab, rows, vocab, out.ptr());
            int[] arg = out.toInts();
            for (int r = 0; r < rows; r++) {
                assertEquals(CpuOps.argmax(logits, r * vocab, vocab), arg[r], "argmax of row " + r);
            }
        }
    }

    /**
     * The device answers every kind of choice as TokenChooser does: the same tokens (greedy and
     * drawn, with every cut), the same top lists, log-probabilities equal to double rounding.
     */
    @Test
    void chooseAnswersAsTheHostDefinitionDoes() {
        CudaContext ctx = GpuTest.context();
        Random rnd = new Random(8);
        // a model-sized row set, and a narrow one whose rows are padded and whose last ids may not be chosen
        int[][] shapes = {{163840, 163840, 163840}, {1030, 1031, 1000}};
        for (int[] shape : shapes) {
            int vocab = shape[0];
            int ldl = shape[1];
            int sampleVocab = shape[2];
            int rows = 6;
            float[] logits = new float[rows * ldl];
            for (int r = 0; r < rows; r++) {
                double scale = r % 3 == 0 ? 1 : r % 3 == 1 ? 3 : 8;
                for (int i = 0; i < vocab; i++) {
                    logits[r * ldl + i] = (float) (rnd.nextGaussian() * scale);
                }
            }
            // row 5: values on a coarse grid, so ranks are decided by ids among equal logits
            for (int i = 0; i < vocab; i++) {
                logits[5 * ldl + i] = Math.round(logits[5 * ldl + i] * 2) / 2f;
            }
            logits[2 * ldl + 17] = Float.NaN;
            RowChoices c = new RowChoices(sampleVocab);
            double[] temperatures = {0.3, 0.7, 1.0, 1.6};
            double[] topPs = {1, 0.95, 0.6, 1e-6};
            int[] topKs = {0, 1, 7, 500};
            int[] logprobs = {-1, 0, 5, 20};
            int n = 0;
            for (int r = 0; r < rows; r++) {
                c.add(r, SamplingParams.greedy(1), 0, 0);
                c.addScore(r, (r * 7919) % vocab);
                for (int j = 0; j < 16; j++, n++) {
                    double p = r == 5 ? 1 : topPs[(n / 4) % 4];   // equal logits put mass cuts at rounding's mercy
                    c.add(r, new SamplingParams(1, temperatures[n % 4], p, topKs[(n / 16) % 4], 1000 + n, List.of(),
                            List.of(), 1, logprobs[(n / 2) % 4]), j % 3, n);
                }
            }
            RowChoices host = copy(c);
            float[] packed = new float[rows * vocab];
            for (int r = 0; r < rows; r++) {
                System.arraycopy(logits, r * ldl, packed, r * vocab, vocab);
            }
            new TokenChooser(vocab).chooseAll(packed, vocab, host);
            try (DeviceBuffer dl = DeviceBuffer.of(ctx, logits); SamplingKernel.Room room = new SamplingKernel.Room(ctx)) {
                SamplingKernel.stage(ctx, c, room);
                SamplingKernel.choose(ctx, dl.ptr(), ldl, vocab, c, room);
            }
            for (int i = 0; i < c.count(); i++) {
                String what = "vocab " + vocab + " choice " + i + " (row " + c.row(i) + ", T " + c.temperature(i)
                        + ", k " + c.topK(i) + ", p " + c.topP(i) + ", logprobs " + c.logprobs(i) + ", target "
                        + c.target(i) + ")";
                assertEquals(host.token(i), c.token(i), what);
                if (c.wantsLogprob(i) && Double.isNaN(host.logprob(i))) {
                    assertTrue(Double.isNaN(c.logprob(i)), what + ": a row with a NaN logit has no log-probabilities");
                } else if (c.wantsLogprob(i)) {
                    assertEquals(host.logprob(i), c.logprob(i), 1e-9 * Math.max(1, Math.abs(host.logprob(i))), what);
                } else {
                    assertTrue(Double.isNaN(c.logprob(i)), what);
                }
                for (int r = 0; r < c.topCount(i) && !Double.isNaN(host.logprob(i)); r++) {
                    assertEquals(host.topId(i, r), c.topId(i, r), what + " rank " + r);
                    assertEquals(host.topLogprob(i, r), c.topLogprob(i, r), 1e-9 * Math.max(1, Math.abs(host.topLogprob(i, r))),
                            what + " rank " + r);
                }
            }
        }
    }

    /** The same questions in a fresh table. */
    private static RowChoices copy(RowChoices c) {
        RowChoices out = new RowChoices(c.sampleVocab());
        for (int i = 0; i < c.count(); i++) {
            if (c.target(i) >= 0) {
                out.addScore(c.row(i), c.target(i));
            } else {
                out.add(c.row(i), new SamplingParams(1, c.temperature(i), c.topP(i), c.topK(i), c.seed(i), List.of(),
                        List.of(), 1, c.logprobs(i)), c.sample(i), c.position(i));
            }
        }
        return out;
    }
}
