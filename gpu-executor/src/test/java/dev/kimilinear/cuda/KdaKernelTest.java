package dev.kimilinear.cuda;

import dev.kimilinear.cpu.CpuOps;
import dev.kimilinear.cpu.KdaReference;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Arrays;
import java.util.Random;

import static dev.kimilinear.cuda.GpuTest.assertClose;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** KDA gate/prepare, recurrence and chunkwise prefill against the reference forms. */
@Tag("gpu")
class KdaKernelTest {

    /** Inputs as the model makes them: normalised q (scaled) and k, a real gate, sigmoid beta. */
    record Inputs(float[] q, float[] k, float[] v, float[] g, float[] beta) {
        /**
         * What kda_prepare makes of the fused projection rows [t, ldqkv] (q, k, v at offsets 0,
         * hd, 2 hd), the gate's low-rank output a and the beta column: the reference, per head of d.
         */
        static Inputs prepared(float[] qkv, int ldqkv, float[] a, float[] bCol, float[] dt, float[] aLog, int t, int h,
                               int d) {
            int hd = h * d;
            float[] q = new float[t * hd];
            float[] k = new float[t * hd];
            float[] v = new float[t * hd];
            for (int i = 0; i < t; i++) {
                System.arraycopy(qkv, i * ldqkv, q, i * hd, hd);
                System.arraycopy(qkv, i * ldqkv + hd, k, i * hd, hd);
                System.arraycopy(qkv, i * ldqkv + 2 * hd, v, i * hd, hd);
            }
            for (int r = 0; r < t * h; r++) {
                CpuOps.l2NormalizeRow(q, r * d, d, 1e-6f);
                CpuOps.l2NormalizeRow(k, r * d, d, 1e-6f);
                for (int i = 0; i < d; i++) {
                    q[r * d + i] /= (float) Math.sqrt(d);
                }
            }
            float[] g = new float[t * hd];
            KdaReference.gate(a, dt, aLog, t, h, d, g);
            float[] beta = new float[t * h];
            for (int i = 0; i < beta.length; i++) {
                beta[i] = CpuOps.sigmoid(bCol[i]);
            }
            return new Inputs(q, k, v, g, beta);
        }

        static Inputs random(Random rnd, int t, int h, int d) {
            float[] q = GpuTest.random(rnd, t * h * d, 1f);
            float[] k = GpuTest.random(rnd, t * h * d, 1f);
            for (int r = 0; r < t * h; r++) {
                CpuOps.l2NormalizeRow(q, r * d, d, 1e-6f);
                CpuOps.l2NormalizeRow(k, r * d, d, 1e-6f);
                for (int i = 0; i < d; i++) {
                    q[r * d + i] /= (float) Math.sqrt(d);
                }
            }
            float[] v = GpuTest.random(rnd, t * h * d, 1f);
            float[] a = GpuTest.random(rnd, t * h * d, 1.5f);
            float[] dt = GpuTest.random(rnd, h * d, 1f);
            float[] aLog = new float[h];
            for (int i = 0; i < h; i++) {
                aLog[i] = (float) (rnd.nextDouble() * 2.5 - 1.5);
            }
            float[] g = new float[t * h * d];
            KdaReference.gate(a, dt, aLog, t, h, d, g);
            float[] beta = new float[t * h];
            for (int i = 0; i < beta.length; i++) {
                beta[i] = CpuOps.sigmoid((float) rnd.nextGaussian());
            }
            return new Inputs(q, k, v, g, beta);
        }
    }

