package dev.kimilinear.cuda;

import dev.kimilinear.cpu.MlaReference;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

import static dev.kimilinear.cuda.GpuTest.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The tensor-core prefill attention against the reference's expanded attention in fp32:
 * sequences of mixed cached contexts (none, within a page, many pages) and chunk lengths off
 * the tile boundaries, one-token sequences among them, pages shuffled across sequences; in
 * one pass and in passes small enough that sequences cross them.
 */
@Tag("gpu")
class MlaPrefillKernelTest {
    private static final int DN = 128;
    private static final int DR = 64;
    private static final int DV = 128;
    private static final int DQK = DN + DR;

    @ParameterizedTest
    @CsvSource({"4,128,16,8192,0", "4,128,16,256,0", "2,512,64,384,1", "3,64,32,128,2"})
    void matchesTheReferenceOnRaggedBatches(int heads, int r, int pageSize, int capacity, int firstSeq) {
        CudaContext ctx = GpuTest.context();
        assumeTrue(MlaPrefillKernel.supported(ctx, DN, DR, DV, r), "the prefill attention needs an sm_90 device");
        int[] ctxLens = {37, 0, 300, 129, 0, 1000, 5};
        int[] news = {1, 200, 5, 128, 1, 70, 333};
        Random rnd = new Random(heads * 31L + r + capacity);
        int n = ctxLens.length;
        int width = r + DR;
        int[] cu = new int[n + 1];
        for (int s = 0; s < n; s++) {
            cu[s + 1] = cu[s] + news[s];
        }
        int t = cu[n];
        int[] pagesPer = new int[n];
        int totalPages = 0;
        for (int s = 0; s < n; s++) {
            pagesPer[s] = (ctxLens[s] + news[s] + pageSize - 1) / pageSize;
            totalPages += pagesPer[s];
        }
        List<Integer> order = new ArrayList<>();
        for (int p = 0; p < totalPages; p++) {
            order.add(p);
        }
        Collections.shuffle(order, rnd);
        int maxPages = java.util.Arrays.stream(pagesPer).max().orElse(0);
        int[][] tables = new int[n][];
        int[] flatTables = new int[n * maxPages];
        int next = 0;
        for (int s = 0; s < n; s++) {
            tables[s] = new int[pagesPer[s]];
            for (int p = 0; p < pagesPer[s]; p++) {
                tables[s][p] = order.get(next++);
            }
            System.arraycopy(tables[s], 0, flatTables, s * maxPages, pagesPer[s]);
        }
        float[] cache = GpuTest.randomBf16(rnd, totalPages * pageSize * width, 1f);
        float[] q = GpuTest.randomBf16(rnd, t * heads * DQK, 1f);
        float[] kvB = GpuTest.randomBf16(rnd, heads * (DN + DV) * r, (float) (1.0 / Math.sqrt(r)));
        short[][] split = MlaPrefillKernel.splitKvB(GpuTest.bf16(kvB), heads, DN, DV, r);
        float[] ref = reference(q, cache, kvB, tables, pageSize, ctxLens, cu, heads, r);

        MlaPrefillPlan plan = MlaPrefillPlan.of(cu, ctxLens, firstSeq, capacity);
        if (capacity < 1024) {
            assertTrue(plan.passes().size() > 1, "a small capacity must take several passes: " + plan);
        }
        long scratchBytes = MlaPrefillKernel.Scratch.bytes(capacity, t, heads, width);
        try (DeviceBuffer dq = DeviceBuffer.ofBf16(ctx, GpuTest.bf16(q));
             DeviceBuffer dc = DeviceBuffer.ofBf16(ctx, GpuTest.bf16(cache));
             DeviceBuffer dt = DeviceBuffer.of(ctx, flatTables); DeviceBuffer dcu = DeviceBuffer.of(ctx, cu);
             DeviceBuffer dctx = DeviceBuffer.of(ctx, ctxLens);
             DeviceBuffer uk = DeviceBuffer.ofBf16(ctx, split[0]); DeviceBuffer uv = DeviceBuffer.ofBf16(ctx, split[1]);
             DeviceBuffer dplan = DeviceBuffer.of(ctx, plan.flatten());
             DeviceBuffer scratch = DeviceBuffer.allocate(ctx, scratchBytes);
             DeviceBuffer out = DeviceBuffer.allocate(ctx, 2L * t * heads * DV)) {
            scratch.poison();
            out.poisonBf16();
            MlaPrefillKernel.run(ctx, plan, dplan.ptr(), dq.ptr(), (long) heads * DQK, dc.ptr(), dt.ptr(), maxPages,
                    pageSize, dcu.ptr(), dctx.ptr(), uk.ptr(), uv.ptr(),
                    MlaPrefillKernel.Scratch.at(scratch.ptr(), capacity, t, heads, width), out.ptr(),
                    (long) heads * DV, heads, r);
            short[] plain = out.toShorts();
            float[] got = GpuTest.fromBf16(plain);
            if (GemmKernel.hopper(ctx)) {
                // K and V^T tiles (and the expansion products) by tensor copies: the same bits
                out.poisonBf16();
                ctx.withTensorCopies(true, () -> MlaPrefillKernel.run(ctx, plan, dplan.ptr(), dq.ptr(),
                        (long) heads * DQK, dc.ptr(), dt.ptr(), maxPages, pageSize, dcu.ptr(), dctx.ptr(), uk.ptr(),
                        uv.ptr(), MlaPrefillKernel.Scratch.at(scratch.ptr(), capacity, t, heads, width), out.ptr(),
                        (long) heads * DV, heads, r));
                assertArrayEquals(plain, out.toShorts(), "tensor copies against cp.async, H=" + heads + " r=" + r
                        + " capacity=" + capacity);
            }
            for (int s = 0; s < n; s++) {
                int from = cu[s] * heads * DV;
                int len = news[s] * heads * DV;
                float[] part = GpuTest.slice(got, from, len);
                String what = "sequence " + s + " (context " + ctxLens[s] + ", " + news[s] + " new) H=" + heads
                        + " r=" + r + " capacity=" + capacity;
                if (s < firstSeq) {
                    for (float v : part) {
                        assertTrue(Float.isNaN(v), what + ": left to the decode path, yet written");
                    }
                } else {
                    assertClose(part, GpuTest.slice(ref, from, len), 1.5e-2, what);
                }
            }
        }
    }

