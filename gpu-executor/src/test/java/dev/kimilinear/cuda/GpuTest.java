package dev.kimilinear.cuda;

import dev.kimilinear.checkpoint.HalfFloats;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Shared pieces of the GPU tests: the device (or a skip), random inputs, error measures. */
final class GpuTest {
    private GpuTest() {
    }

    /** Device 0 with every launch checked to completion; skips the test without a GPU. */
    static CudaContext context() {
        CudaAvailability a = CudaAvailability.check();
        assumeTrue(a.available(), a.reason());
        CudaContext ctx = CudaContext.forDevice(0);
        ctx.setSyncCheck(true);
        if (GemmKernel.hopper(ctx)) {
            ctx.gemmScratch();   // as a model holds it: products take the same paths whatever ran first
        }
        return ctx;
    }

    static float[] random(Random rnd, int n, float scale) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (rnd.nextGaussian() * scale);
        }
        return x;
    }

    /** Values that survive a bf16 round trip exactly, so CPU and GPU see the same inputs. */
    static float[] randomBf16(Random rnd, int n, float scale) {
        return bf16Round(random(rnd, n, scale));
    }

    static float[] bf16Round(float[] x) {
        float[] y = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            y[i] = HalfFloats.bf16ToFloat(HalfFloats.floatToBf16(x[i]));
        }
        return y;
    }

    static short[] bf16(float[] x) {
        short[] s = new short[x.length];
        for (int i = 0; i < x.length; i++) {
            s[i] = HalfFloats.floatToBf16(x[i]);
        }
        return s;
    }

    static float[] fromBf16(short[] s) {
        float[] x = new float[s.length];
        for (int i = 0; i < s.length; i++) {
            x[i] = HalfFloats.bf16ToFloat(s[i]);
        }
        return x;
    }

    /** ||out - ref|| / ||ref||; fails on any non-finite output (unwritten poisoned element). */
    static double relError(float[] out, float[] ref, String what) {
        assertEquals(ref.length, out.length, what + ": length");
        double num = 0;
        double den = 0;
        for (int i = 0; i < ref.length; i++) {
            if (!Float.isFinite(out[i])) {
                fail(what + ": element " + i + " is " + out[i] + " (unwritten or overflowed)");
            }
            double d = out[i] - ref[i];
            num += d * d;
            den += (double) ref[i] * ref[i];
        }
        return Math.sqrt(num / Math.max(den, 1e-30));
    }

    static void assertClose(float[] out, float[] ref, double tol, String what) {
        double e = relError(out, ref, what);
        assertTrue(e < tol, what + ": relative error " + e + " >= " + tol);
    }

    static float[] slice(float[] x, int from, int n) {
        float[] y = new float[n];
        System.arraycopy(x, from, y, 0, n);
        return y;
    }
}
