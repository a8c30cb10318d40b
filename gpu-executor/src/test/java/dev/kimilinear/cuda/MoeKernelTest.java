package dev.kimilinear.cuda;

import dev.kimilinear.cpu.CpuOps;
import dev.kimilinear.cpu.MoeReference;
import dev.kimilinear.model.KimiLinearConfig.MoeConfig;
import dev.kimilinear.model.KimiLinearConfig.RouterActivation;
import jcuda.driver.CUdeviceptr;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Random;

import static dev.kimilinear.cuda.GpuTest.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Router, then the whole routed-expert path (dispatch, grouped products, combine). */
@Tag("gpu")
class MoeKernelTest {

    @ParameterizedTest
    @CsvSource({"37,8,2,2,1,SIGMOID,64,32", "130,64,6,4,2,SIGMOID,128,64", "9,16,4,1,1,SOFTMAX,64,32",
            "1,256,8,1,1,SIGMOID,128,64", "600,16,4,2,1,SIGMOID,136,72",
            // widths off the 16-byte copies and loads (element-wise dispatch and grouped products), at
            // decode, tile-kernel and (above 2048 routed rows, on sm_90) Hopper tile sizes
            "3,5,3,1,1,SIGMOID,100,50", "37,5,3,1,1,SIGMOID,100,50", "300,6,2,2,1,SOFTMAX,36,20",
            "700,4,3,1,1,SIGMOID,44,13"})
    void routesAndComputesExpertsLikeTheReference(int t, int experts, int topK, int groups, int topkGroup,
                                                  RouterActivation act, int dim, int inter) {
        CudaContext ctx = GpuTest.context();
        Random rnd = new Random(t * 17L + experts);
        MoeConfig cfg = new MoeConfig(experts, topK, inter, 1, groups, topkGroup, 2.446f, true, act);
        float[] logits = GpuTest.random(rnd, t * experts, 2f);
        float[] bias = GpuTest.random(rnd, experts, 0.3f);
        int[] refIds = new int[t * topK];
        float[] refW = new float[t * topK];
        MoeReference.route(logits, t, bias, cfg, refIds, refW);

        float[] x = GpuTest.randomBf16(rnd, t * dim, 1f);
        float[] w13 = GpuTest.randomBf16(rnd, experts * 2 * inter * dim, 0.1f);
        float[] w2 = GpuTest.randomBf16(rnd, experts * dim * inter, 0.1f);
        float[] h0 = GpuTest.random(rnd, t * dim, 1f);
        float[] refH = h0.clone();
        float[] gu = new float[2 * inter];
        float[] hid = new float[inter];
        float[] y = new float[dim];
        for (int i = 0; i < t; i++) {
            for (int j = 0; j < topK; j++) {
                int e = refIds[i * topK + j];
                CpuOps.matmul(x, i * dim, 1, dim, w13, e * 2 * inter * dim, 2 * inter, gu, 0);
                for (int c = 0; c < inter; c++) {
                    hid[c] = GpuTest.bf16Round(new float[] {CpuOps.silu(gu[c]) * gu[inter + c]})[0];
                }
                CpuOps.matmul(hid, 0, 1, inter, w2, e * dim * inter, dim, y, 0);
                for (int c = 0; c < dim; c++) {
                    refH[i * dim + c] += refW[i * topK + j] * y[c];
                }
            }
        }
        int rows = t * topK;
        int maxTiles = MoeKernel.maxTiles(rows, experts);
        try (DeviceBuffer dl = DeviceBuffer.of(ctx, logits); DeviceBuffer db = DeviceBuffer.of(ctx, bias);
             DeviceBuffer ids = DeviceBuffer.allocate(ctx, 4L * rows); DeviceBuffer wts = DeviceBuffer.allocate(ctx, 4L * rows);
             DeviceBuffer dx = DeviceBuffer.ofBf16(ctx, GpuTest.bf16(x));
             DeviceBuffer d13 = DeviceBuffer.ofBf16(ctx, GpuTest.bf16(w13)); DeviceBuffer d2 = DeviceBuffer.ofBf16(ctx, GpuTest.bf16(w2));
             DeviceBuffer counts = DeviceBuffer.allocate(ctx, 4L * experts); DeviceBuffer cursors = DeviceBuffer.allocate(ctx, 4L * experts);
             DeviceBuffer offsets = DeviceBuffer.allocate(ctx, 4L * (experts + 1)); DeviceBuffer tiles = DeviceBuffer.allocate(ctx, 8L * maxTiles);
             DeviceBuffer numTiles = DeviceBuffer.allocate(ctx, 4); DeviceBuffer xperm = DeviceBuffer.allocate(ctx, 2L * rows * dim);
             DeviceBuffer rowPos = DeviceBuffer.allocate(ctx, 4L * rows); DeviceBuffer dgu = DeviceBuffer.allocate(ctx, 8L * rows * inter);
             DeviceBuffer dact = DeviceBuffer.allocate(ctx, 2L * rows * inter); DeviceBuffer down = DeviceBuffer.allocate(ctx, 4L * rows * dim);
             DeviceBuffer h = DeviceBuffer.of(ctx, h0)) {
            ids.poison();
            wts.poison();
            MoeKernel.route(ctx, dl.ptr(), db.ptr(), t, experts, topK, groups, topkGroup, true, 2.446f,
                    act == RouterActivation.SOFTMAX, ids.ptr(), wts.ptr());
            assertArrayEquals(refIds, ids.toInts(), "expert choice");
            assertClose(wts.toFloats(), refW, 1e-5, "routing weights");
            dgu.poison();
            down.poison();
            int tileRows = MoeKernel.dispatch(ctx, ids.ptr(), t, topK, experts, counts.ptr(), offsets.ptr(), tiles.ptr(), numTiles.ptr(),
                    cursors.ptr(), dx.ptr(), dim, xperm.ptr(), rowPos.ptr(), dim);
            GemmKernel.grouped(ctx, xperm.ptr(), dim, d13.ptr(), dim, 2L * inter * dim, dgu.ptr(), 2L * inter,
                    GemmKernel.Out.F32, offsets.ptr(), tiles.ptr(), numTiles.ptr(), maxTiles, tileRows, 2 * inter, dim, 1f,
                    0f);
            ActivationKernel.siluMul(ctx, dgu.ptr(), 2L * inter, dact.ptr(), inter, rows, inter);
            GemmKernel.grouped(ctx, dact.ptr(), inter, d2.ptr(), inter, (long) dim * inter, down.ptr(), dim,
                    GemmKernel.Out.F32, offsets.ptr(), tiles.ptr(), numTiles.ptr(), maxTiles, tileRows, dim, inter, 1f, 0f);
            MoeKernel.combine(ctx, down.ptr(), rowPos.ptr(), wts.ptr(), topK, h.ptr(), t, dim);
            assertClose(h.toFloats(), refH, 1e-3, "routed experts added to the residual");
        }
    }