    /** Expanded keys and values per sequence in fp32 (the expansion rounded to bf16, as the kernel's), then attention. */
    private static float[] reference(float[] q, float[] cache, float[] kvB, int[][] tables, int pageSize, int[] ctxLens,
                                     int[] cu, int heads, int r) {
        int width = r + DR;
        float[] out = new float[cu[cu.length - 1] * heads * DV];
        for (int s = 0; s < ctxLens.length; s++) {
            int news = cu[s + 1] - cu[s];
            int keys = ctxLens[s] + news;
            float[] k = new float[keys * heads * DQK];
            float[] v = new float[keys * heads * DV];
            for (int j = 0; j < keys; j++) {
                int row = (tables[s][j / pageSize] * pageSize + j % pageSize) * width;
                for (int h = 0; h < heads; h++) {
                    for (int i = 0; i < DN + DV; i++) {
                        double acc = 0;
                        int w = (h * (DN + DV) + i) * r;
                        for (int c = 0; c < r; c++) {
                            acc += cache[row + c] * kvB[w + c];
                        }
                        float x = GpuTest.bf16Round(new float[] {(float) acc})[0];
                        if (i < DN) {
                            k[(j * heads + h) * DQK + i] = x;
                        } else {
                            v[(j * heads + h) * DV + i - DN] = x;
                        }
                    }
                    System.arraycopy(cache, row + r, k, (j * heads + h) * DQK + DN, DR);
                }
            }
            float[] qs = GpuTest.slice(q, cu[s] * heads * DQK, news * heads * DQK);
            float[] o = new float[news * heads * DV];
            MlaReference.attend(qs, news, ctxLens[s], k, v, keys, heads, DQK, DV, (float) (1.0 / Math.sqrt(DQK)), o);
            System.arraycopy(o, 0, out, cu[s] * heads * DV, o.length);
        }
        return out;
    }
}
