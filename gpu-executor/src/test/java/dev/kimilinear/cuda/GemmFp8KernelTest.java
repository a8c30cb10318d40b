package dev.kimilinear.cuda;

import dev.kimilinear.checkpoint.Fp8Quantizer;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Random;

import static dev.kimilinear.cuda.GpuTest.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * e4m3 weights on the device against the host definition: quantisation bit for bit, and the
 * products against a float64 product of the same bf16 activations with the dequantised weights.
 */
@Tag("gpu")
class GemmFp8KernelTest {

    /** Weights of mixed magnitude per row, a row of zeros, and values past e4m3's range once scaled. */
    private static float[] weights(Random rnd, int rows, int cols) {
        float[] w = GpuTest.randomBf16(rnd, rows * cols, 0.05f);
        for (int r = 0; r < rows; r++) {
            float rowScale = (float) Math.pow(10, rnd.nextInt(7) - 4);
            for (int c = 0; c < cols; c++) {
                w[r * cols + c] *= r == 1 ? 0f : rowScale;
            }
        }
        return GpuTest.bf16Round(w);
    }

    private static float[] dequantised(Fp8Quantizer.Quantized q) {
        float[] out = new float[q.rows() * q.cols()];
        for (int r = 0; r < q.rows(); r++) {
            for (int c = 0; c < q.cols(); c++) {
                out[r * q.cols() + c] = q.value(r, c);
            }
        }
        return out;
    }