    @Test
    void prepareMatchesGateAndNormalisation() {
        CudaContext ctx = GpuTest.context();
        Random rnd = new Random(11);
        int t = 45;
        int h = 3;
        int d = 64;
        int hd = h * d;
        int ldqkv = 3 * hd + 8;
        float[] qkv = GpuTest.random(rnd, t * ldqkv, 1f);
        float[] a = GpuTest.random(rnd, t * hd, 2f);
        float[] bCol = GpuTest.random(rnd, t * h, 1f);
        float[] dt = GpuTest.random(rnd, hd, 1f);
        float[] aLog = GpuTest.random(rnd, h, 1f);
        Inputs ref = Inputs.prepared(qkv, ldqkv, a, bCol, dt, aLog, t, h, d);
        float[] refQ = ref.q();
        float[] refK = ref.k();
        float[] refV = ref.v();
        float[] refG = ref.g();
        float[] refBeta = ref.beta();
        try (DeviceBuffer dqkv = DeviceBuffer.of(ctx, qkv); DeviceBuffer da = DeviceBuffer.of(ctx, a);
             DeviceBuffer db = DeviceBuffer.of(ctx, bCol); DeviceBuffer ddt = DeviceBuffer.of(ctx, dt);
             DeviceBuffer dal = DeviceBuffer.of(ctx, aLog); DeviceBuffer q = DeviceBuffer.allocate(ctx, 4L * t * hd);
             DeviceBuffer k = DeviceBuffer.allocate(ctx, 4L * t * hd); DeviceBuffer v = DeviceBuffer.allocate(ctx, 4L * t * hd);
             DeviceBuffer g = DeviceBuffer.allocate(ctx, 4L * t * hd); DeviceBuffer beta = DeviceBuffer.allocate(ctx, 4L * t * h)) {
            for (DeviceBuffer x : new DeviceBuffer[] {q, k, v, g, beta}) {
                x.poison();
            }
            KdaGateKernel.prepare(ctx, dqkv.ptr(), ldqkv, da.ptr(), hd, db.ptr(), h, ddt.ptr(), dal.ptr(), q.ptr(), k.ptr(),
                    v.ptr(), g.ptr(), beta.ptr(), t, h, d, false);
            assertClose(q.toFloats(), refQ, 1e-5, "q");
            assertClose(k.toFloats(), refK, 1e-5, "k");
            assertClose(v.toFloats(), refV, 1e-7, "v");
            assertClose(g.toFloats(), refG, 1e-5, "g");
            assertClose(beta.toFloats(), refBeta, 1e-5, "beta");
            // the tensor-core chunk form's inputs: q, k and v rounded to bf16, g and beta as before
            for (DeviceBuffer x : new DeviceBuffer[] {q, k, v}) {
                x.poisonBf16();
            }
            g.poison();
            beta.poison();
            KdaGateKernel.prepare(ctx, dqkv.ptr(), ldqkv, da.ptr(), hd, db.ptr(), h, ddt.ptr(), dal.ptr(), q.ptr(), k.ptr(),
                    v.ptr(), g.ptr(), beta.ptr(), t, h, d, true);
            int n = t * hd;
            assertClose(GpuTest.fromBf16(Arrays.copyOf(q.toShorts(), n)), GpuTest.bf16Round(refQ), 1e-5, "bf16 q");
            assertClose(GpuTest.fromBf16(Arrays.copyOf(k.toShorts(), n)), GpuTest.bf16Round(refK), 1e-5, "bf16 k");
            assertClose(GpuTest.fromBf16(Arrays.copyOf(v.toShorts(), n)), GpuTest.bf16Round(refV), 1e-7, "bf16 v");
            assertClose(g.toFloats(), refG, 1e-5, "g with bf16 q, k, v");
            assertClose(beta.toFloats(), refBeta, 1e-5, "beta with bf16 q, k, v");
            g.poison();
            KdaGateKernel.gate(ctx, da.ptr(), ddt.ptr(), dal.ptr(), g.ptr(), t, h, d);
            assertClose(g.toFloats(), refG, 1e-5, "gate alone");
        }
    }

