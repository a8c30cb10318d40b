package dev.kimilinear.cuda;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The Hopper products' loads by tensor copy (TMA, through maps each block builds on the device)
 * against their loads by cp.async: the map alone lands a box where the swizzle wants it, and
 * every product family gives the same bits either way, on ragged shapes.
 */
@Tag("gpu")
class TensorCopyLoadsTest {

    /**
     * One box of 64 columns x 128 rows: row r's 16-byte chunk c at r * 128 + (c ^ (r % 8)) * 16,
     * elements past the matrix (its rows, its columns, the pitch's padding beyond them) zero.
     */
    @ParameterizedTest
    @CsvSource({"300,200,0,0", "300,200,128,256", "130,72,64,64", "1000,2304,2240,900", "5,8,0,0"})
    void aBoxLandsInTheSwizzleTheProductsRead(int rows, int cols, int col, int row) {
        CudaContext ctx = GpuTest.context();
        assumeTrue(GemmKernel.hopper(ctx), "tensor copies run on sm_90");
        int ld = (cols + 7) / 8 * 8 + 8;   // a pitch past the columns: what lies there is not the matrix's
        Random rnd = new Random(rows * 7L + cols + col * 3L + row);
        short[] m = GpuTest.bf16(GpuTest.random(rnd, rows * ld, 1f));
        short[] expected = new short[64 * 128];
        for (int r = 0; r < 128; r++) {
            for (int c = 0; c < 8; c++) {
                for (int e = 0; e < 8; e++) {
                    int gr = row + r;
                    int gc = col + c * 8 + e;
                    expected[r * 64 + (c ^ (r & 7)) * 8 + e] = gr < rows && gc < cols ? m[gr * ld + gc] : 0;
                }
            }
        }
        try (DeviceBuffer dm = DeviceBuffer.ofBf16(ctx, m)) {
            assertArrayEquals(expected, GemmKernel.probeTensorCopy(ctx, dm.ptr(), ld, rows, cols, col, row),
                    "box at column " + col + ", row " + row + " of " + rows + " x " + cols);
        }
    }

    /** Plain products: more tiles than multiprocessors, edges in M, N and K, K under one stage, both outputs, accumulation. */
    @ParameterizedTest
    @CsvSource({"2100,2100,136", "129,257,8", "300,520,2312", "1000,1280,2304"})
    void plainProductsAreTheSameBitForBit(int m, int n, int k) {
        CudaContext ctx = GpuTest.context();
        assumeTrue(GemmKernel.hopper(ctx), "the Hopper product runs on sm_90");
        Random rnd = new Random(m * 3L + n * 5L + k);
        float[] c0 = GpuTest.random(rnd, m * n, 1f);
        try (DeviceBuffer a = DeviceBuffer.ofBf16(ctx, GpuTest.bf16(GpuTest.random(rnd, m * k, 1f)));
             DeviceBuffer w = DeviceBuffer.ofBf16(ctx, GpuTest.bf16(GpuTest.random(rnd, n * k, 0.05f)));
             DeviceBuffer c = DeviceBuffer.allocate(ctx, 4L * m * n);
             DeviceBuffer cb = DeviceBuffer.allocate(ctx, 2L * m * n)) {
            String shape = m + "x" + n + "x" + k;
            sameBothWays(ctx, "f32 " + shape, c, c::poison, () -> GemmKernel.warpgroups(ctx, a.ptr(), k, 0, w.ptr(), k,
                    0, c.ptr(), n, 0, GemmKernel.Out.F32, m, n, k, 1, 1f, 0f));
            sameBothWays(ctx, "bf16 " + shape, cb, cb::poisonBf16, () -> GemmKernel.warpgroups(ctx, a.ptr(), k, 0,
                    w.ptr(), k, 0, cb.ptr(), n, 0, GemmKernel.Out.BF16, m, n, k, 1, 1f, 0f));
            sameBothWays(ctx, "accumulate " + shape, c, () -> c.upload(c0), () -> GemmKernel.warpgroups(ctx, a.ptr(), k,
                    0, w.ptr(), k, 0, c.ptr(), n, 0, GemmKernel.Out.F32, m, n, k, 1, 0.5f, 1f));
        }
    }