    private static float[] product(float[] a, int m, int k, float[] w, int n) {
        float[] out = new float[m * n];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int x = 0; x < k; x++) {
                    s += (double) a[i * k + x] * w[j * k + x];
                }
                out[i * n + j] = (float) s;
            }
        }
        return out;
    }

    /** Rows of whole 16-byte pieces (read once into registers) and rows of any length. */
    @ParameterizedTest
    @CsvSource({"1040", "1037", "8192"})
    void quantisesAsTheHostDefinitionBitForBit(int cols) {
        CudaContext ctx = GpuTest.context();
        Random rnd = new Random(5);
        int rows = 37;
        float[] w = weights(rnd, rows, cols);
        w[7] = 3e4f;      // a row whose largest element dwarfs the rest
        w = GpuTest.bf16Round(w);   // the device quantises bf16 rows
        Fp8Quantizer.Quantized host = Fp8Quantizer.quantize(w, rows, cols);
        try (DeviceBuffer x = DeviceBuffer.ofBf16(ctx, GpuTest.bf16(w));
             DeviceBuffer q = DeviceBuffer.allocate(ctx, (long) rows * cols);
             DeviceBuffer scales = DeviceBuffer.allocate(ctx, 4L * rows);
             DeviceBuffer back = DeviceBuffer.allocate(ctx, 2L * rows * cols)) {
            scales.poison();
            GemmFp8Kernel.quantize(ctx, x.ptr(), cols, rows, cols, q.ptr(), cols, scales.ptr());
            assertArrayEquals(host.scales(), scales.toFloats(), "scales");
            assertArrayEquals(host.codes(), q.toBytes(), "codes");
            back.poisonBf16();
            GemmFp8Kernel.dequantize(ctx, q.ptr(), cols, scales.ptr(), rows, cols, back.ptr(), cols);
            assertArrayEquals(GpuTest.bf16Round(dequantised(host)), GpuTest.fromBf16(back.toShorts()), "dequantised");
        }
    }

    @ParameterizedTest
    @CsvSource({"1,300,2304", "5,77,512", "16,1000,1024", "17,130,4096", "33,64,272", "64,200,2304", "40,129,128"})
    void decodeProductReadsTheCodesThemselves(int m, int n, int k) {
        CudaContext ctx = GpuTest.context();
        Assumptions.assumeTrue(GemmFp8Kernel.direct(ctx), "the e4m3 product runs on sm_90");
        Random rnd = new Random(m * 13L + n * 5L + k);
        float[] a = GpuTest.randomBf16(rnd, m * k, 1f);
        Fp8Quantizer.Quantized q = Fp8Quantizer.quantize(weights(rnd, n, k), n, k);
        float[] ref = product(a, m, k, dequantised(q), n);
        try (DeviceBuffer da = DeviceBuffer.ofBf16(ctx, GpuTest.bf16(a));
             DeviceBuffer dq = DeviceBuffer.allocate(ctx, (long) n * k);
             DeviceBuffer ds = DeviceBuffer.of(ctx, q.scales());
             DeviceBuffer c = DeviceBuffer.allocate(ctx, 4L * m * n);
             DeviceBuffer cb = DeviceBuffer.allocate(ctx, 2L * m * n)) {
            dq.upload(q.codes(), 0);
            c.poison();
            GemmFp8Kernel.decode(ctx, da.ptr(), k, dq.ptr(), k, ds.ptr(), c.ptr(), n, GemmKernel.Out.F32, m, n, k, 1f, 0f);
            assertClose(c.toFloats(), ref, 1e-5, "fp8 decode f32 " + m + "x" + n + "x" + k);
            cb.poisonBf16();
            GemmFp8Kernel.decode(ctx, da.ptr(), k, dq.ptr(), k, ds.ptr(), cb.ptr(), n, GemmKernel.Out.BF16, m, n, k, 1f,
                    0f);
            assertClose(GpuTest.fromBf16(cb.toShorts()), ref, 5e-3, "fp8 decode bf16 " + m + "x" + n + "x" + k);
            float[] c0 = GpuTest.random(rnd, m * n, 1f);
            c.upload(c0);
            GemmFp8Kernel.decode(ctx, da.ptr(), k, dq.ptr(), k, ds.ptr(), c.ptr(), n, GemmKernel.Out.F32, m, n, k, 0.5f,
                    1f);
            assertClose(c.toFloats(), halfPlus(ref, c0), 1e-5, "fp8 decode accumulate " + m + "x" + n + "x" + k);
        }
    }

    /** Experts of uneven row counts (0, 1, 16, 17, 40), in the 16-row tiles a decode step plans. */
    @Test
    void groupedDecodeProductMultipliesEachExpertsRows() {
        CudaContext ctx = GpuTest.context();
        Assumptions.assumeTrue(GemmFp8Kernel.direct(ctx), "the e4m3 product runs on sm_90");
        Random rnd = new Random(9);
        int n = 300;
        int k = 2304;
        float[] a = GpuTest.randomBf16(rnd, 74 * k, 1f);
        Experts x = Experts.of(rnd, new int[] {17, 0, 1, 40, 16}, n, k, 16, a);
        int rows = x.rows();
        byte[] codes = x.codes();
        float[] scales = x.scales();
        float[] ref = x.ref();
        int[] offsets = x.offsets();
        int[] tileList = x.tileList();
        int tiles = x.tiles();
        try (DeviceBuffer da = DeviceBuffer.ofBf16(ctx, GpuTest.bf16(a));
             DeviceBuffer dq = DeviceBuffer.allocate(ctx, codes.length);
             DeviceBuffer ds = DeviceBuffer.of(ctx, scales);
             DeviceBuffer off = DeviceBuffer.of(ctx, offsets);
             DeviceBuffer tl = DeviceBuffer.of(ctx, tileList);
             DeviceBuffer nt = DeviceBuffer.of(ctx, new int[] {tiles});
             DeviceBuffer c = DeviceBuffer.allocate(ctx, 4L * rows * n)) {
            dq.upload(codes, 0);
            c.poison();
            GemmFp8Kernel.grouped(ctx, da.ptr(), k, dq.ptr(), k, (long) n * k, ds.ptr(), c.ptr(), n, GemmKernel.Out.F32,
                    off.ptr(), tl.ptr(), nt.ptr(), tiles + 3, n, k, 1f, 0f);
            assertClose(c.toFloats(), ref, 1e-5, "fp8 grouped decode");
        }
    }

    /** What alpha = 0.5, beta = 1 leaves in C: half the product plus what C held. */
    private static float[] halfPlus(float[] product, float[] c0) {
        float[] expect = new float[product.length];
        for (int i = 0; i < expect.length; i++) {
            expect[i] = 0.5f * product[i] + c0[i];
        }
        return expect;
    }

    /** Activation rows of very different magnitudes, as per-token scales must meet them. */
    private static float[] activations(Random rnd, int rows, int cols) {
        float[] a = GpuTest.randomBf16(rnd, rows * cols, 1f);
        for (int r = 0; r < rows; r++) {
            float rowScale = (float) Math.pow(10, rnd.nextInt(5) - 2);
            for (int c = 0; c < cols; c++) {
                a[r * cols + c] *= rowScale;
            }
        }
        return GpuTest.bf16Round(a);
    }

    /**
     * The prefill-sized product, e4m3 by e4m3 on wgmma: the activations quantised per row on the
     * device, then against a float64 product of both operands' e4m3 values (tiles cut at every edge).
     */
    @ParameterizedTest
    @CsvSource({"65,300,2304", "300,257,1040", "1000,1024,4096", "129,64,128", "257,520,272", "256,2304,4096"})
    void prefillProductMultipliesE4m3ByE4m3(int m, int n, int k) {
        CudaContext ctx = GpuTest.context();
        Assumptions.assumeTrue(GemmFp8Kernel.direct(ctx), "the e4m3 product runs on sm_90");
        Random rnd = new Random(m * 31L + n * 7L + k);
        float[] a = activations(rnd, m, k);
        Fp8Quantizer.Quantized qa = Fp8Quantizer.quantize(a, m, k);
        Fp8Quantizer.Quantized qw = Fp8Quantizer.quantize(weights(rnd, n, k), n, k);
        float[] ref = product(dequantised(qa), m, k, dequantised(qw), n);
        try (DeviceBuffer da = DeviceBuffer.ofBf16(ctx, GpuTest.bf16(a));
             DeviceBuffer aq = DeviceBuffer.allocate(ctx, (long) m * k);
             DeviceBuffer sa = DeviceBuffer.allocate(ctx, 4L * m);
             DeviceBuffer dq = DeviceBuffer.allocate(ctx, (long) n * k);
             DeviceBuffer ds = DeviceBuffer.of(ctx, qw.scales());
             DeviceBuffer c = DeviceBuffer.allocate(ctx, 4L * m * n);
             DeviceBuffer cb = DeviceBuffer.allocate(ctx, 2L * m * n)) {
            dq.upload(qw.codes(), 0);
            GemmFp8Kernel.quantize(ctx, da.ptr(), k, m, k, aq.ptr(), k, sa.ptr());
            assertArrayEquals(qa.codes(), aq.toBytes(), "activation codes");
            c.poison();
            GemmFp8Kernel.prefill(ctx, aq.ptr(), k, sa.ptr(), dq.ptr(), k, ds.ptr(), c.ptr(), n, GemmKernel.Out.F32, m, n,
                    k, 1f, 0f);
            double err = GpuTest.relError(c.toFloats(), ref, "fp8 prefill");
            System.out.printf("fp8 prefill %dx%dx%d: rel err %.2e against float64 of the e4m3 values%n", m, n, k, err);
            // e4m3 wgmma adds in less than fp32 inside the tensor core: the error grows with K
            // (H100: 1.2e-4 at K 128, 8.3e-4 at 2304, 1.3e-3 at 4096), well under e4m3's own rounding
            assertTrue(err < 2.5e-3, "fp8 prefill f32 " + m + "x" + n + "x" + k + ": " + err);
            cb.poisonBf16();
            GemmFp8Kernel.prefill(ctx, aq.ptr(), k, sa.ptr(), dq.ptr(), k, ds.ptr(), cb.ptr(), n, GemmKernel.Out.BF16, m,
                    n, k, 1f, 0f);
            assertClose(GpuTest.fromBf16(cb.toShorts()), ref, 6e-3, "fp8 prefill bf16 " + m + "x" + n + "x" + k);
            float[] c0 = GpuTest.random(rnd, m * n, 1f);
            c.upload(c0);
            GemmFp8Kernel.prefill(ctx, aq.ptr(), k, sa.ptr(), dq.ptr(), k, ds.ptr(), c.ptr(), n, GemmKernel.Out.F32, m, n,
                    k, 0.5f, 1f);
            assertClose(c.toFloats(), halfPlus(ref, c0), 2.5e-3, "fp8 prefill accumulate " + m + "x" + n + "x" + k);
        }
    }

    /**
     * The expert-grouped prefill product in 128-row tiles, its activations quantised only up to
     * the routed rows' count the device holds (rows past it keep what they held).
     */
    @Test
    void groupedPrefillProductMultipliesEachExpertsRows() {
        CudaContext ctx = GpuTest.context();
        Assumptions.assumeTrue(GemmFp8Kernel.direct(ctx), "the e4m3 product runs on sm_90");
        Random rnd = new Random(19);
        int n = 264;
        int k = 1040;
        int rows = 559;
        int maxRows = rows + 100;
        float[] a = activations(rnd, rows, k);
        Experts x = Experts.of(rnd, new int[] {130, 0, 1, 300, 128}, n, k, 128,
                dequantised(Fp8Quantizer.quantize(a, rows, k)));
        byte[] codes = x.codes();
        float[] scales = x.scales();
        float[] ref = x.ref();
        int[] offsets = x.offsets();
        int[] tileList = x.tileList();
        int experts = offsets.length - 1;
        int tiles = x.tiles();
        float[] padded = new float[maxRows * k];
        System.arraycopy(a, 0, padded, 0, a.length);
        try (DeviceBuffer da = DeviceBuffer.ofBf16(ctx, GpuTest.bf16(padded));
             DeviceBuffer aq = DeviceBuffer.allocate(ctx, (long) maxRows * k);
             DeviceBuffer sa = DeviceBuffer.allocate(ctx, 4L * maxRows);
             DeviceBuffer dq = DeviceBuffer.allocate(ctx, codes.length);
             DeviceBuffer ds = DeviceBuffer.of(ctx, scales);
             DeviceBuffer off = DeviceBuffer.of(ctx, offsets);
             DeviceBuffer tl = DeviceBuffer.of(ctx, tileList);
             DeviceBuffer nt = DeviceBuffer.of(ctx, new int[] {tiles});
             DeviceBuffer c = DeviceBuffer.allocate(ctx, 4L * rows * n)) {
            dq.upload(codes, 0);
            sa.poison();
            GemmFp8Kernel.quantizeCounted(ctx, da.ptr(), k, off.ptr().withByteOffset(4L * experts), maxRows, k, aq.ptr(),
                    k, sa.ptr());
            float[] rowScales = sa.toFloats();
            for (int r = rows; r < maxRows; r++) {
                assertTrue(Float.isNaN(rowScales[r]), "row " + r + " past the count was quantised");
            }
            c.poison();
            GemmFp8Kernel.groupedPrefill(ctx, aq.ptr(), k, sa.ptr(), dq.ptr(), k, (long) n * k, ds.ptr(), c.ptr(), n,
                    GemmKernel.Out.F32, off.ptr(), tl.ptr(), nt.ptr(), tiles + 3, n, k, 1f, 0f);
            double err = GpuTest.relError(c.toFloats(), ref, "fp8 grouped prefill");
            System.out.printf("fp8 grouped prefill: rel err %.2e against float64 of the e4m3 values%n", err);
            assertTrue(err < 2.5e-3, "fp8 grouped prefill: " + err);
        }
    }

    /**
     * The grouped prefill product of a fused e4m3 gate/up weight (gate rows, then up rows, with
     * their scales in that order) with SwiGLU applied as it stores, against silu(gate) * up of
     * float64 products of the e4m3 values; experts whose last tile holds 1, 44 or 65 rows.
     */
    @Test
    void groupedSwigluProductAppliesTheActivationAsItStores() {
        CudaContext ctx = GpuTest.context();
        Assumptions.assumeTrue(GemmFp8Kernel.direct(ctx), "the e4m3 product runs on sm_90");
        Random rnd = new Random(23);
        int n = 200;
        int k = 1040;
        int[] counts = {130, 0, 300, 65, 128};
        int rows = java.util.Arrays.stream(counts).sum();
        float[] a = activations(rnd, rows, k);
        Experts x = Experts.of(rnd, counts, 2 * n, k, 128, dequantised(Fp8Quantizer.quantize(a, rows, k)));
        float[] swiglu = GemmKernelTest.swiglu(x.ref(), rows, n);
        int experts = counts.length;
        try (DeviceBuffer da = DeviceBuffer.ofBf16(ctx, GpuTest.bf16(a));
             DeviceBuffer aq = DeviceBuffer.allocate(ctx, (long) rows * k);
             DeviceBuffer sa = DeviceBuffer.allocate(ctx, 4L * rows);
             DeviceBuffer dq = DeviceBuffer.allocate(ctx, x.codes().length);
             DeviceBuffer ds = DeviceBuffer.of(ctx, x.scales());
             DeviceBuffer off = DeviceBuffer.of(ctx, x.offsets());
             DeviceBuffer tl = DeviceBuffer.of(ctx, x.tileList());
             DeviceBuffer nt = DeviceBuffer.of(ctx, new int[] {x.tiles()});
             DeviceBuffer act = DeviceBuffer.allocate(ctx, 2L * rows * n)) {
            dq.upload(x.codes(), 0);
            GemmFp8Kernel.quantizeCounted(ctx, da.ptr(), k, off.ptr().withByteOffset(4L * experts), rows, k, aq.ptr(),
                    k, sa.ptr());
            act.poisonBf16();
            GemmFp8Kernel.groupedSwigluPrefill(ctx, aq.ptr(), k, sa.ptr(), dq.ptr(), k, 2L * n * k, ds.ptr(), act.ptr(),
                    n, off.ptr(), tl.ptr(), nt.ptr(), x.tiles() + 2, n, k, 1f);
            double err = GpuTest.relError(GpuTest.fromBf16(act.toShorts()), swiglu, "fp8 grouped swiglu");
            System.out.printf("fp8 grouped swiglu: rel err %.2e against float64 of the e4m3 values%n", err);
            assertTrue(err < 6e-3, "fp8 grouped swiglu: " + err);
        }
    }

    /**
     * Experts of the given row counts, each with its own quantised [n, k] weight, their rows of
     * {@code a} in order: offsets, the (expert, first row) tiles of {@code tileRows} rows a
     * dispatch would plan, and the float64 product of each expert's rows with its e4m3 values.
     */
    private record Experts(int[] offsets, int[] tileList, byte[] codes, float[] scales, float[] ref) {
        int rows() {
            return offsets[offsets.length - 1];
        }

        int tiles() {
            return tileList.length / 2;
        }

        static Experts of(Random rnd, int[] counts, int n, int k, int tileRows, float[] a) {
            int experts = counts.length;
            ExpertTiles plan = ExpertTiles.plan(counts, tileRows);
            int[] offsets = plan.offsets();
            if (a.length != offsets[experts] * k) {
                throw new IllegalArgumentException(a.length + " activations for " + offsets[experts] + " rows of " + k);
            }
            byte[] codes = new byte[experts * n * k];
            float[] scales = new float[experts * n];
            float[] ref = new float[offsets[experts] * n];
            for (int e = 0; e < experts; e++) {
                Fp8Quantizer.Quantized q = Fp8Quantizer.quantize(weights(rnd, n, k), n, k);
                System.arraycopy(q.codes(), 0, codes, e * n * k, n * k);
                System.arraycopy(q.scales(), 0, scales, e * n, n);
                float[] mine = new float[counts[e] * k];
                System.arraycopy(a, offsets[e] * k, mine, 0, mine.length);
                float[] out = product(mine, counts[e], k, dequantised(q), n);
                System.arraycopy(out, 0, ref, offsets[e] * n, out.length);
            }
            return new Experts(offsets, plan.tiles(), codes, scales, ref);
        }
    }
}