    /**
     * Head sizes the kernels are not built for, run at the next built size (the model's path):
     * prepare writes heads of {@code pitch} channels with the extra ones zero, the recurrence and
     * both chunk forms run at the pitch, the gated norm reads the first D channels of each head.
     * Against the reference at the head's own size; the extra channels of q, k, v, g, the output
     * and the state (which starts random in its own block) must stay zero.
     */
    @ParameterizedTest
    @CsvSource({"20,3,'0,1,70,200'", "36,2,'0,130'", "100,1,'0,64,65'"})
    void paddedHeadsMatchTheReferenceAtTheirOwnSize(int d, int h, String cuText) {
        CudaContext ctx = GpuTest.context();
        int pitch = KdaRecurrentKernel.headPitch(d);
        int[] cu = Arrays.stream(cuText.split(",")).mapToInt(Integer::parseInt).toArray();
        int n = cu.length - 1;
        int t = cu[n];
        int hd = h * d;
        Random rnd = new Random(d * 31L + h + t);
        int ldqkv = 3 * hd + 3;
        float[] qkv = GpuTest.random(rnd, t * ldqkv, 1f);
        float[] a = GpuTest.random(rnd, t * hd, 2f);
        float[] bCol = GpuTest.random(rnd, t * h, 1f);
        float[] dt = GpuTest.random(rnd, hd, 1f);
        float[] aLog = GpuTest.random(rnd, h, 1f);
        float[] z = GpuTest.random(rnd, t * hd, 1f);
        float[] normW = GpuTest.random(rnd, d, 1f);
        // the reference's inputs at the head's own size
        Inputs ref = Inputs.prepared(qkv, ldqkv, a, bCol, dt, aLog, t, h, d);
        float[] q = ref.q();
        float[] k = ref.k();
        float[] v = ref.v();
        float[] g = ref.g();
        float[] beta = ref.beta();
        int[] slots = new int[n];
        for (int s = 0; s < n; s++) {
            slots[s] = n - 1 - s;
        }
        float[] state0 = GpuTest.random(rnd, n * h * d * d, 0.1f);
        float[] refState = state0.clone();
        float[] refOut = new float[t * hd];
        KdaReference.recurrent(q, k, v, g, beta, cu, h, d, refState, slots, refOut);
        float[] refNormed = new float[t * hd];
        for (int r = 0; r < t * h; r++) {
            CpuOps.rmsNormRow(refOut, r * d, normW, 1e-5f, refNormed, r * d, d);
            for (int i = 0; i < d; i++) {
                refNormed[r * d + i] *= CpuOps.sigmoid(z[r * d + i]);
            }
        }
        KdaChunkPlan plan = KdaChunkPlan.of(cu);
        String shape = "D=" + d + " (pitch " + pitch + ") H=" + h + " cu=" + Arrays.toString(cu);
        try (DeviceBuffer dqkv = DeviceBuffer.of(ctx, qkv); DeviceBuffer da = DeviceBuffer.of(ctx, a);
             DeviceBuffer db = DeviceBuffer.of(ctx, bCol); DeviceBuffer ddt = DeviceBuffer.of(ctx, dt);
             DeviceBuffer dal = DeviceBuffer.of(ctx, aLog); DeviceBuffer dz = DeviceBuffer.of(ctx, z);
             DeviceBuffer dw = DeviceBuffer.of(ctx, normW);
             DeviceBuffer pq = DeviceBuffer.allocate(ctx, 4L * t * h * pitch);
             DeviceBuffer pk = DeviceBuffer.allocate(ctx, 4L * t * h * pitch);
             DeviceBuffer pv = DeviceBuffer.allocate(ctx, 4L * t * h * pitch);
             DeviceBuffer pg = DeviceBuffer.allocate(ctx, 4L * t * h * pitch);
             DeviceBuffer qb = DeviceBuffer.allocate(ctx, 2L * t * h * pitch);
             DeviceBuffer kb = DeviceBuffer.allocate(ctx, 2L * t * h * pitch);
             DeviceBuffer vb = DeviceBuffer.allocate(ctx, 2L * t * h * pitch);
             DeviceBuffer gb = DeviceBuffer.allocate(ctx, 4L * t * h * pitch);
             DeviceBuffer dbeta = DeviceBuffer.allocate(ctx, 4L * t * h);
             DeviceBuffer dcu = DeviceBuffer.of(ctx, cu); DeviceBuffer dslots = DeviceBuffer.of(ctx, slots);
             DeviceBuffer state = DeviceBuffer.allocate(ctx, 4L * n * h * pitch * pitch);
             DeviceBuffer out = DeviceBuffer.allocate(ctx, 4L * t * h * pitch);
             DeviceBuffer normed = DeviceBuffer.allocate(ctx, 2L * t * hd);
             DeviceBuffer normedLo = DeviceBuffer.allocate(ctx, 2L * t * hd);
             DeviceBuffer chunks = DeviceBuffer.of(ctx, plan.chunks()); DeviceBuffer seqChunks = DeviceBuffer.of(ctx, plan.seqChunks());
             DeviceBuffer scratch = DeviceBuffer.allocate(ctx, KdaChunkKernel.scratchBytes(plan.numChunks(), h, pitch))) {
            for (DeviceBuffer x : new DeviceBuffer[] {pq, pk, pv, pg, gb, dbeta}) {
                x.poison();
            }
            qb.poisonBf16();
            kb.poisonBf16();
            vb.poisonBf16();
            KdaGateKernel.prepare(ctx, dqkv.ptr(), ldqkv, da.ptr(), hd, db.ptr(), h, ddt.ptr(), dal.ptr(), pq.ptr(),
                    pk.ptr(), pv.ptr(), pg.ptr(), dbeta.ptr(), t, h, d, pitch, false);
            KdaGateKernel.prepare(ctx, dqkv.ptr(), ldqkv, da.ptr(), hd, db.ptr(), h, ddt.ptr(), dal.ptr(), qb.ptr(),
                    kb.ptr(), vb.ptr(), gb.ptr(), dbeta.ptr(), t, h, d, pitch, true);
            assertClose(unpad(pq.toFloats(), t * h, d, pitch, "q"), q, 1e-5, "padded q " + shape);
            assertClose(unpad(pk.toFloats(), t * h, d, pitch, "k"), k, 1e-5, "padded k " + shape);
            assertClose(unpad(pv.toFloats(), t * h, d, pitch, "v"), v, 1e-7, "padded v " + shape);
            assertClose(unpad(pg.toFloats(), t * h, d, pitch, "g"), g, 1e-5, "padded g " + shape);
            assertClose(unpad(gb.toFloats(), t * h, d, pitch, "g (bf16 form)"), g, 1e-5, "padded g " + shape);
            assertClose(unpad(GpuTest.fromBf16(qb.toShorts()), t * h, d, pitch, "bf16 q"), GpuTest.bf16Round(q), BF16_ROUNDING,
                    "padded bf16 q " + shape);
            assertClose(unpad(GpuTest.fromBf16(kb.toShorts()), t * h, d, pitch, "bf16 k"), GpuTest.bf16Round(k), BF16_ROUNDING,
                    "padded bf16 k " + shape);
            assertClose(unpad(GpuTest.fromBf16(vb.toShorts()), t * h, d, pitch, "bf16 v"), GpuTest.bf16Round(v), 1e-7,
                    "padded bf16 v " + shape);
            assertClose(dbeta.toFloats(), beta, 1e-5, "beta " + shape);
            float[] paddedState0 = padState(state0, n * h, d, pitch);
            for (int form = 0; form < 3; form++) {   // the recurrence, then the exact and tensor-core chunk forms
                state.upload(paddedState0);
                out.poison();
                scratch.poison();
                double bound = form == 2 ? BF16_BOUND : FP32_BOUND;
                String what = (form == 0 ? "recurrence" : form == 1 ? "exact chunk" : "tensor-core chunk") + " " + shape;
                if (form == 0) {
                    KdaRecurrentKernel.run(ctx, pq.ptr(), pk.ptr(), pv.ptr(), pg.ptr(), dbeta.ptr(), dcu.ptr(),
                            dslots.ptr(), state.ptr(), out.ptr(), n, h, pitch);
                } else {
                    boolean tc = form == 2;
                    KdaChunkKernel.run(ctx, (tc ? qb : pq).ptr(), (tc ? kb : pk).ptr(), (tc ? vb : pv).ptr(),
                            (tc ? gb : pg).ptr(), dbeta.ptr(), chunks.ptr(), seqChunks.ptr(), dslots.ptr(), state.ptr(),
                            out.ptr(), scratch.ptr(), plan.numChunks(), n, h, pitch,
                            tc ? KdaChunkKernel.Form.TENSOR_CORE : KdaChunkKernel.Form.EXACT);
                }
                assertClose(unpad(out.toFloats(), t * h, d, pitch, what + " output"), refOut, bound, what + " output");
                assertClose(unpadState(state.toFloats(), n * h, d, pitch, what), refState, bound, what + " state");
                if (form == 0) {
                    normed.poisonBf16();
                    normedLo.poisonBf16();
                    NormKernel.gatedRmsNorm(ctx, out.ptr(), dz.ptr(), hd, dw.ptr(), 1e-5f, normed.ptr(), normedLo.ptr(),
                            t, h, d, pitch);
                    float[] hi = GpuTest.fromBf16(normed.toShorts());
                    float[] lo = GpuTest.fromBf16(normedLo.toShorts());
                    for (int i = 0; i < hi.length; i++) {
                        hi[i] += lo[i];
                    }
                    assertClose(hi, refNormed, FP32_BOUND, "gated norm over padded heads " + shape);
                }
            }
        }
    }