    /** The dense gate/up product with SwiGLU in its stores. */
    @Test
    void theSwigluProductIsTheSameBitForBit() {
        CudaContext ctx = GpuTest.context();
        assumeTrue(GemmKernel.hopper(ctx), "the fused product runs on sm_90");
        int m = 1100;
        int n = 1000;
        int k = 200;
        Random rnd = new Random(5);
        try (DeviceBuffer a = DeviceBuffer.ofBf16(ctx, GpuTest.bf16(GpuTest.random(rnd, m * k, 1f)));
             DeviceBuffer w = DeviceBuffer.ofBf16(ctx, GpuTest.bf16(GpuTest.random(rnd, 2 * n * k, 0.05f)));
             DeviceBuffer act = DeviceBuffer.allocate(ctx, 2L * m * n)) {
            sameBothWays(ctx, "swiglu", act, act::poisonBf16,
                    () -> GemmKernel.matmulSwiglu(ctx, a.ptr(), k, w.ptr(), k, act.ptr(), n, m, n, k, 1f));
        }
    }

    /**
     * Grouped products (plain and SwiGLU) over experts whose last tile holds 1, 64 or 65 rows, an
     * expert with none, the last listed expert short of the weights' last: bf16 and e4m3.
     */
    @ParameterizedTest
    @CsvSource({"200,264", "2304,128", "1040,200"})
    void groupedProductsAreTheSameBitForBit(int k, int n) {
        CudaContext ctx = GpuTest.context();
        assumeTrue(GemmKernel.hopper(ctx), "the 128-row grouped product runs on sm_90");
        int tileRows = GemmKernel.GROUPED_PREFILL_TILE_ROWS;
        int[] counts = {130, 0, 1, 300, 128, 64, 65, 200, 0, 0};
        ExpertTiles plan = ExpertTiles.plan(counts, tileRows);
        int rows = plan.rows();
        int experts = counts.length;
        int maxTiles = plan.numTiles() + 3;
        int[] tiles = java.util.Arrays.copyOf(plan.tiles(), 2 * maxTiles);
        Random rnd = new Random(k * 13L + n);
        try (DeviceBuffer a = DeviceBuffer.ofBf16(ctx, GpuTest.bf16(GpuTest.random(rnd, rows * k, 1f)));
             DeviceBuffer w = DeviceBuffer.ofBf16(ctx, GpuTest.bf16(GpuTest.random(rnd, experts * 2 * n * k, 0.05f)));
             DeviceBuffer off = DeviceBuffer.of(ctx, plan.offsets());
             DeviceBuffer tl = DeviceBuffer.of(ctx, tiles);
             DeviceBuffer nt = DeviceBuffer.of(ctx, new int[] {plan.numTiles()});
             DeviceBuffer c = DeviceBuffer.allocate(ctx, 4L * rows * 2 * n);
             DeviceBuffer act = DeviceBuffer.allocate(ctx, 2L * rows * n)) {
            String shape = "K=" + k + " N=" + n;
            long sB = 2L * n * k;
            sameBothWays(ctx, "grouped " + shape, c, c::poison, () -> GemmKernel.grouped(ctx, a.ptr(), k, w.ptr(), k, sB,
                    c.ptr(), 2L * n, GemmKernel.Out.F32, off.ptr(), tl.ptr(), nt.ptr(), maxTiles, tileRows, 2 * n, k,
                    1f, 0f));
            sameBothWays(ctx, "grouped swiglu " + shape, act, act::poisonBf16, () -> GemmKernel.groupedSwiglu(ctx,
                    a.ptr(), k, w.ptr(), k, sB, act.ptr(), n, off.ptr(), tl.ptr(), nt.ptr(), maxTiles, n, k, 1f));
            if (k % 16 != 0) {
                return;   // e4m3 rows take K in 16-byte steps
            }
            try (DeviceBuffer aq = codes(ctx, rnd, rows * k); DeviceBuffer sa = scales(ctx, rnd, rows);
                 DeviceBuffer wq = codes(ctx, rnd, experts * 2 * n * k); DeviceBuffer sw = scales(ctx, rnd, experts * 2 * n)) {
                sameBothWays(ctx, "e4m3 grouped " + shape, c, c::poison, () -> GemmFp8Kernel.groupedPrefill(ctx,
                        aq.ptr(), k, sa.ptr(), wq.ptr(), k, sB, sw.ptr(), c.ptr(), 2L * n, GemmKernel.Out.F32, off.ptr(),
                        tl.ptr(), nt.ptr(), maxTiles, 2 * n, k, 1f, 0f));
                sameBothWays(ctx, "e4m3 grouped swiglu " + shape, act, act::poisonBf16,
                        () -> GemmFp8Kernel.groupedSwigluPrefill(ctx, aq.ptr(), k, sa.ptr(), wq.ptr(), k, sB, sw.ptr(),
                                act.ptr(), n, off.ptr(), tl.ptr(), nt.ptr(), maxTiles, n, k, 1f));
            }
        }
    }

