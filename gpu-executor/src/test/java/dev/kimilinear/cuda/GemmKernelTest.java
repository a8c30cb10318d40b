package dev.kimilinear.cuda;

import dev.kimilinear.cpu.CpuOps;
import jcuda.driver.CUdeviceptr;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Arrays;
import java.util.Random;

import static dev.kimilinear.cuda.GpuTest.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

@Tag("gpu")
class GemmKernelTest {

    @ParameterizedTest
    @CsvSource({"1,256,128", "3,300,264", "8,77,512", "9,130,96", "17,70,264", "33,1000,520", "40,64,2304",
            "64,200,512", "65,130,96", "100,130,96", "257,520,2304", "300,8,128",
            "130,1000,264", "260,1300,72"})
    void matchesTheCpuProductInBothOutputTypes(int m, int n, int k) {
        productsMatchTheCpu(GpuTest.context(), m, n, k, m * 31L + n * 7L + k, "gemm");
    }

    /** f32 and bf16 outputs, then C = 0.5 A W^T + C, each against the CPU product; labels name what failed. */
    private static void productsMatchTheCpu(CudaContext ctx, int m, int n, int k, long seed, String what) {
        Random rnd = new Random(seed);
        float[] a = GpuTest.randomBf16(rnd, m * k, 1f);
        float[] w = GpuTest.randomBf16(rnd, n * k, 0.05f);
        float[] ref = new float[m * n];
        CpuOps.matmul(a, m, k, w, n, ref);
        String shape = m + "x" + n + "x" + k;
        try (DeviceBuffer da = DeviceBuffer.ofBf16(ctx, GpuTest.bf16(a));
             DeviceBuffer dw = DeviceBuffer.ofBf16(ctx, GpuTest.bf16(w));
             DeviceBuffer c = DeviceBuffer.allocate(ctx, 4L * m * n);
             DeviceBuffer cb = DeviceBuffer.allocate(ctx, 2L * m * n)) {
            c.poison();
            GemmKernel.matmul(ctx, da.ptr(), dw.ptr(), c.ptr(), GemmKernel.Out.F32, m, n, k);
            assertClose(c.toFloats(), ref, 1e-5, what + " f32 " + shape);
            cb.poisonBf16();
            GemmKernel.matmul(ctx, da.ptr(), dw.ptr(), cb.ptr(), GemmKernel.Out.BF16, m, n, k);
            assertClose(GpuTest.fromBf16(cb.toShorts()), ref, 5e-3, what + " bf16 " + shape);
            // accumulate: C = 0.5 * A W^T + C
            float[] c0 = GpuTest.random(rnd, m * n, 1f);
            c.upload(c0);
            GemmKernel.matmul(ctx, da.ptr(), k, dw.ptr(), k, c.ptr(), n, GemmKernel.Out.F32, m, n, k, 0.5f, 1f);
            assertClose(c.toFloats(), halfPlus(ref, c0), 1e-5, what + " accumulate " + shape);
        }
    }

    /** Both few-row paths on the same rows: the CUDA-core GEMV (up to 8 rows) and the tensor-core decode product. */
    @ParameterizedTest
    @CsvSource({"1,300,264", "1,1000,2304", "5,77,512", "8,130,40", "17,70,264", "40,300,16", "64,200,2304"})
    void gemvAndSkinnyProductAgree(int m, int n, int k) {
        CudaContext ctx = GpuTest.context();
        Random rnd = new Random(m * 11L + n * 3L + k);
        float[] a = GpuTest.randomBf16(rnd, m * k, 1f);
        float[] w = GpuTest.randomBf16(rnd, n * k, 0.05f);
        float[] ref = new float[m * n];
        CpuOps.matmul(a, m, k, w, n, ref);
        try (DeviceBuffer da = DeviceBuffer.ofBf16(ctx, GpuTest.bf16(a));
             DeviceBuffer dw = DeviceBuffer.ofBf16(ctx, GpuTest.bf16(w));
             DeviceBuffer c = DeviceBuffer.allocate(ctx, 4L * m * n)) {
            if (m <= 8) {
                c.poison();
                GemmKernel.gemv(ctx, da.ptr(), k, 0, dw.ptr(), k, 0, c.ptr(), n, 0, GemmKernel.Out.F32, m, n, k, 1, 1f,
                        0f);
                assertClose(c.toFloats(), ref, 1e-5, "gemv " + m + "x" + n + "x" + k);
            }
            c.poison();
            GemmKernel.skinny(ctx, da.ptr(), k, 0, dw.ptr(), k, 0, c.ptr(), n, 0, GemmKernel.Out.F32, m, n, k, 1, 1f, 0f);
            assertClose(c.toFloats(), ref, 1e-5, "skinny " + m + "x" + n + "x" + k);
        }
    }