    /** Rows of {@code pitch} values to rows of their first {@code d}; the rest must be zero (of either sign). */
    private static float[] unpad(float[] x, int rows, int d, int pitch, String what) {
        float[] y = new float[rows * d];
        for (int r = 0; r < rows; r++) {
            System.arraycopy(x, r * pitch, y, r * d, d);
            for (int i = d; i < pitch; i++) {
                float v = x[r * pitch + i];
                assertTrue(v == 0f, what + ": row " + r + " channel " + i + " past the head size holds " + v);
            }
        }
        return y;
    }

    /** States [heads, d, d] to [heads, pitch, pitch], zero past d in both indices. */
    private static float[] padState(float[] x, int heads, int d, int pitch) {
        float[] y = new float[heads * pitch * pitch];
        for (int m = 0; m < heads; m++) {
            for (int i = 0; i < d; i++) {
                System.arraycopy(x, (m * d + i) * d, y, (m * pitch + i) * pitch, d);
            }
        }
        return y;
    }

    /** States [heads, pitch, pitch] to [heads, d, d]; past d in either index they must be zero. */
    private static float[] unpadState(float[] x, int heads, int d, int pitch, String what) {
        float[] y = new float[heads * d * d];
        for (int m = 0; m < heads; m++) {
            for (int i = 0; i < pitch; i++) {
                for (int j = 0; j < pitch; j++) {
                    float v = x[(m * pitch + i) * pitch + j];
                    if (i < d && j < d) {
                        y[(m * d + i) * d + j] = v;
                    } else {
                        assertTrue(v == 0f, what + ": state of head " + m + " at (" + i + ", " + j
                                + ") past the head size holds " + v);
                    }
                }
            }
        }
        return y;
    }