    /** The dense e4m3 products, plain and SwiGLU, with edges in M and N. */
    @ParameterizedTest
    @CsvSource({"1100,1000,256", "2100,2304,1040"})
    void e4m3ProductsAreTheSameBitForBit(int m, int n, int k) {
        CudaContext ctx = GpuTest.context();
        assumeTrue(GemmKernel.hopper(ctx), "the e4m3 product runs on sm_90");
        Random rnd = new Random(m + n * 3L + k);
        try (DeviceBuffer aq = codes(ctx, rnd, m * k); DeviceBuffer sa = scales(ctx, rnd, m);
             DeviceBuffer wq = codes(ctx, rnd, 2 * n * k); DeviceBuffer sw = scales(ctx, rnd, 2 * n);
             DeviceBuffer c = DeviceBuffer.allocate(ctx, 4L * m * n);
             DeviceBuffer act = DeviceBuffer.allocate(ctx, 2L * m * n)) {
            String shape = m + "x" + n + "x" + k;
            sameBothWays(ctx, "e4m3 " + shape, c, c::poison, () -> GemmFp8Kernel.prefill(ctx, aq.ptr(), k, sa.ptr(),
                    wq.ptr(), k, sw.ptr(), c.ptr(), n, GemmKernel.Out.F32, m, n, k, 1f, 0f));
            sameBothWays(ctx, "e4m3 swiglu " + shape, act, act::poisonBf16, () -> GemmFp8Kernel.swigluPrefill(ctx,
                    aq.ptr(), k, sa.ptr(), wq.ptr(), k, sw.ptr(), act.ptr(), n, m, n, k, 1f));
        }
    }

    /** Runs the product with cp.async loads, then with tensor copies, each over a freshly set output. */
    private static void sameBothWays(CudaContext ctx, String what, DeviceBuffer out, Runnable reset, Runnable product) {
        reset.run();
        ctx.withTensorCopies(false, product);
        byte[] plain = out.toBytes();
        reset.run();
        ctx.withTensorCopies(true, product);
        assertArrayEquals(plain, out.toBytes(), what + ": tensor copies against cp.async");
    }

    /** Random e4m3 codes, none of them NaN (0x7F, 0xFF). */
    private static DeviceBuffer codes(CudaContext ctx, Random rnd, int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            int v;
            do {
                v = rnd.nextInt(256);
            } while ((v & 0x7F) == 0x7F);
            b[i] = (byte) v;
        }
        DeviceBuffer d = DeviceBuffer.allocate(ctx, n);
        d.upload(b, 0);
        return d;
    }

    private static DeviceBuffer scales(CudaContext ctx, Random rnd, int n) {
        float[] s = new float[n];
        for (int i = 0; i < n; i++) {
            s[i] = 1e-3f * (1 + rnd.nextFloat());
        }
        return DeviceBuffer.of(ctx, s);
    }
}
