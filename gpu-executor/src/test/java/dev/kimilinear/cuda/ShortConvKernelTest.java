package dev.kimilinear.cuda;

import dev.kimilinear.cpu.ShortConv;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Random;

import static dev.kimilinear.cuda.GpuTest.assertClose;

@Tag("gpu")
class ShortConvKernelTest {

    /** Ragged sequences (shorter than the kernel too) continuing a random state in shuffled slots. */
    @ParameterizedTest
    @CsvSource({"'0,1,3,10,77',4", "'0,1,2,3',4", "'0,200',4", "'0,3,40',9", "'0,33',3", "'0,17,18,50',2",
            "'0,1,2,3,4,5',9", "'0,1',2", "'0,1,2',3"})
    void matchesTheReferenceIncludingState(String cuText, int kernel) {
        CudaContext ctx = GpuTest.context();
        int[] cu = java.util.Arrays.stream(cuText.split(",")).mapToInt(Integer::parseInt).toArray();
        int n = cu.length - 1;
        int t = cu[n];
        int channels = 96;
        int ld = channels + 8;
        Random rnd = new Random(t * 13L + n);
        float[] xWide = GpuTest.random(rnd, t * ld, 1f);
        float[] x = new float[t * channels];
        for (int i = 0; i < t; i++) {
            System.arraycopy(xWide, i * ld, x, i * channels, channels);
        }
        float[] w = GpuTest.random(rnd, channels * kernel, 0.5f);
        int slotCount = n + 2;
        int[] slots = new int[n];
        for (int s = 0; s < n; s++) {
            slots[s] = slotCount - 1 - s;
        }
        float[] state = GpuTest.random(rnd, slotCount * channels * (kernel - 1), 1f);
        float[] refState = state.clone();
        float[] ref = new float[t * channels];
        ShortConv.forward(x, cu, channels, w, kernel, refState, slots, ref);
        int[] seqOf = new int[t];
        for (int s = 0; s < n; s++) {
            for (int i = cu[s]; i < cu[s + 1]; i++) {
                seqOf[i] = s;
            }
        }
        try (DeviceBuffer dx = DeviceBuffer.of(ctx, xWide); DeviceBuffer dcu = DeviceBuffer.of(ctx, cu);
             DeviceBuffer dseq = DeviceBuffer.of(ctx, seqOf); DeviceBuffer dslots = DeviceBuffer.of(ctx, slots);
             DeviceBuffer dw = DeviceBuffer.of(ctx, w); DeviceBuffer ds = DeviceBuffer.of(ctx, state);
             DeviceBuffer out = DeviceBuffer.allocate(ctx, 4L * t * channels)) {
            out.poison();
            ShortConvKernel.forward(ctx, dx.ptr(), ld, dcu.ptr(), dseq.ptr(), dslots.ptr(), dw.ptr(), ds.ptr(), out.ptr(),
                    t, n, channels, kernel);
            assertClose(out.toFloats(), ref, 1e-5, "short conv output, K=" + kernel + " cu=" + cuText);
            assertClose(ds.toFloats(), refState, 1e-7, "short conv state");
        }
    }
}
