package dev.kimilinear.cuda;

import dev.kimilinear.cpu.CpuOps;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

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
    void argmaxAndTopPChooseFromTheRightSet() {
        CudaContext ctx = GpuTest.context();
        Random rnd = new Random(3);
        int rows = 5;
        int vocab = 163840;
        float[] logits = GpuTest.random(rnd, rows * vocab, 3f);
        float[] u = {0f, 0.5f, 0.999f, 0.25f, 0.75f};
        try (DeviceBuffer dl = DeviceBuffer.of(ctx, logits); DeviceBuffer out = DeviceBuffer.allocate(ctx, 4L * rows);
             DeviceBuffer du = DeviceBuffer.of(ctx, u)) {
            SamplingKernel.argmax(ctx, dl.ptr(), vocab, rows, vocab, out.ptr());
            int[] arg = out.toInts();
            for (int r = 0; r < rows; r++) {
                assertEquals(CpuOps.argmax(logits, r * vocab, vocab), arg[r], "argmax of row " + r);
            }
            // a tiny nucleus is the best token alone
            SamplingKernel.topP(ctx, dl.ptr(), vocab, rows, vocab, 1f, 1e-9f, du.ptr(), out.ptr());
            int[] top = out.toInts();
            for (int r = 0; r < rows; r++) {
                assertEquals(arg[r], top[r], "top-p 0 of row " + r);
            }
            // top-p 0.9 at temperature 0.7: the choice lies inside the nucleus computed here
            float temp = 0.7f;
            float topP = 0.9f;
            SamplingKernel.topP(ctx, dl.ptr(), vocab, rows, vocab, temp, topP, du.ptr(), out.ptr());
            int[] pick = out.toInts();
            for (int r = 0; r < rows; r++) {
                double max = Double.NEGATIVE_INFINITY;
                for (int i = 0; i < vocab; i++) {
                    max = Math.max(max, logits[r * vocab + i]);
                }
                double[] p = new double[vocab];
                double z = 0;
                for (int i = 0; i < vocab; i++) {
                    p[i] = Math.exp((logits[r * vocab + i] - max) / temp);
                    z += p[i];
                }
                double[] sorted = p.clone();
                java.util.Arrays.sort(sorted);
                double mass = 0;
                double threshold = 0;
                for (int i = vocab - 1; i >= 0; i--) {
                    mass += sorted[i];
                    threshold = sorted[i];
                    if (mass >= topP * z) {
                        break;
                    }
                }
                int c = pick[r];
                assertTrue(c >= 0 && c < vocab, "row " + r + " sampled " + c);
                assertTrue(p[c] >= threshold * 0.999, "row " + r + ": token " + c + " outside the nucleus");
            }
        }
    }
}