    @ParameterizedTest
    @CsvSource({"1,64,32,4", "5,48,16,3", "70,40,64,2"})
    void batchedProductsUseTheirStrides(int m, int n, int k, int batch) {
        CudaContext ctx = GpuTest.context();
        Random rnd = new Random(m + 100L * n + batch);
        // A rows interleave the batches: [m, batch * k]; C likewise [m, batch * n]
        float[] a = GpuTest.randomBf16(rnd, m * batch * k, 1f);
        float[] w = GpuTest.randomBf16(rnd, batch * n * k, 0.1f);
        float[] ref = new float[m * batch * n];
        for (int z = 0; z < batch; z++) {
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    float s = 0;
                    for (int x = 0; x < k; x++) {
                        s += a[i * batch * k + z * k + x] * w[(z * n + j) * k + x];
                    }
                    ref[i * batch * n + z * n + j] = s;
                }
            }
        }
        try (DeviceBuffer da = DeviceBuffer.ofBf16(ctx, GpuTest.bf16(a));
             DeviceBuffer dw = DeviceBuffer.ofBf16(ctx, GpuTest.bf16(w));
             DeviceBuffer c = DeviceBuffer.allocate(ctx, 4L * ref.length)) {
            c.poison();
            GemmKernel.batched(ctx, da.ptr(), (long) batch * k, k, dw.ptr(), k, (long) n * k, c.ptr(), (long) batch * n, n,
                    GemmKernel.Out.F32, m, n, k, batch, 1f, 0f);
            assertClose(c.toFloats(), ref, 1e-5, "batched gemm");
        }
    }

    /** The K-split decode-sized product (Hopper) against the CPU: ragged rows, columns and slices. */
    @ParameterizedTest
    @CsvSource({"9,1000,2304", "33,300,1032", "64,1100,1096", "16,129,8", "20,2049,1024"})
    void splitDecodeProductMatchesTheCpuProduct(int m, int n, int k) {
        CudaContext ctx = GpuTest.context();
        Assumptions.assumeTrue(GemmKernel.hopper(ctx), "the split product needs an sm_90 device");
        Random rnd = new Random(m * 13L + n * 3L + k);
        float[] a = GpuTest.randomBf16(rnd, m * k, 1f);
        float[] w = GpuTest.randomBf16(rnd, n * k, 0.05f);
        float[] ref = new float[m * n];
        CpuOps.matmul(a, m, k, w, n, ref);
        float[] c0 = GpuTest.random(rnd, m * n, 1f);
        try (DeviceBuffer da = DeviceBuffer.ofBf16(ctx, GpuTest.bf16(a));
             DeviceBuffer dw = DeviceBuffer.ofBf16(ctx, GpuTest.bf16(w));
             DeviceBuffer c = DeviceBuffer.allocate(ctx, 4L * m * n);
             DeviceBuffer cb = DeviceBuffer.allocate(ctx, 2L * m * n)) {
            c.poison();
            GemmKernel.skinnySplit(ctx, da.ptr(), k, dw.ptr(), k, c.ptr(), n, GemmKernel.Out.F32, m, n, k, 1f, 0f);
            assertClose(c.toFloats(), ref, 1e-5, "split " + m + "x" + n + "x" + k);
            cb.poisonBf16();
            GemmKernel.skinnySplit(ctx, da.ptr(), k, dw.ptr(), k, cb.ptr(), n, GemmKernel.Out.BF16, m, n, k, 1f, 0f);
            assertClose(GpuTest.fromBf16(cb.toShorts()), ref, 5e-3, "split bf16 " + m + "x" + n + "x" + k);
            c.upload(c0);
            GemmKernel.skinnySplit(ctx, da.ptr(), k, dw.ptr(), k, c.ptr(), n, GemmKernel.Out.F32, m, n, k, 0.5f, 1f);
            assertClose(c.toFloats(), halfPlus(ref, c0), 1e-5, "split accumulate " + m + "x" + n + "x" + k);
        }
    }

    /**
     * The Hopper product against the tile kernel on shapes that stress it: more tiles than
     * multiprocessors (each block walks several, the loaders running ahead into the next),
     * ragged edges in M, N and K, K shorter than one stage, batches, both outputs, accumulation.
     */
    @ParameterizedTest
    @CsvSource({"2100,2100,136,1", "300,520,2312,3", "129,257,8,1", "65,1000,72,2"})
    void hopperProductMatchesTheTileKernel(int m, int n, int k, int batch) {
        CudaContext ctx = GpuTest.context();
        Assumptions.assumeTrue(GemmKernel.hopper(ctx), "the Hopper product needs an sm_90 device");
        Random rnd = new Random(m * 3L + n * 5L + k * 7L + batch);
        float[] a = GpuTest.randomBf16(rnd, batch * m * k, 1f);
        float[] w = GpuTest.randomBf16(rnd, batch * n * k, 0.05f);
        float[] c0 = GpuTest.random(rnd, batch * m * n, 1f);
        long sA = (long) m * k, sB = (long) n * k, sC = (long) m * n;
        try (DeviceBuffer da = DeviceBuffer.ofBf16(ctx, GpuTest.bf16(a));
             DeviceBuffer dw = DeviceBuffer.ofBf16(ctx, GpuTest.bf16(w));
             DeviceBuffer ref = DeviceBuffer.allocate(ctx, 4L * batch * m * n);
             DeviceBuffer c = DeviceBuffer.allocate(ctx, 4L * batch * m * n);
             DeviceBuffer refB = DeviceBuffer.allocate(ctx, 2L * batch * m * n);
             DeviceBuffer cb = DeviceBuffer.allocate(ctx, 2L * batch * m * n)) {
            String what = m + "x" + n + "x" + k + " batch " + batch;
            ref.poison();
            GemmKernel.tiled(ctx, da.ptr(), k, sA, dw.ptr(), k, sB, ref.ptr(), n, sC, GemmKernel.Out.F32, m, n, k, batch,
                    1f, 0f);
            c.poison();
            GemmKernel.warpgroups(ctx, da.ptr(), k, sA, dw.ptr(), k, sB, c.ptr(), n, sC, GemmKernel.Out.F32, m, n, k,
                    batch, 1f, 0f);
            assertClose(c.toFloats(), ref.toFloats(), 1e-5, "hopper f32 " + what);
            refB.poisonBf16();
            GemmKernel.tiled(ctx, da.ptr(), k, sA, dw.ptr(), k, sB, refB.ptr(), n, sC, GemmKernel.Out.BF16, m, n, k,
                    batch, 1f, 0f);
            cb.poisonBf16();
            GemmKernel.warpgroups(ctx, da.ptr(), k, sA, dw.ptr(), k, sB, cb.ptr(), n, sC, GemmKernel.Out.BF16, m, n, k,
                    batch, 1f, 0f);
            assertClose(GpuTest.fromBf16(cb.toShorts()), GpuTest.fromBf16(refB.toShorts()), 5e-3, "hopper bf16 " + what);
            // accumulate: C = 0.5 * A W^T + C
            ref.upload(c0);
            GemmKernel.tiled(ctx, da.ptr(), k, sA, dw.ptr(), k, sB, ref.ptr(), n, sC, GemmKernel.Out.F32, m, n, k, batch,
                    0.5f, 1f);
            c.upload(c0);
            GemmKernel.warpgroups(ctx, da.ptr(), k, sA, dw.ptr(), k, sB, c.ptr(), n, sC, GemmKernel.Out.F32, m, n, k,
                    batch, 0.5f, 1f);
            assertClose(c.toFloats(), ref.toFloats(), 1e-5, "hopper accumulate " + what);
        }
    }

    /**
     * fp32 activations as hi + lo bf16 terms, one product per term into the same fp32 result:
     * fp32-faithful (what {@link ActivationPrecision#SPLIT} relies on), where a single bf16
     * rounding of the activations costs ~3e-3.
     */
    @ParameterizedTest
    @CsvSource({"1,256,128", "7,300,264", "100,130,96", "257,520,2304"})
    void splitActivationsGiveFp32Products(int m, int n, int k) {
        CudaContext ctx = GpuTest.context();
        Random rnd = new Random(m * 17L + n + k);
        float[] a = GpuTest.random(rnd, m * k, 1f);
        float[] w = GpuTest.randomBf16(rnd, n * k, 0.05f);
        float[] hi = GpuTest.bf16Round(a);
        float[] lo = new float[a.length];
        for (int i = 0; i < a.length; i++) {
            lo[i] = a[i] - hi[i];
        }
        float[] ref = new float[m * n];
        CpuOps.matmul(a, m, k, w, n, ref);
        try (DeviceBuffer src = DeviceBuffer.of(ctx, a);
             DeviceBuffer dhi = DeviceBuffer.allocate(ctx, 2L * m * k);
             DeviceBuffer dlo = DeviceBuffer.allocate(ctx, 2L * m * k);
             DeviceBuffer dw = DeviceBuffer.ofBf16(ctx, GpuTest.bf16(w));
             DeviceBuffer c = DeviceBuffer.allocate(ctx, 4L * m * n)) {
            dhi.poisonBf16();
            dlo.poisonBf16();
            ActivationKernel.castBf16(ctx, src.ptr(), k, dhi.ptr(), dlo.ptr(), k, m, k);
            assertClose(GpuTest.fromBf16(dhi.toShorts()), hi, 1e-7, "hi term");
            assertClose(GpuTest.fromBf16(dlo.toShorts()), GpuTest.bf16Round(lo), 1e-7, "lo term");
            c.poison();
            GemmKernel.matmul(ctx, dhi.ptr(), k, dw.ptr(), k, c.ptr(), n, GemmKernel.Out.F32, m, n, k, 1f, 0f);
            GemmKernel.matmul(ctx, dlo.ptr(), k, dw.ptr(), k, c.ptr(), n, GemmKernel.Out.F32, m, n, k, 1f, 1f);
            assertClose(c.toFloats(), ref, 2e-5, "split product " + m + "x" + n + "x" + k);
        }
    }

    /**
     * The MLA query absorption as the model runs it: per head, the first dn of the head's dqk
     * query columns times that head's W_uk stored transposed [r, dn]; C [T, H, r].
     */
    @ParameterizedTest
    @CsvSource({"100,4,16,8,32", "5,4,16,8,32", "37,32,128,64,512"})
    void absorbedQueryProductMatches(int t, int heads, int dn, int dr, int r) {
        CudaContext ctx = GpuTest.context();
        Random rnd = new Random(t * 5L + heads + r);
        int dqk = dn + dr;
        float[] q = GpuTest.randomBf16(rnd, t * heads * dqk, 1f);
        float[] wukT = GpuTest.randomBf16(rnd, heads * r * dn, 0.1f);
        float[] ref = new float[t * heads * r];
        for (int i = 0; i < t; i++) {
            for (int h = 0; h < heads; h++) {
                for (int c = 0; c < r; c++) {
                    float s = 0;
                    for (int x = 0; x < dn; x++) {
                        s += q[(i * heads + h) * dqk + x] * wukT[(h * r + c) * dn + x];
                    }
                    ref[(i * heads + h) * r + c] = s;
                }
            }
        }
        try (DeviceBuffer dq = DeviceBuffer.ofBf16(ctx, GpuTest.bf16(q));
             DeviceBuffer dw = DeviceBuffer.ofBf16(ctx, GpuTest.bf16(wukT));
             DeviceBuffer c = DeviceBuffer.allocate(ctx, 4L * ref.length)) {
            c.poison();
            GemmKernel.batched(ctx, dq.ptr(), (long) heads * dqk, dqk, dw.ptr(), dn, (long) r * dn, c.ptr(),
                    (long) heads * r, r, GemmKernel.Out.F32, t, r, dn, heads, 1f, 0f);
            assertClose(c.toFloats(), ref, 1e-5, "absorbed queries T=" + t + " H=" + heads);
        }
    }

    /**
     * Shapes off the 16-byte loads: odd K, leading dimensions and strides, operands at odd element
     * offsets, batches. {@link GemmKernel#batched} must send them to the element-wise tile kernel,
     * which must match a float64 product of the same bf16 values in every element of C (poisoned
     * first), in both output types and accumulating. The last row is aligned: the element-wise
     * kernel called directly must be right there too.
     */
    @ParameterizedTest
    @CsvSource({
            // m, n, k, lda, ldb, offset of A, offset of B (elements), batch
            "1,101,100,100,100,0,0,1", "3,130,44,47,45,1,3,1", "8,20,36,49,36,0,1,2", "37,1001,100,100,100,0,0,1",
            "65,77,12,13,12,5,0,3", "129,300,7,7,9,2,1,1", "200,50,50,50,50,0,0,2", "70,140,64,64,64,0,0,1"})
    void productsOffTheAlignmentMatchAFloat64Reference(int m, int n, int k, int lda, int ldb, int aOff, int bOff,
                                                       int batch) {
        CudaContext ctx = GpuTest.context();
        Random rnd = new Random(m * 7919L + n * 31L + k * 3L + lda + batch);
        long sA = (long) m * lda + (batch > 1 ? 3 : 0);   // odd strides between batches too
        long sB = (long) n * ldb + (batch > 1 ? 5 : 0);
        float[] a = GpuTest.randomBf16(rnd, (int) (aOff + batch * sA), 1f);
        float[] w = GpuTest.randomBf16(rnd, (int) (bOff + batch * sB), 0.05f);
        float[] ref = new float[batch * m * n];
        for (int z = 0; z < batch; z++) {
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double sum = 0;
                    for (int x = 0; x < k; x++) {
                        sum += (double) a[(int) (aOff + z * sA + (long) i * lda + x)]
                                * w[(int) (bOff + z * sB + (long) j * ldb + x)];
                    }
                    ref[(z * m + i) * n + j] = (float) sum;
                }
            }
        }
        float[] c0 = GpuTest.random(rnd, ref.length, 1f);
        boolean aligned = k % 8 == 0 && lda % 8 == 0 && ldb % 8 == 0 && aOff % 8 == 0 && bOff % 8 == 0 && batch == 1;
        String shape = m + "x" + n + "x" + k + " lda=" + lda + " ldb=" + ldb + " at " + aOff + "," + bOff + " batch=" + batch;
        try (DeviceBuffer da = DeviceBuffer.ofBf16(ctx, GpuTest.bf16(a));
             DeviceBuffer dw = DeviceBuffer.ofBf16(ctx, GpuTest.bf16(w));
             DeviceBuffer c = DeviceBuffer.allocate(ctx, 4L * ref.length);
             DeviceBuffer cb = DeviceBuffer.allocate(ctx, 2L * ref.length)) {
            CUdeviceptr pa = da.at(2L * aOff);
            CUdeviceptr pw = dw.at(2L * bOff);
            assertEquals(aligned,
                    GemmKernel.aligned(pa, lda, batch > 1 ? sA : 0, pw, ldb, batch > 1 ? sB : 0, k), shape);
            for (boolean direct : new boolean[] {false, true}) {
                if (aligned && !direct) {
                    continue;   // batched takes the fast kernels, tested above
                }
                String how = (direct ? "gemm_any " : "batched ") + shape;
                c.poison();
                product(ctx, direct, pa, lda, sA, pw, ldb, sB, c, GemmKernel.Out.F32, m, n, k, batch, 1f, 0f);
                assertClose(c.toFloats(), ref, 1e-5, how);
                cb.poisonBf16();
                product(ctx, direct, pa, lda, sA, pw, ldb, sB, cb, GemmKernel.Out.BF16, m, n, k, batch, 1f, 0f);
                assertClose(GpuTest.fromBf16(cb.toShorts()), ref, 5e-3, how + " bf16 out");
                c.upload(c0);
                product(ctx, direct, pa, lda, sA, pw, ldb, sB, c, GemmKernel.Out.F32, m, n, k, batch, 0.5f, 1f);
                assertClose(c.toFloats(), halfPlus(ref, c0), 1e-5, how + " accumulate");
            }
        }
    }

    /** C [batch][m, n] dense: through batched's choice of kernel, or the element-wise kernel itself. */
    private static void product(CudaContext ctx, boolean direct, CUdeviceptr a, long lda, long sA, CUdeviceptr w,
                                long ldb, long sB, DeviceBuffer c, GemmKernel.Out out, int m, int n, int k, int batch,
                                float alpha, float beta) {
        if (direct) {
            GemmKernel.any(ctx, a, lda, sA, w, ldb, sB, c.ptr(), n, (long) m * n, out, m, n, k, batch, alpha, beta);
        } else {
            GemmKernel.batched(ctx, a, lda, sA, w, ldb, sB, c.ptr(), n, (long) m * n, out, m, n, k, batch, alpha, beta);
        }
    }

    /**
     * The expert-grouped form off the alignment (odd K), for every tile size a plan can have: a
     * host-made tile list over experts of 0 to 200 rows (and blocks past its end), each expert's
     * rows against its own weights, against float64; then accumulating on top (beta = 1), where a
     * row covered by two tiles would show twice.
     */
    @ParameterizedTest
    @CsvSource({"8,100,50", "16,36,20", "64,45,77", "128,100,13"})
    void groupedProductOffTheAlignmentCoversEachRowOnce(int tileRows, int k, int n) {
        CudaContext ctx = GpuTest.context();
        Random rnd = new Random(tileRows * 101L + k * 7L + n);
        GroupedCase g = GroupedCase.of(rnd, new int[] {0, 37, 5, 130, 1, 200}, tileRows, 3, k, n);
        float[] c0 = GpuTest.random(rnd, g.ref().length, 1f);
        String shape = "g.tiles() of " + tileRows + " K=" + k + " N=" + n;
        try (DeviceBuffer da = DeviceBuffer.ofBf16(ctx, GpuTest.bf16(g.a()));
             DeviceBuffer dw = DeviceBuffer.ofBf16(ctx, GpuTest.bf16(g.w()));
             DeviceBuffer doff = DeviceBuffer.of(ctx, g.offsets()); DeviceBuffer dtiles = DeviceBuffer.of(ctx, g.tiles());
             DeviceBuffer dnum = DeviceBuffer.of(ctx, new int[] {g.numTiles()});
             DeviceBuffer c = DeviceBuffer.allocate(ctx, 4L * g.ref().length);
             DeviceBuffer cb = DeviceBuffer.allocate(ctx, 2L * g.ref().length)) {
            c.poison();
            GemmKernel.grouped(ctx, da.ptr(), k, dw.ptr(), k, (long) n * k, c.ptr(), n, GemmKernel.Out.F32, doff.ptr(),
                    dtiles.ptr(), dnum.ptr(), g.maxTiles(), tileRows, n, k, 1f, 0f);
            assertClose(c.toFloats(), g.ref(), 1e-5, "grouped " + shape);
            cb.poisonBf16();
            GemmKernel.grouped(ctx, da.ptr(), k, dw.ptr(), k, (long) n * k, cb.ptr(), n, GemmKernel.Out.BF16, doff.ptr(),
                    dtiles.ptr(), dnum.ptr(), g.maxTiles(), tileRows, n, k, 1f, 0f);
            assertClose(GpuTest.fromBf16(cb.toShorts()), g.ref(), 5e-3, "grouped bf16 out " + shape);
            c.upload(c0);
            GemmKernel.grouped(ctx, da.ptr(), k, dw.ptr(), k, (long) n * k, c.ptr(), n, GemmKernel.Out.F32, doff.ptr(),
                    dtiles.ptr(), dnum.ptr(), g.maxTiles(), tileRows, n, k, 0.5f, 1f);
            assertClose(c.toFloats(), halfPlus(g.ref(), c0), 1e-5, "grouped accumulate " + shape);
        }
    }

    /**
     * The Hopper grouped product (128-row tiles, sm_90) on aligned operands, K off its 64-column
     * stage: experts whose last tile holds 1, 2, 44, 64 or 65 rows (a consumer warpgroup with no
     * rows of its own skips its products there), in fp32 against float64; then the fused
     * gate/up product, SwiGLU applied as it stores, against silu(gate) * up of the same float64
     * products, output poisoned first.
     */
    @ParameterizedTest
    @CsvSource({"200,264", "320,200", "2304,128"})
    void hopperGroupedProductAndItsSwigluMatchFloat64(int k, int n) {
        CudaContext ctx = GpuTest.context();
        assumeTrue(GemmKernel.hopper(ctx), "the 128-row grouped product runs on sm_90");
        int tileRows = GemmKernel.GROUPED_PREFILL_TILE_ROWS;
        int[] counts = {130, 0, 1, 300, 128, 64, 65, 200};
        Random rnd = new Random(k * 13L + n);
        // gate rows [0, n) over up rows [n, 2n) per expert: the plain product's N is 2n
        GroupedCase g = GroupedCase.of(rnd, counts, tileRows, 3, k, 2 * n);
        float[] swiglu = swiglu(g.ref(), g.offsets()[counts.length], n);
        String shape = "128-row tiles K=" + k + " N=" + n;
        try (DeviceBuffer da = DeviceBuffer.ofBf16(ctx, GpuTest.bf16(g.a()));
             DeviceBuffer dw = DeviceBuffer.ofBf16(ctx, GpuTest.bf16(g.w()));
             DeviceBuffer doff = DeviceBuffer.of(ctx, g.offsets()); DeviceBuffer dtiles = DeviceBuffer.of(ctx, g.tiles());
             DeviceBuffer dnum = DeviceBuffer.of(ctx, new int[] {g.numTiles()});
             DeviceBuffer c = DeviceBuffer.allocate(ctx, 4L * g.ref().length);
             DeviceBuffer act = DeviceBuffer.allocate(ctx, 2L * swiglu.length)) {
            long sB = 2L * n * k;
            c.poison();
            GemmKernel.grouped(ctx, da.ptr(), k, dw.ptr(), k, sB, c.ptr(), 2L * n, GemmKernel.Out.F32, doff.ptr(),
                    dtiles.ptr(), dnum.ptr(), g.maxTiles(), tileRows, 2 * n, k, 1f, 0f);
            assertClose(c.toFloats(), g.ref(), 1e-5, "hopper grouped " + shape);
            assertTrue(GemmKernel.fusesGroupedSwiglu(ctx, tileRows, da.ptr(), k, dw.ptr(), k, sB, k), shape);
            act.poisonBf16();
            GemmKernel.groupedSwiglu(ctx, da.ptr(), k, dw.ptr(), k, sB, act.ptr(), n, doff.ptr(), dtiles.ptr(),
                    dnum.ptr(), g.maxTiles(), n, k, 1f);
            assertClose(GpuTest.fromBf16(act.toShorts()), swiglu, 5e-3, "hopper grouped swiglu " + shape);
        }
    }

    /**
     * The dense gate/up product with SwiGLU in its stores (prefill-sized rows, edges in both
     * directions): bf16 against silu(gate) * up of the CPU product; e4m3 against SwiGLU applied
     * to the plain e4m3 product's fp32 output.
     */
    @ParameterizedTest
    @CsvSource({"1100,1000,200", "1300,1152,256"})
    void denseSwigluMatchesTheProductThenTheActivation(int m, int n, int k) {
        CudaContext ctx = GpuTest.context();
        assumeTrue(GemmKernel.hopper(ctx), "the fused product runs on sm_90");
        Random rnd = new Random(m * 3L + n + k);
        float[] a = GpuTest.randomBf16(rnd, m * k, 1f);
        float[] w = GpuTest.randomBf16(rnd, 2 * n * k, 0.05f);
        float[] gu = new float[m * 2 * n];
        CpuOps.matmul(a, m, k, w, 2 * n, gu);
        String shape = m + "x" + n + "x" + k;
        try (DeviceBuffer da = DeviceBuffer.ofBf16(ctx, GpuTest.bf16(a));
             DeviceBuffer dw = DeviceBuffer.ofBf16(ctx, GpuTest.bf16(w));
             DeviceBuffer act = DeviceBuffer.allocate(ctx, 2L * m * n);
             DeviceBuffer plain = DeviceBuffer.allocate(ctx, 8L * m * n);
             DeviceBuffer aq = DeviceBuffer.allocate(ctx, (long) m * k);
             DeviceBuffer sa = DeviceBuffer.allocate(ctx, 4L * m);
             DeviceBuffer wq = DeviceBuffer.allocate(ctx, 2L * n * k);
             DeviceBuffer sw = DeviceBuffer.allocate(ctx, 8L * n)) {
            assertTrue(GemmKernel.fusesSwiglu(ctx, m, n, da.ptr(), k, dw.ptr(), k, k), shape);
            act.poisonBf16();
            GemmKernel.matmulSwiglu(ctx, da.ptr(), k, dw.ptr(), k, act.ptr(), n, m, n, k, 1f);
            assertClose(GpuTest.fromBf16(act.toShorts()), swiglu(gu, m, n), 5e-3, "swiglu bf16 " + shape);
            if (k % 16 != 0) {
                return;   // the e4m3 products take K in 16-byte steps
            }
            GemmFp8Kernel.quantize(ctx, da.ptr(), k, m, k, aq.ptr(), k, sa.ptr());
            GemmFp8Kernel.quantize(ctx, dw.ptr(), k, 2 * n, k, wq.ptr(), k, sw.ptr());
            plain.poison();
            GemmFp8Kernel.prefill(ctx, aq.ptr(), k, sa.ptr(), wq.ptr(), k, sw.ptr(), plain.ptr(), 2L * n,
                    GemmKernel.Out.F32, m, 2 * n, k, 1f, 0f);
            act.poisonBf16();
            GemmFp8Kernel.swigluPrefill(ctx, aq.ptr(), k, sa.ptr(), wq.ptr(), k, sw.ptr(), act.ptr(), n, m, n, k, 1f);
            assertClose(GpuTest.fromBf16(act.toShorts()), swiglu(plain.toFloats(), m, n), 5e-3, "swiglu e4m3 " + shape);
        }
    }

    /** silu(gate) * up of [m, 2n] rows holding gate then up. */
    static float[] swiglu(float[] gu, int m, int n) {
        float[] out = new float[m * n];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double g = gu[i * 2 * n + j];
                out[i * n + j] = (float) (g / (1 + Math.exp(-g)) * gu[i * 2 * n + n + j]);
            }
        }
        return out;
    }

    /**
     * Decode-sized products over few tiles split K over the Hopper product's batches and add the
     * partials in order (the o_proj and expert-width products of a 256-sequence step): against
     * the CPU product, both output types, accumulating; K off 64 columns takes the plain path.
     */
    @ParameterizedTest
    @CsvSource({"256,2304,4096", "256,256,2304", "130,2304,1024", "256,2304,9216", "200,300,1000"})
    void splitKProductsMatchTheCpuProduct(int m, int n, int k) {
        CudaContext ctx = GpuTest.context();
        assumeTrue(GemmKernel.hopper(ctx), "the K split runs on the sm_90 product");
        productsMatchTheCpu(ctx, m, n, k, m * 5L + n * 11L + k, "split-K");
    }

    /**
     * The grouped split product (sm_90) with K in 8 and in 4 slices, K off the slices' 32-column
     * grain among them: each expert's rows (0 to 40, tiles of 16) against its own weights, to
     * float64, poisoned output.
     */
    @ParameterizedTest
    @CsvSource({"8,1024,300", "4,1024,300", "4,2304,130", "4,1000,64", "8,1000,64"})
    void groupedSplitMatchesFloat64InEitherSliceCount(int slices, int k, int n) {
        CudaContext ctx = GpuTest.context();
        assumeTrue(GemmKernel.hopper(ctx), "the split products run on sm_90");
        Random rnd = new Random(slices * 31L + k + n);
        GroupedCase g = GroupedCase.of(rnd, new int[] {0, 3, 16, 17, 40, 1}, GemmKernel.GROUPED_SPLIT_TILE_ROWS, 2, k,
                n);
        try (DeviceBuffer da = DeviceBuffer.ofBf16(ctx, GpuTest.bf16(g.a()));
             DeviceBuffer dw = DeviceBuffer.ofBf16(ctx, GpuTest.bf16(g.w()));
             DeviceBuffer doff = DeviceBuffer.of(ctx, g.offsets()); DeviceBuffer dtiles = DeviceBuffer.of(ctx, g.tiles());
             DeviceBuffer dnum = DeviceBuffer.of(ctx, new int[] {g.numTiles()});
             DeviceBuffer c = DeviceBuffer.allocate(ctx, 4L * g.ref().length)) {
            c.poison();
            GemmKernel.groupedSplit(ctx, da.ptr(), k, dw.ptr(), k, (long) n * k, c.ptr(), n, GemmKernel.Out.F32,
                    doff.ptr(), dtiles.ptr(), dnum.ptr(), g.maxTiles(), n, k, 1f, 0f, slices);
            assertClose(c.toFloats(), g.ref(), 1e-5, "grouped split, " + slices + " slices, K=" + k + " N=" + n);
        }
    }

    /**
     * Rows routed to experts as the grouped products take them: offsets per expert, a tile list
     * of tileRows-row tiles (room for {@code spare} more past its end), random bf16 rows and
     * weights, and their product in float64.
     */
    private record GroupedCase(int[] offsets, int[] tiles, int numTiles, int maxTiles, float[] a, float[] w,
                               float[] ref) {
        static GroupedCase of(Random rnd, int[] counts, int tileRows, int spare, int k, int n) {
            int experts = counts.length;
            ExpertTiles plan = ExpertTiles.plan(counts, tileRows);
            int[] offsets = plan.offsets();
            int rows = plan.rows();
            int numTiles = plan.numTiles();
            int maxTiles = numTiles + spare;
            int[] tiles = Arrays.copyOf(plan.tiles(), 2 * maxTiles);   // zeros past the list, never read
            float[] a = GpuTest.randomBf16(rnd, rows * k, 1f);
            float[] w = GpuTest.randomBf16(rnd, experts * n * k, 0.05f);
            float[] ref = new float[rows * n];
            for (int e = 0; e < experts; e++) {
                for (int i = offsets[e]; i < offsets[e + 1]; i++) {
                    for (int j = 0; j < n; j++) {
                        double sum = 0;
                        for (int x = 0; x < k; x++) {
                            sum += (double) a[i * k + x] * w[(e * n + j) * k + x];
                        }
                        ref[i * n + j] = (float) sum;
                    }
                }
            }
            return new GroupedCase(offsets, tiles, numTiles, maxTiles, a, w, ref);
        }
    }

    /** What C = 0.5 * A W^T + C should hold: 0.5 * product + c0. */
    private static float[] halfPlus(float[] product, float[] c0) {
        float[] acc = new float[product.length];
        for (int i = 0; i < acc.length; i++) {
            acc[i] = 0.5f * product[i] + c0[i];
        }
        return acc;
    }
}
