package dev.kimilinear.cuda;

import dev.kimilinear.cpu.MlaReference;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

import static dev.kimilinear.cuda.GpuTest.assertClose;

/**
 * Absorbed attention over a paged cache against the reference's absorbed decode. W_uv is the
 * identity (dv = r) so the reference's output is the attention context the kernels return.
 */
@Tag("gpu")
class MlaDecodeKernelTest {

    /** Sequences with pages shuffled across them, queries, absorbed queries and the reference context. */
    private static final class Case {
        final int heads, r, dr, dn, dqk, pageSize, n, t, maxPages;
        final int[] ctxLens, cu, seqOf, flatTables;
        final float[] cache, q, qa, ref;

        Case(int heads, int r, int dr, int dn, int pageSize, int[] ctxLens, int[] news, long seed) {
            Random rnd = new Random(seed);
            this.heads = heads;
            this.r = r;
            this.dr = dr;
            this.dn = dn;
            this.dqk = dn + dr;
            this.pageSize = pageSize;
            this.ctxLens = ctxLens;
            this.n = ctxLens.length;
            cu = new int[n + 1];
            for (int s = 0; s < n; s++) {
                cu[s + 1] = cu[s] + news[s];
            }
            t = cu[n];
            int width = r + dr;
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
            int mp = 0;
            int[][] tables = new int[n][];
            int next = 0;
            for (int s = 0; s < n; s++) {
                tables[s] = new int[pagesPer[s]];
                for (int p = 0; p < pagesPer[s]; p++) {
                    tables[s][p] = order.get(next++);
                }
                mp = Math.max(mp, pagesPer[s]);
            }
            maxPages = mp;
            flatTables = new int[n * maxPages];
            for (int s = 0; s < n; s++) {
                System.arraycopy(tables[s], 0, flatTables, s * maxPages, tables[s].length);
            }
            cache = GpuTest.randomBf16(rnd, totalPages * pageSize * width, 1f);
            q = GpuTest.random(rnd, t * heads * dqk, 1f);
            float[] wuk = GpuTest.random(rnd, heads * dn * r, 0.1f);
            float[] kvB = new float[heads * (dn + r) * r];
            qa = new float[t * heads * r];
            for (int h = 0; h < heads; h++) {
                System.arraycopy(wuk, h * dn * r, kvB, h * (dn + r) * r, dn * r);
                for (int i = 0; i < r; i++) {
                    kvB[(h * (dn + r) + dn + i) * r + i] = 1f;
                }
                for (int tok = 0; tok < t; tok++) {
                    for (int i = 0; i < dn; i++) {
                        float qv = q[(tok * heads + h) * dqk + i];
                        for (int c = 0; c < r; c++) {
                            qa[(tok * heads + h) * r + c] += qv * wuk[(h * dn + i) * r + c];
                        }
                    }
                }
            }
            ref = new float[t * heads * r];
            seqOf = new int[t];
            MlaReference.DecodeScratch scratch = new MlaReference.DecodeScratch(heads, r, 256);
            for (int s = 0; s < n; s++) {
                for (int i = cu[s]; i < cu[s + 1]; i++) {
                    seqOf[i] = s;
                    int visible = ctxLens[s] + (i - cu[s]) + 1;
                    MlaReference.decodeAbsorbed(q, i * heads * dqk, cache, tables[s], pageSize, visible, kvB, heads, dn,
                            dr, r, r, scale(), ref, i * heads * r, scratch);
                }
            }
        }

        float scale() {
            return (float) (1.0 / Math.sqrt(dqk));
        }
    }