    /** Bounds: fp32 arithmetic for the recurrence and the exact form, bf16 operands for the tensor-core form. */
    private static final double FP32_BOUND = 1e-4;
    private static final double BF16_BOUND = 1e-2;
    /**
     * q and k normalised in fp32 on both sides, then rounded to bf16: values within fp32 noise of
     * a rounding boundary round the other way, one bf16 step (2^-8 relative) each (H100: 9.1e-5 and
     * 3.8e-5 over a few thousand values).
     */
    private static final double BF16_ROUNDING = 1e-3;

    @ParameterizedTest
    @CsvSource({"32,4,'0,100'", "64,2,'0,1,64,127,192,392'", "128,3,'0,65,129,130,260'", "128,2,'0,1,2,3'"})
    void chunkAndRecurrentMatchTheReference(int d, int h, String cuText) {
        int[] cu = Arrays.stream(cuText.split(",")).mapToInt(Integer::parseInt).toArray();
        int t = cu[cu.length - 1];
        Random rnd = new Random(d * 1000L + h * 10L + t);
        check(cu, h, d, Inputs.random(rnd, t, h, d), rnd, true);
    }

    /**
     * Decay far beyond e^-60 within 16 tokens on some channels and stretches (the tensor-core form
     * leaves those channels of the diagonal sub-chunks to its pairwise path), a decay that
     * underflows outright on others, and lengths that are not multiples of the chunk.
     */
    @ParameterizedTest
    @CsvSource({"128,2,'0,200'", "64,3,'0,17,81,180'", "32,2,'0,130,131'"})
    void strongDecayWithinAChunk(int d, int h, String cuText) {
        int[] cu = Arrays.stream(cuText.split(",")).mapToInt(Integer::parseInt).toArray();
        int t = cu[cu.length - 1];
        Random rnd = new Random(77L * d + t);
        Inputs in = Inputs.random(rnd, t, h, d);
        for (int tok = 0; tok < t; tok++) {
            boolean band = (tok / 24) % 3 == 1;
            for (int hh = 0; hh < h; hh++) {
                for (int c = 0; c < d; c++) {
                    int i = (tok * h + hh) * d + c;
                    if (c % 7 == 3 && band) {
                        in.g[i] = -4f - 8f * rnd.nextFloat();
                    } else if (c % 11 == 5) {
                        in.g[i] = -150f * rnd.nextFloat();
                    }
                }
            }
        }
        check(cu, h, d, in, rnd, true);
    }