    /**
     * Router logits on both kernels (a warp per pair; tiled for prefill-sized steps) against
     * float64, with tokens, experts and width off the 64-wide tiles and 32-wide chunks, rows at a
     * pitch wider than the width.
     */
    /**
     * The device's plan equals the host's (ExpertTiles) for expert counts from 1 to past one
     * block's 1024 threads, empty experts among them, tiles of 8 to 128 rows; cursors zeroed.
     */
    @ParameterizedTest
    @CsvSource({"256,16,2048", "256,128,65536", "3,8,5", "1,64,0", "40,8,300", "1500,16,9000", "2100,128,70000"})
    void planEqualsTheHostPlan(int experts, int tileRows, int rows) {
        CudaContext ctx = GpuTest.context();
        Random rnd = new Random(experts * 31L + tileRows + rows);
        int[] counts = new int[experts];
        for (int i = 0; i < rows; i++) {
            counts[rnd.nextInt(Math.max(1, experts - experts / 4))]++;   // the last quarter stays empty
        }
        ExpertTiles host = ExpertTiles.plan(counts, tileRows);
        int maxTiles = MoeKernel.maxTiles(rows, experts, tileRows);
        try (DeviceBuffer dc = DeviceBuffer.of(ctx, counts);
             DeviceBuffer off = DeviceBuffer.allocate(ctx, 4L * (experts + 1));
             DeviceBuffer tiles = DeviceBuffer.allocate(ctx, 8L * maxTiles);
             DeviceBuffer nt = DeviceBuffer.allocate(ctx, 4);
             DeviceBuffer cursors = DeviceBuffer.of(ctx, new Random(1).ints(experts, 1, 9).toArray())) {
            off.poison();
            tiles.poison();
            MoeKernel.plan(ctx, dc.ptr(), experts, tileRows, off.ptr(), tiles.ptr(), nt.ptr(), cursors.ptr(), "test");
            String what = experts + " experts, tiles of " + tileRows + ", " + rows + " rows";
            assertArrayEquals(host.offsets(), off.toInts(), what + ": offsets");
            assertEquals(host.numTiles(), nt.toInts()[0], what + ": tiles");
            assertArrayEquals(host.tiles(), tiles.readInts(0, 2 * host.numTiles()), what + ": tile list");
            assertArrayEquals(new int[experts], cursors.toInts(), what + ": cursors");
        }
    }