    @ParameterizedTest
    @CsvSource({"4,32,8,16,16", "8,512,64,128,64",
            // widths of any parity: values one at a time (odd rank, odd rope dim, both)
            "3,45,12,36,16", "5,44,13,20,16", "2,33,7,8,16"})
    void contextMatchesForDecodeAndContinuedPrompts(int heads, int r, int dr, int dn, int pageSize) {
        CudaContext ctx = GpuTest.context();
        Case c = new Case(heads, r, dr, dn, pageSize, new int[] {37, 0, 130}, new int[] {1, 70, 5}, heads * 7L + r);
        try (DeviceBuffer dq = DeviceBuffer.of(ctx, c.q); DeviceBuffer dqa = DeviceBuffer.of(ctx, c.qa);
             DeviceBuffer dc = DeviceBuffer.ofBf16(ctx, GpuTest.bf16(c.cache));
             DeviceBuffer dc32 = DeviceBuffer.of(ctx, c.cache);
             DeviceBuffer dt = DeviceBuffer.of(ctx, c.flatTables); DeviceBuffer dcu = DeviceBuffer.of(ctx, c.cu);
             DeviceBuffer dctx = DeviceBuffer.of(ctx, c.ctxLens); DeviceBuffer dseq = DeviceBuffer.of(ctx, c.seqOf);
             DeviceBuffer out = DeviceBuffer.allocate(ctx, 2L * c.t * heads * r);
             DeviceBuffer outLo = DeviceBuffer.allocate(ctx, 2L * c.t * heads * r)) {
            out.poisonBf16();
            MlaDecodeKernel.attention(ctx, dqa.ptr(), dq.ptr(), (long) heads * c.dqk, dc.ptr(), dt.ptr(), c.maxPages,
                    pageSize, dcu.ptr(), dctx.ptr(), dseq.ptr(), out.ptr(), c.t, heads, r, dr, c.dqk, dn, c.scale());
            assertClose(GpuTest.fromBf16(out.toShorts()), c.ref, 1e-2, "absorbed attention context");
            // fp32 cache with the output split into hi + lo: fp32-faithful
            out.poisonBf16();
            outLo.poisonBf16();
            MlaDecodeKernel.attention(ctx, dqa.ptr(), dq.ptr(), (long) heads * c.dqk, dc32.ptr(), true, dt.ptr(),
                    c.maxPages, pageSize, dcu.ptr(), dctx.ptr(), dseq.ptr(), out.ptr(), outLo.ptr(), c.t, heads, r, dr,
                    c.dqk, dn, c.scale());
            float[] hi = GpuTest.fromBf16(out.toShorts());
            float[] lo = GpuTest.fromBf16(outLo.toShorts());
            for (int i = 0; i < hi.length; i++) {
                hi[i] += lo[i];
            }
            assertClose(hi, c.ref, 1e-4, "absorbed attention context, fp32 cache, split output");
        }
    }

    /** The split decode: contexts of 0 rows to several tiles and slices, every head in one block. */
    @ParameterizedTest
    @CsvSource({"4,32,8,16,16", "32,512,64,128,64", "20,128,64,32,32"})
    void splitDecodeMatchesTheReference(int heads, int r, int dr, int dn, int pageSize) {
        CudaContext ctx = GpuTest.context();
        int[] ctxLens = {0, 37, 63, 64, 130, 1500, 5};
        int[] news = new int[ctxLens.length];
        java.util.Arrays.fill(news, 1);
        Case c = new Case(heads, r, dr, dn, pageSize, ctxLens, news, heads * 13L + r);
        int maxContext = 1500;
        assertClose(splitDecode(ctx, c, maxContext, MlaDecodeKernel.longestFirst(ctxLens)), c.ref, 1.5e-2,
                "split decode context H=" + heads + " r=" + r);
    }

    /**
     * Many sequences or short contexts: one slice per sequence, the block writes the output itself;
     * with more sequences than SMs a block takes several, in index order or longest first.
     */
    @ParameterizedTest
    @CsvSource({"4,32,8,16,16,150,100", "32,512,64,128,64,140,70", "8,128,64,32,32,9,31"})
    void splitDecodeWithOneSliceWritesTheOutput(int heads, int r, int dr, int dn, int pageSize, int seqs, int maxLen) {
        CudaContext ctx = GpuTest.context();
        Random rnd = new Random(seqs * 31L + heads + maxLen);
        int[] ctxLens = new int[seqs];
        int maxContext = 0;
        for (int s = 0; s < seqs; s++) {
            ctxLens[s] = s == 0 ? maxLen - 1 : rnd.nextInt(maxLen);
            maxContext = Math.max(maxContext, ctxLens[s]);
        }
        int sms = ctx.device().multiprocessors();
        org.junit.jupiter.api.Assertions.assertEquals(1, MlaDecodeKernel.splits(seqs, maxContext + 1, sms),
                "this shape must take one slice per sequence");
        int[] news = new int[seqs];
        java.util.Arrays.fill(news, 1);
        Case c = new Case(heads, r, dr, dn, pageSize, ctxLens, news, seqs * 17L + r);
        float[] indexOrder = splitDecode(ctx, c, maxContext, null);
        assertClose(indexOrder, c.ref, 1.5e-2, "one-slice decode context H=" + heads);
        int[] order = MlaDecodeKernel.longestFirst(ctxLens);
        float[] longestFirst = splitDecode(ctx, c, maxContext, order);
        // each sequence is still one block's stream of tiles: the same sums, bit for bit
        org.junit.jupiter.api.Assertions.assertArrayEquals(indexOrder, longestFirst,
                "one-slice decode context H=" + heads + ", longest first");
    }