    /** Many sequences of lengths 1..200 in one batch, with ordinary gates. */
    @Test
    void mixedLengthsOneToTwoHundred() {
        Random rnd = new Random(2024);
        int[] lengths = {1, 200, 64, 63, 65, 2, 1, 128, 17, 199, 1, 100, 33, 129, 5};
        int[] cu = new int[lengths.length + 1];
        for (int i = 0; i < lengths.length; i++) {
            cu[i + 1] = cu[i] + lengths[i];
        }
        int h = 2;
        int d = 128;
        check(cu, h, d, Inputs.random(rnd, cu[lengths.length], h, d), rnd, false);
    }

    /** Runs the recurrence and both chunk forms on one input against the CPU recurrence. */
    private static void check(int[] cu, int h, int d, Inputs in, Random rnd, boolean exactToo) {
        CudaContext ctx = GpuTest.context();
        int n = cu.length - 1;
        int t = cu[n];
        int slotCount = n + 1;
        int[] slots = new int[n];
        for (int s = 0; s < n; s++) {
            slots[s] = (s + 1) % slotCount;
        }
        float[] state0 = GpuTest.random(rnd, slotCount * h * d * d, 0.1f);
        float[] refState = state0.clone();
        float[] ref = new float[t * h * d];
        KdaReference.recurrent(in.q, in.k, in.v, in.g, in.beta, cu, h, d, refState, slots, ref);
        KdaChunkPlan plan = KdaChunkPlan.of(cu);
        String shape = "D=" + d + " H=" + h + " cu=" + Arrays.toString(cu);
        try (DeviceBuffer q = DeviceBuffer.of(ctx, in.q); DeviceBuffer k = DeviceBuffer.of(ctx, in.k);
             DeviceBuffer v = DeviceBuffer.of(ctx, in.v); DeviceBuffer g = DeviceBuffer.of(ctx, in.g);
             DeviceBuffer beta = DeviceBuffer.of(ctx, in.beta); DeviceBuffer dcu = DeviceBuffer.of(ctx, cu);
             DeviceBuffer dslots = DeviceBuffer.of(ctx, slots); DeviceBuffer state = DeviceBuffer.of(ctx, state0);
             DeviceBuffer out = DeviceBuffer.allocate(ctx, 4L * t * h * d);
             DeviceBuffer chunks = DeviceBuffer.of(ctx, plan.chunks()); DeviceBuffer seqChunks = DeviceBuffer.of(ctx, plan.seqChunks());
             DeviceBuffer scratch = DeviceBuffer.allocate(ctx, KdaChunkKernel.scratchBytes(plan.numChunks(), h, d));
             // the tensor-core form reads q, k and v in bf16; its error is measured against the fp32 reference
             DeviceBuffer qb = DeviceBuffer.ofBf16(ctx, GpuTest.bf16(in.q));
             DeviceBuffer kb = DeviceBuffer.ofBf16(ctx, GpuTest.bf16(in.k));
             DeviceBuffer vb = DeviceBuffer.ofBf16(ctx, GpuTest.bf16(in.v))) {
            out.poison();
            KdaRecurrentKernel.run(ctx, q.ptr(), k.ptr(), v.ptr(), g.ptr(), beta.ptr(), dcu.ptr(), dslots.ptr(), state.ptr(),
                    out.ptr(), n, h, d);
            assertClose(out.toFloats(), ref, FP32_BOUND, "recurrent output " + shape);
            assertClose(state.toFloats(), refState, FP32_BOUND, "recurrent state " + shape);
            for (KdaChunkKernel.Form form : KdaChunkKernel.Form.values()) {
                if (form == KdaChunkKernel.Form.EXACT && !exactToo) {
                    continue;
                }
                double bound = form == KdaChunkKernel.Form.EXACT ? FP32_BOUND : BF16_BOUND;
                state.upload(state0);
                out.poison();
                scratch.poison();
                boolean tc = form == KdaChunkKernel.Form.TENSOR_CORE;
                KdaChunkKernel.run(ctx, (tc ? qb : q).ptr(), (tc ? kb : k).ptr(), (tc ? vb : v).ptr(), g.ptr(),
                        beta.ptr(), chunks.ptr(), seqChunks.ptr(), dslots.ptr(), state.ptr(), out.ptr(), scratch.ptr(),
                        plan.numChunks(), n, h, d, form);
                float[] o = out.toFloats();
                float[] st = state.toFloats();
                System.out.printf("kda_chunk %s %s: output %.3e, state %.3e%n", form, shape,
                        GpuTest.relError(o, ref, "output"), GpuTest.relError(st, refState, "state"));
                assertClose(o, ref, bound, form + " chunk output " + shape);
                assertClose(st, refState, bound, form + " chunk state " + shape);
            }
            // every block shape of the tensor-core recurrence that fits, whichever this batch would pick
            boolean wideFits = d >= 64 && KdaChunkKernel.recurSmem(d, 2) <= ctx.device().maxSharedPerBlock();
            for (KdaChunkKernel.RecurShape recur : KdaChunkKernel.RecurShape.values()) {
                if (recur != KdaChunkKernel.RecurShape.NARROW && !wideFits
                        || recur == KdaChunkKernel.RecurShape.WIDE_SHARED && d != 128) {
                    continue;
                }
                state.upload(state0);
                out.poison();
                scratch.poison();
                if (plan.numChunks() > 0) {
                    KdaChunkKernel.intra(ctx, qb.ptr(), kb.ptr(), vb.ptr(), g.ptr(), beta.ptr(), chunks.ptr(),
                            scratch.ptr(), plan.numChunks(), h, d);
                }
                KdaChunkKernel.recur(ctx, chunks.ptr(), seqChunks.ptr(), dslots.ptr(), state.ptr(), out.ptr(),
                        scratch.ptr(), plan.numChunks(), n, h, d, recur);
                String what = recur + " recurrence " + shape;
                assertClose(out.toFloats(), ref, BF16_BOUND, what + " output");
                assertClose(state.toFloats(), refState, BF16_BOUND, what + " state");
            }
        }
    }
}