    @ParameterizedTest
    @CsvSource({"1,256,2304,false", "70,40,100,false", "70,40,100,true", "1100,256,2304,true", "130,67,33,true"})
    void routerLogitsMatchFloat64(int t, int experts, int dim, boolean tiled) {
        CudaContext ctx = GpuTest.context();
        Random rnd = new Random(t * 31L + experts + dim);
        int ldx = dim + 3;
        float[] x = GpuTest.random(rnd, t * ldx, 1f);
        float[] w = GpuTest.randomBf16(rnd, experts * dim, 0.05f);
        float[] ref = new float[t * experts];
        for (int i = 0; i < t; i++) {
            for (int e = 0; e < experts; e++) {
                double sum = 0;
                for (int k = 0; k < dim; k++) {
                    sum += (double) x[i * ldx + k] * w[e * dim + k];
                }
                ref[i * experts + e] = (float) sum;
            }
        }
        try (DeviceBuffer dx = DeviceBuffer.of(ctx, x); DeviceBuffer dw = DeviceBuffer.ofBf16(ctx, GpuTest.bf16(w));
             DeviceBuffer out = DeviceBuffer.allocate(ctx, 4L * ref.length)) {
            out.poison();
            MoeKernel.routerLogits(ctx, dx.ptr(), ldx, dw.ptr(), out.ptr(), t, experts, dim, tiled);
            assertClose(out.toFloats(), ref, 1e-5, (tiled ? "tiled" : "warp") + " router T=" + t + " E=" + experts
                    + " d=" + dim);
            if (tiled) {
                // the model's form for prefill-sized steps: the fp32 rows as bf16 hi and lo planes,
                // one tensor-core product each into the same fp32 logits, held to the same bound
                try (DeviceBuffer planes = DeviceBuffer.allocate(ctx, 4L * t * dim)) {
                    CUdeviceptr hi = planes.ptr();
                    CUdeviceptr lo = planes.at(2L * t * dim);
                    ActivationKernel.castBf16(ctx, dx.ptr(), ldx, hi, lo, dim, t, dim);
                    out.poison();
                    GemmKernel.matmul(ctx, hi, dim, dw.ptr(), dim, out.ptr(), experts, GemmKernel.Out.F32, t, experts,
                            dim, 1f, 0f);
                    GemmKernel.matmul(ctx, lo, dim, dw.ptr(), dim, out.ptr(), experts, GemmKernel.Out.F32, t, experts,
                            dim, 1f, 1f);
                    assertClose(out.toFloats(), ref, 1e-5, "split-product router T=" + t + " E=" + experts + " d=" + dim);
                }
            }
        }
    }
}