    @Test
    void longestFirstOrdersByContextThenIndex() {
        org.junit.jupiter.api.Assertions.assertArrayEquals(new int[] {3, 1, 4, 0, 2},
                MlaDecodeKernel.longestFirst(new int[] {5, 9, 0, 12, 9}));
        org.junit.jupiter.api.Assertions.assertArrayEquals(new int[0], MlaDecodeKernel.longestFirst(new int[0]));
    }

    /**
     * Two slices per sequence (a cluster pair on sm_90, each block merging half of the heads; the
     * merge kernel before): an odd head count so the halves differ, mixed lengths.
     */
    @Test
    void splitDecodeWithTwoSlicesMergesEveryHead() {
        CudaContext ctx = GpuTest.context();
        int heads = 5;
        int r = 32;
        int dr = 8;
        int dn = 16;
        int pageSize = 16;
        int sms = ctx.device().multiprocessors();
        int seqs = sms / 2;
        Random rnd = new Random(2024);
        int[] ctxLens = new int[seqs];
        for (int s = 0; s < seqs; s++) {
            ctxLens[s] = s == 0 ? 999 : rnd.nextInt(1000);
        }
        org.junit.jupiter.api.Assertions.assertEquals(2, MlaDecodeKernel.splits(seqs, 1000, sms),
                "this shape must take two slices per sequence");
        int[] news = new int[seqs];
        java.util.Arrays.fill(news, 1);
        Case c = new Case(heads, r, dr, dn, pageSize, ctxLens, news, 99L);
        assertClose(splitDecode(ctx, c, 999, null), c.ref, 1.5e-2, "two-slice decode context H=" + heads);
    }

    /**
     * The split decode over a case (one new token per sequence), outputs poisoned first: the context
     * as floats. order: the sequences longest first, or null for index order.
     */
    private static float[] splitDecode(CudaContext ctx, Case c, int maxContext, int[] order) {
        // the split decode takes the absorbed queries in bf16
        try (DeviceBuffer dq = DeviceBuffer.of(ctx, c.q); DeviceBuffer dqa = DeviceBuffer.ofBf16(ctx, GpuTest.bf16(c.qa));
             DeviceBuffer dc = DeviceBuffer.ofBf16(ctx, GpuTest.bf16(c.cache));
             DeviceBuffer dt = DeviceBuffer.of(ctx, c.flatTables); DeviceBuffer dctx = DeviceBuffer.of(ctx, c.ctxLens);
             DeviceBuffer dorder = DeviceBuffer.of(ctx, order == null ? new int[] {0} : order);
             DeviceBuffer partials = DeviceBuffer.allocate(ctx,
                     MlaDecodeKernel.partialBytes(c.n, c.heads, c.r, ctx.device().multiprocessors()));
             DeviceBuffer out = DeviceBuffer.allocate(ctx, 2L * c.t * c.heads * c.r)) {
            partials.poison();
            out.poisonBf16();
            MlaDecodeKernel.decode(ctx, dqa.ptr(), dq.ptr(), (long) c.heads * c.dqk, dc.ptr(), dt.ptr(), c.maxPages,
                    c.pageSize, dctx.ptr(), order == null ? null : dorder.ptr(), maxContext, partials.ptr(), out.ptr(), c.n, c.heads, c.r, c.dr, c.dqk, c.dn,
                    c.scale());
            return GpuTest.fromBf16(out.toShorts());
        }
    }
}
