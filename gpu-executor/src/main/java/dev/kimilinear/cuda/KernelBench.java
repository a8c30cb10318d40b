package dev.kimilinear.cuda;

import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUevent;
import jcuda.driver.JCudaDriver;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.function.DoubleUnaryOperator;

/**
 * Times every kernel family at Kimi-Linear-48B-A3B shapes (hidden 2304; 32 KDA heads of 128;
 * MLA rank 512 + 64; 256 experts, top-8, width 1024) with CUDA events: median of repeated
 * runs after a warm-up, on random data. Each row gives time, the achieved rate, and its share
 * of a ceiling measured in the same run (device copy bandwidth; our bf16 GEMM at 8192^3).
 */
public final class KernelBench {
    private final CudaContext ctx;
    private final PrintStream out;
    private final int reps;
    private final List<DeviceBuffer> buffers = new ArrayList<>();
    private double copyGBs;
    private double gemmTflops;

    public KernelBench(CudaContext ctx, PrintStream out, int reps) {
        this.ctx = ctx;
        if (GemmKernel.hopper(ctx)) {
            ctx.gemmScratch();   // the products take the paths a loaded model's take
        }
        this.out = out;
        this.reps = reps;
    }

    public static void main(String[] args) {
        int device = args.length > 0 ? Integer.parseInt(args[0]) : 0;
        int reps = args.length > 1 ? Integer.parseInt(args[1]) : 20;
        KernelBench bench = new KernelBench(CudaContext.forDevice(device), System.out, reps);
        if (args.length > 2) {
            bench.run(List.of(args[2].split(",")));
        } else {
            bench.runAll();
        }
    }

    /** Ceilings, then only the named families (gemm, norms, kda, mla, mla-prefill, moe, fp8, sampling). */
    public void run(List<String> families) {
        out.println("device: " + ctx.device());
        ceilings();
        out.printf(Locale.ROOT, "%-22s %-34s %13s  %-16s  %s%n", "kernel", "shape", "time", "rate", "share of ceiling");
        for (String f : families) {
            switch (f.trim()) {
                case "gemm" -> gemms();
                case "norms" -> norms();
                case "kda" -> kda();
                case "mla" -> mla();
                case "mla-prefill" -> mlaPrefills();
                case "moe" -> moe();
                case "moe-split" -> moeSplit();
                case "fp8" -> fp8();
                case "sampling" -> sampling();
                default -> throw new IllegalArgumentException("unknown kernel family '" + f
                        + "' (expected gemm, norms, kda, mla, mla-prefill, moe, fp8 or sampling)");
            }
        }
    }

    private DeviceBuffer random(long floats, float scale) {
        return repeated(floats, floats, x -> x * scale);
    }

    /** log(sigmoid(x)) of standard normal x, repeated as {@link #random}: a log decay below 0 like the model's gate. */
    private DeviceBuffer randomLogSigmoid(long floats) {
        return repeated(floats, floats + 7, x -> -(x > 0 ? Math.log1p(Math.exp(-x)) : -x + Math.log1p(Math.exp(x))));
    }

    /**
     * {@code floats} values f(x) of standard normal x: one random block of 4M values, repeated, so
     * large inputs stay far beyond L2 without minutes of host work.
     */
    private DeviceBuffer repeated(long floats, long seed, DoubleUnaryOperator f) {
        DeviceBuffer b = DeviceBuffer.allocate(ctx, floats * 4);
        Random rnd = new Random(seed);
        float[] tmp = new float[(int) Math.min(1 << 22, floats)];
        for (int i = 0; i < tmp.length; i++) {
            tmp[i] = (float) f.applyAsDouble(rnd.nextGaussian());
        }
        for (long off = 0; off < floats; off += tmp.length) {
            int n = (int) Math.min(tmp.length, floats - off);
            b.upload(n == tmp.length ? tmp : Arrays.copyOf(tmp, n), off * 4);
        }
        buffers.add(b);
        return b;
    }

    private DeviceBuffer randomSigmoid(long floats) {
        DeviceBuffer b = DeviceBuffer.allocate(ctx, floats * 4);
        Random rnd = new Random(floats + 9);
        float[] x = new float[(int) floats];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (1 / (1 + Math.exp(-rnd.nextGaussian())));
        }
        b.upload(x, 0);
        buffers.add(b);
        return b;
    }

    private DeviceBuffer randomBf16(long n, float scale) {
        DeviceBuffer b = DeviceBuffer.allocate(ctx, n * 2);
        Random rnd = new Random(n + 1);
        int chunk = 1 << 22;
        short[] tmp = new short[(int) Math.min(chunk, n)];
        for (int i = 0; i < tmp.length; i++) {
            tmp[i] = dev.kimilinear.checkpoint.HalfFloats.floatToBf16((float) (rnd.nextGaussian() * scale));
        }
        for (long off = 0; off < n; off += tmp.length) {
            int m = (int) Math.min(tmp.length, n - off);
            b.upload(m == tmp.length ? tmp : Arrays.copyOf(tmp, m), off * 2);
        }
        buffers.add(b);
        return b;
    }

    private DeviceBuffer ints(int[] data) {
        DeviceBuffer b = DeviceBuffer.of(ctx, data);
        buffers.add(b);
        return b;
    }

    private DeviceBuffer zeros(long bytes) {
        DeviceBuffer b = DeviceBuffer.allocate(ctx, bytes);
        b.zero();
        buffers.add(b);
        return b;
    }

    private void free() {
        for (DeviceBuffer b : buffers) {
            b.close();
        }
        buffers.clear();
    }

    /** How long the GPU waits before each timed run: more than the host needs to queue one. */
    private static final long HOST_COVER_NS = 1_000_000L;

    /**
     * Median milliseconds of {@code body} on the GPU over the repetitions, after two warm-up
     * runs; host launch latency is kept out (each run is queued behind a delay on the GPU).
     */
    public double time(Runnable body) {
        ctx.bind();
        boolean sync = ctx.syncCheck();
        ctx.setSyncCheck(false);
        CUevent start = new CUevent();
        CUevent end = new CUevent();
        JCudaDriver.cuEventCreate(start, 0);
        JCudaDriver.cuEventCreate(end, 0);
        try {
            body.run();
            body.run();
            ctx.synchronize();
            double[] ms = new double[reps];
            float[] e = {0};
            for (int i = 0; i < reps; i++) {
                // the GPU waits here while the host queues the timed work behind it (kernel_bench.cu)
                Launch.run(ctx, "bench_delay", "ns=" + HOST_COVER_NS, 1, 1, 1, 1, 0, HOST_COVER_NS);
                JCudaDriver.cuEventRecord(start, ctx.rawStream());
                body.run();
                JCudaDriver.cuEventRecord(end, ctx.rawStream());
                CudaStatus.check(JCudaDriver.cuEventSynchronize(end), "cuEventSynchronize");
                JCudaDriver.cuEventElapsedTime(e, start, end);
                ms[i] = e[0];
            }
            Arrays.sort(ms);
            return ms[reps / 2];
        } finally {
            JCudaDriver.cuEventDestroy(start);
            JCudaDriver.cuEventDestroy(end);
            ctx.setSyncCheck(sync);
        }
    }

    private void row(String kernel, String shape, double ms, double bytes, double flops) {
        String rate;
        String pct;
        if (flops > 0 && (bytes <= 0 || flops / (gemmTflops * 1e12) > bytes / (copyGBs * 1e9))) {
            double tf = flops / (ms * 1e-3) / 1e12;
            rate = String.format(Locale.ROOT, "%8.1f TFLOP/s", tf);
            pct = String.format(Locale.ROOT, "%5.1f%% of GEMM", 100 * tf / gemmTflops);
        } else {
            double gb = bytes / (ms * 1e-3) / 1e9;
            rate = String.format(Locale.ROOT, "%8.1f GB/s   ", gb);
            pct = String.format(Locale.ROOT, "%5.1f%% of copy", 100 * gb / copyGBs);
        }
        out.printf(Locale.ROOT, "%-22s %-34s %10.3f ms  %s  %s%n", kernel, shape, ms, rate, pct);
        out.flush();
    }

    public void runAll() {
        out.println("device: " + ctx.device());
        ceilings();
        out.printf(Locale.ROOT, "%-22s %-34s %13s  %-16s  %s%n", "kernel", "shape", "time", "rate", "share of ceiling");
        gemms();
        norms();
        kda();
        mla();
        moe();
        sampling();
    }

    /** The device's copy bandwidth (bytes read + written) and our bf16 GEMM rate at 8192^3. */
    public record Ceilings(double copyGBs, double gemmTflops) {
    }

    /** Measures the ceilings (needs about 2.5 GB free; freed again). */
    public Ceilings measureCeilings() {
        long bytes = 1L << 30;
        DeviceBuffer src = zeros(bytes);
        DeviceBuffer dst = zeros(bytes);
        double ms = time(() -> DeviceBuffer.copy(ctx, dst.ptr(), src.ptr(), bytes));
        double copy = 2.0 * bytes / (ms * 1e-3) / 1e9;
        free();
        int n = 8192;
        DeviceBuffer a = randomBf16((long) n * n, 1f);
        DeviceBuffer b = randomBf16((long) n * n, 1f);
        DeviceBuffer c = zeros(4L * n * n);
        ms = time(() -> GemmKernel.matmul(ctx, a.ptr(), b.ptr(), c.ptr(), GemmKernel.Out.F32, n, n, n));
        double gemm = 2.0 * n * n * n / (ms * 1e-3) / 1e12;
        free();
        return new Ceilings(copy, gemm);
    }

    private void ceilings() {
        Ceilings c = measureCeilings();
        copyGBs = c.copyGBs();
        gemmTflops = c.gemmTflops();
        out.printf(Locale.ROOT, "ceilings: device copy %.0f GB/s (1 GiB, read + write); bf16 GEMM 8192^3 %.1f TFLOP/s (ours)%n",
                copyGBs, gemmTflops);
    }

    private void gemm(String name, int m, int n, int k) {
        gemm(name, m, n, k, GemmKernel.Out.F32, "auto");
    }

    /**
     * One product by a named path: "auto" (what the model gets), "tiled" (the mma.sync tile
     * kernel), "hopper" (the wgmma kernel) or "split" (the K-split decode-sized product).
     */
    private void gemm(String name, int m, int n, int k, GemmKernel.Out type, String path) {
        DeviceBuffer a = randomBf16((long) m * k, 1f);
        DeviceBuffer w = randomBf16((long) n * k, 0.05f);
        int outBytes = type == GemmKernel.Out.F32 ? 4 : 2;
        DeviceBuffer c = zeros((long) outBytes * m * n);
        double ms = time(() -> {
            switch (path) {
                case "tiled" -> GemmKernel.tiled(ctx, a.ptr(), k, 0, w.ptr(), k, 0, c.ptr(), n, 0, type, m, n, k, 1, 1f, 0f);
                case "hopper" -> GemmKernel.warpgroups(ctx, a.ptr(), k, 0, w.ptr(), k, 0, c.ptr(), n, 0, type, m, n, k, 1,
                        1f, 0f);
                case "split" -> GemmKernel.skinnySplit(ctx, a.ptr(), k, w.ptr(), k, c.ptr(), n, type, m, n, k, 1f, 0f);
                default -> GemmKernel.matmul(ctx, a.ptr(), w.ptr(), c.ptr(), type, m, n, k);
            }
        });
        row(name, m + "x" + n + "x" + k, ms, 2.0 * ((long) m * k + (long) n * k) + (double) outBytes * m * n,
                2.0 * m * n * k);
        free();
    }

    /** The few-row products by a named path: "gemv" (CUDA cores) or "skinny" (tensor cores). */
    private void fewRows(String name, boolean skinny, int m, int n, int k) {
        DeviceBuffer a = randomBf16((long) m * k, 1f);
        DeviceBuffer w = randomBf16((long) n * k, 0.05f);
        DeviceBuffer c = zeros(4L * m * n);
        double ms = time(() -> {
            if (skinny) {
                GemmKernel.skinny(ctx, a.ptr(), k, 0, w.ptr(), k, 0, c.ptr(), n, 0, GemmKernel.Out.F32, m, n, k, 1, 1f, 0f);
            } else {
                GemmKernel.gemv(ctx, a.ptr(), k, 0, w.ptr(), k, 0, c.ptr(), n, 0, GemmKernel.Out.F32, m, n, k, 1, 1f, 0f);
            }
        });
        row(name, m + "x" + n + "x" + k, ms, 2.0 * ((long) m * k + (long) n * k) + 4.0 * m * n, 2.0 * m * n * k);
        free();
    }

    private void gemms() {
        gemm("gemm", 16384, 4096, 2304);
        gemm("gemm bf16 out", 16384, 4096, 2304, GemmKernel.Out.BF16, "auto");
        boolean hopper = GemmKernel.hopper(ctx);
        if (hopper) {
            gemm("gemm tile kernel", 16384, 4096, 2304, GemmKernel.Out.F32, "tiled");
            // the Hopper product's stages loaded by tensor copies (TMA) instead of cp.async
            ctx.withTensorCopies(true, () -> {
                gemm("gemm tensor copies", 16384, 4096, 2304);
                gemm("gemm bf16 out tensor copies", 16384, 4096, 2304, GemmKernel.Out.BF16, "auto");
                gemm("gemm kda proj tensor copies", 8192, 12320, 2304);
                gemm("gemm 8192^3 tensor copies", 8192, 8192, 8192);
            });
        }
        gemm("gemm kda proj", 8192, 12320, 2304);
        gemm("gemm moe-like", 8192, 2048, 2304);
        for (int m : new int[] {1, 8}) {
            fewRows("gemv lm_head", false, m, 163840, 2304);
            fewRows("skinny lm_head", true, m, 163840, 2304);
        }
        fewRows("skinny decode kda proj", true, 1, 12320, 2304);
        // few tiles at 256 rows: o_proj and the gate's product split K (GemmKernel.splitCount)
        gemm("gemm decode o_proj", 256, 2304, 4096);
        gemm("gemm decode gate", 256, 256, 2304);
        for (int m : new int[] {1, 8, 16, 32, 64, 256}) {
            gemm("gemm decode kda proj", m, 12320, 2304);
        }
        gemm("gemm decode o_proj", 64, 2304, 4096);
        gemm("gemm decode lm_head", 64, 163840, 2304);
        if (hopper) {
            // the decode-sized rows by each path, for the choice in GemmKernel.batched
            for (int m : new int[] {16, 32, 48, 64}) {
                gemm("  tile kernel", m, 12320, 2304, GemmKernel.Out.F32, "tiled");
                gemm("  split", m, 12320, 2304, GemmKernel.Out.F32, "split");
                gemm("  hopper", m, 12320, 2304, GemmKernel.Out.F32, "hopper");
            }
            gemm("  hopper lm_head", 64, 163840, 2304, GemmKernel.Out.F32, "hopper");
            gemm("  split lm_head", 32, 163840, 2304, GemmKernel.Out.F32, "split");
            gemm("  tile kernel lm_head", 32, 163840, 2304, GemmKernel.Out.F32, "tiled");
        }
    }

    private void norms() {
        int t = 8192;
        int d = 2304;
        DeviceBuffer x = random((long) t * d, 1f);
        DeviceBuffer w = random(d, 1f);
        DeviceBuffer o = zeros(2L * t * d);
        double ms = time(() -> NormKernel.rmsNorm(ctx, x.ptr(), d, w.ptr(), 1e-5f, o.ptr(), d, t, d, true));
        row("rms_norm", "T=8192 d=2304", ms, 6.0 * t * d, 0);
        int c = 3 * 4096;
        DeviceBuffer cx = random((long) t * c, 1f);
        DeviceBuffer cw = random(c * 4L, 0.5f);
        DeviceBuffer st = zeros(4L * c * 3);
        DeviceBuffer co = zeros(4L * t * c);
        DeviceBuffer cu = ints(new int[] {0, t});
        DeviceBuffer seqOf = zeros(4L * t);
        DeviceBuffer slots = ints(new int[] {0});
        ms = time(() -> ShortConvKernel.forward(ctx, cx.ptr(), c, cu.ptr(), seqOf.ptr(), slots.ptr(), cw.ptr(), st.ptr(),
                co.ptr(), t, 1, c, 4));
        row("short_conv", "T=8192 C=12288 K=4", ms, 8.0 * t * c, 0);
        DeviceBuffer gu = random((long) t * 2 * 9216, 1f);
        DeviceBuffer act = zeros(2L * t * 9216);
        ms = time(() -> ActivationKernel.siluMul(ctx, gu.ptr(), 2L * 9216, act.ptr(), 9216, t, 9216));
        row("silu_mul", "T=8192 n=9216", ms, (8.0 + 2.0) * t * 9216, 0);
        free();
    }

    private void kda() {
        int h = 32;
        int d = 128;
        int[][] shapes = {{1, 8192}, {1, 32768}, {8, 4096}};
        for (int[] shape : shapes) {
            int b = shape[0];
            int t = b * shape[1];
            long n = (long) t * h * d;
            // the tensor-core form takes q, k and v in bf16 (as kda_prepare_bf16 writes them)
            DeviceBuffer qb = randomBf16(n, 0.01f);
            DeviceBuffer kb = randomBf16(n, 0.08f);
            DeviceBuffer vb = randomBf16(n, 1f);
            DeviceBuffer g = randomLogSigmoid(n);
            DeviceBuffer beta = randomSigmoid((long) t * h);
            int[] cu = new int[b + 1];
            int[] sl = new int[b];
            for (int i = 0; i < b; i++) {
                cu[i + 1] = cu[i] + shape[1];
                sl[i] = i;
            }
            KdaChunkPlan plan = KdaChunkPlan.of(cu);
            DeviceBuffer chunks = ints(plan.chunks());
            DeviceBuffer seqChunks = ints(plan.seqChunks());
            DeviceBuffer slots = ints(sl);
            DeviceBuffer state = zeros(4L * b * h * d * d);
            DeviceBuffer o = zeros(4 * n);
            DeviceBuffer scratch = zeros(KdaChunkKernel.scratchBytes(plan.numChunks(), h, d));
            // flops of the chunkwise algorithm: per chunk and head ~ (4 C^2 D + 6 C D^2) * 2
            double flops = 2.0 * plan.numChunks() * h * (4.0 * 64 * 64 * d + 6.0 * 64 * d * d);
            String label = "B=" + b + " T=" + shape[1] + " H=32 D=128";
            for (KdaChunkKernel.Form form : KdaChunkKernel.Form.values()) {
                if (form == KdaChunkKernel.Form.EXACT && t > 8192) {
                    continue;
                }
                boolean tc = form == KdaChunkKernel.Form.TENSOR_CORE;
                // the exact form's fp32 inputs only where it runs
                DeviceBuffer fq = tc ? qb : random(n, 0.01f);
                DeviceBuffer fk = tc ? kb : random(n, 0.08f);
                DeviceBuffer fv = tc ? vb : random(n, 1f);
                double ms = time(() -> KdaChunkKernel.run(ctx, fq.ptr(), fk.ptr(), fv.ptr(), g.ptr(), beta.ptr(),
                        chunks.ptr(), seqChunks.ptr(), slots.ptr(), state.ptr(), o.ptr(), scratch.ptr(),
                        plan.numChunks(), b, h, d, form));
                // bytes: q, k, v in the form's precision, g in and the output out in fp32
                row(tc ? "kda_chunk" : "kda_chunk exact", label, ms, (3.0 * form.qkvBytes() + 8) * n, flops);
            }
            // the tensor-core form's two stages, each alone: bytes are what each reads and writes once
            double intraMs = time(() -> KdaChunkKernel.intra(ctx, qb.ptr(), kb.ptr(), vb.ptr(), g.ptr(), beta.ptr(),
                    chunks.ptr(), scratch.ptr(), plan.numChunks(), h, d));
            long perChunks = (long) plan.numChunks() * h;
            row("  stage intra", label, intraMs, 10.0 * n + perChunks * (2.0 * 4 * 64 * d + 2.0 * 64 * 64), 0);
            double recurMs = time(() -> KdaChunkKernel.recur(ctx, chunks.ptr(), seqChunks.ptr(), slots.ptr(),
                    state.ptr(), o.ptr(), scratch.ptr(), plan.numChunks(), b, h, d));
            row("  stage recur", label, recurMs, perChunks * (2.0 * 4 * 64 * d + 2.0 * 64 * 64) + 4.0 * n, 0);
            free();
        }
        for (int nseq : new int[] {1, 64, 256}) {
            long n = (long) nseq * h * d;
            DeviceBuffer q = random(n, 0.01f);
            DeviceBuffer k = random(n, 0.08f);
            DeviceBuffer v = random(n, 1f);
            DeviceBuffer g = random(n, 0.1f);
            DeviceBuffer beta = random((long) nseq * h, 0.3f);
            int[] cu = new int[nseq + 1];
            int[] sl = new int[nseq];
            for (int i = 0; i < nseq; i++) {
                cu[i + 1] = i + 1;
                sl[i] = i;
            }
            DeviceBuffer dcu = ints(cu);
            DeviceBuffer slots = ints(sl);
            DeviceBuffer state = random((long) nseq * h * d * d, 0.01f);
            DeviceBuffer o = zeros(4 * n);
            double ms = time(() -> KdaRecurrentKernel.run(ctx, q.ptr(), k.ptr(), v.ptr(), g.ptr(), beta.ptr(), dcu.ptr(),
                    slots.ptr(), state.ptr(), o.ptr(), nseq, h, d));
            row("kda_recurrent", "decode N=" + nseq + " H=32 D=128", ms, 8.0 * nseq * h * d * d, 0);
            free();
        }
    }

    // Kimi-Linear-48B-A3B's MLA: 32 heads, latent 512 + rotary 64, nope 128 (q·k over 192); 64-row pages
    private static final int MLA_H = 32;
    private static final int MLA_R = 512;
    private static final int MLA_DR = 64;
    private static final int MLA_DN = 128;
    private static final int MLA_DQK = MLA_DN + MLA_DR;
    private static final int MLA_PAGE = 64;

    private void mla() {
        int heads = MLA_H, r = MLA_R, dr = MLA_DR, dn = MLA_DN, dqk = MLA_DQK, page = MLA_PAGE;
        for (int[] shape : new int[][] {{1, 4096}, {64, 4096}, {256, 1024}}) {
            int nseq = shape[0];
            int ctxLen = shape[1];
            int pagesPer = (ctxLen + 1 + page - 1) / page;
            DeviceBuffer cache = randomBf16((long) nseq * pagesPer * page * (r + dr), 1f);
            int[] tables = new int[nseq * pagesPer];
            for (int i = 0; i < tables.length; i++) {
                tables[i] = i;
            }
            int[] cu = new int[nseq + 1];
            int[] ctxs = new int[nseq];
            int[] seqOf = new int[nseq];
            for (int i = 0; i < nseq; i++) {
                cu[i + 1] = i + 1;
                ctxs[i] = ctxLen;
                seqOf[i] = i;
            }
            DeviceBuffer qa = random((long) nseq * heads * r, 0.05f);
            DeviceBuffer q = random((long) nseq * heads * dqk, 0.05f);
            DeviceBuffer dt = ints(tables);
            DeviceBuffer dcu = ints(cu);
            DeviceBuffer dctx = ints(ctxs);
            DeviceBuffer dseq = ints(seqOf);
            DeviceBuffer o = zeros(2L * nseq * heads * r);
            double ms = time(() -> MlaDecodeKernel.attention(ctx, qa.ptr(), q.ptr(), (long) heads * dqk, cache.ptr(),
                    dt.ptr(), pagesPer, page, dcu.ptr(), dctx.ptr(), dseq.ptr(), o.ptr(), nseq, heads, r, dr, dqk, dn,
                    0.07f));
            row("mla_absorbed decode", "N=" + nseq + " ctx=" + ctxLen + " H=32", ms,
                    2.0 * nseq * (ctxLen + 1) * (r + dr), 0);
            DeviceBuffer partials = zeros(MlaDecodeKernel.partialBytes(nseq, heads, r, ctx.device().multiprocessors()));
            DeviceBuffer qaBf16 = randomBf16((long) nseq * heads * r, 0.05f);
            DeviceBuffer order = ints(MlaDecodeKernel.longestFirst(ctxs));
            ms = time(() -> MlaDecodeKernel.decode(ctx, qaBf16.ptr(), q.ptr(), (long) heads * dqk, cache.ptr(), dt.ptr(),
                    pagesPer, page, dctx.ptr(), order.ptr(), ctxLen, partials.ptr(), o.ptr(), nseq, heads, r, dr, dqk, dn,
                    0.07f));
            // every byte the kernel must move: the cached rows, the queries (bf16 absorbed part,
            // fp32 rotary part) and the bf16 output
            double cacheBytes = 2.0 * nseq * (ctxLen + 1) * (r + dr);
            double queryBytes = (double) nseq * heads * (2.0 * r + 4.0 * dr);
            double outBytes = 2.0 * nseq * heads * r;
            row("mla_decode_split", "N=" + nseq + " ctx=" + ctxLen + " H=32", ms, cacheBytes + queryBytes + outBytes, 0);
            out.printf(Locale.ROOT, "  (cached rows alone: %.1f%% of copy)%n", 100 * cacheBytes / (ms * 1e-3) / 1e9 / copyGBs);
            free();
        }
        mlaMixed(64, 8192);
        mlaMixed(256, 2048);
        mlaMixed(200, 1500);
        mlaPrefills();
    }

    /** The prefill attention's aims: one chunk of 8k and of 32k, a 131k prompt in chunks of 8k. */
    private void mlaPrefills() {
        mlaPrefill(8192, 8192);
        mlaPrefill(32768, 32768);
        mlaPrefill(131072, 8192);
        if (GemmKernel.hopper(ctx)) {
            // K and V^T tiles (and the expansion products) loaded by tensor copies
            out.println("  the same, loads by tensor copies:");
            ctx.withTensorCopies(true, () -> {
                mlaPrefill(8192, 8192);
                mlaPrefill(32768, 32768);
                mlaPrefill(131072, 8192);
            });
        }
    }

    /**
     * Prefill attention of one prompt of {@code total} tokens in chunks of {@code chunk}, each
     * chunk against everything cached before it: the whole pass (gather, expand, attend) and
     * the attention kernel alone. Rated by the causal FLOPs torch's SDPA counts for the same
     * attention (32 heads, q/k 192, v 128), so bench/sdpa_mla.py's figures compare directly.
     */
    private void mlaPrefill(int total, int chunk) {
        int heads = MLA_H, r = MLA_R, dr = MLA_DR, dqk = MLA_DQK, page = MLA_PAGE, width = r + dr;
        int pages = (total + page - 1) / page;
        DeviceBuffer cache = randomBf16((long) pages * page * width, 1f);
        int[] tables = new int[pages];
        for (int i = 0; i < pages; i++) {
            tables[i] = i;
        }
        DeviceBuffer dt = ints(tables);
        DeviceBuffer q = randomBf16((long) chunk * heads * dqk, 1f);
        DeviceBuffer wUk = randomBf16((long) heads * MlaPrefillKernel.NOPE * r, 0.05f);
        DeviceBuffer wUv = randomBf16((long) heads * MlaPrefillKernel.VALUE * r, 0.05f);
        DeviceBuffer o = zeros(2L * chunk * heads * MlaPrefillKernel.VALUE);
        int capacity = MlaPrefillPlan.roundUp(total);
        DeviceBuffer scratch = zeros(MlaPrefillKernel.Scratch.bytes(capacity, chunk, heads, width));
        MlaPrefillKernel.Scratch sc = MlaPrefillKernel.Scratch.at(scratch.ptr(), capacity, chunk, heads, width);
        DeviceBuffer dcu = ints(new int[] {0, chunk});
        int steps = total / chunk;
        MlaPrefillPlan[] plans = new MlaPrefillPlan[steps];
        DeviceBuffer[] planInts = new DeviceBuffer[steps];
        DeviceBuffer[] ctxLens = new DeviceBuffer[steps];
        long pairs = 0;
        for (int i = 0; i < steps; i++) {
            int[] ctxs = {i * chunk};
            plans[i] = MlaPrefillPlan.of(new int[] {0, chunk}, ctxs, 0, capacity);
            planInts[i] = ints(plans[i].flatten());
            ctxLens[i] = ints(ctxs);
            pairs += MlaPrefillPlan.causalPairs(new int[] {0, chunk}, ctxs, 0);
        }
        double flops = 2.0 * pairs * heads * (dqk + MlaPrefillKernel.VALUE);
        String shape = (steps == 1 ? "T=" + total : total + " in " + steps + "x" + chunk) + " H=32";
        double ms = time(() -> {
            for (int i = 0; i < steps; i++) {
                MlaPrefillKernel.run(ctx, plans[i], planInts[i].ptr(), q.ptr(), (long) heads * dqk, cache.ptr(),
                        dt.ptr(), pages, page, dcu.ptr(), ctxLens[i].ptr(), wUk.ptr(), wUv.ptr(), sc, o.ptr(),
                        (long) heads * MlaPrefillKernel.VALUE, heads, r);
            }
        });
        row("mla_prefill", shape, ms, 0, flops);
        // the attention alone, over keys expanded once (the last chunk's: every chunk reads a prefix of them)
        MlaPrefillKernel.run(ctx, plans[steps - 1], planInts[steps - 1].ptr(), q.ptr(), (long) heads * dqk,
                cache.ptr(), dt.ptr(), pages, page, dcu.ptr(), ctxLens[steps - 1].ptr(), wUk.ptr(), wUv.ptr(), sc,
                o.ptr(), (long) heads * MlaPrefillKernel.VALUE, heads, r);
        ms = time(() -> {
            for (int i = 0; i < steps; i++) {
                MlaPrefillPlan.Pass pass = plans[i].passes().get(0);
                CUdeviceptr pieces = planInts[i].ptr();
                CUdeviceptr maps = MlaPrefillKernel.maps(ctx, sc.kn(), (long) heads * 128, sc.rows(), width, width,
                        sc.vt(), capacity, heads, pass.rows());
                MlaPrefillKernel.attention(ctx, q.ptr(), (long) heads * dqk, sc.kn(), (long) heads * 128, sc.rows(),
                        width, r, sc.vt(), capacity, dcu.ptr(), ctxLens[i].ptr(), pieces,
                        pieces.withByteOffset(4L * pass.pieces().length), pass.numWork(), o.ptr(),
                        (long) heads * MlaPrefillKernel.VALUE, sc.oacc(), sc.ml(), heads, maps);
            }
        });
        row("mla_prefill attention", shape, ms, 0, flops);
        free();
    }

    /**
     * The split decode over contexts of uniformly random length below maxLen, as real batches
     * have them: sequences taken in index order and longest first (where blocks take several
     * sequences: more of them than SMs; otherwise each sequence is cut into its own slices).
     */
    private void mlaMixed(int nseq, int maxLen) {
        int heads = MLA_H, r = MLA_R, dr = MLA_DR, dn = MLA_DN, dqk = MLA_DQK, page = MLA_PAGE;
        Random rnd = new Random(nseq * 31L + maxLen);
        int[] ctxs = new int[nseq];
        long rows = 0;
        for (int i = 0; i < nseq; i++) {
            ctxs[i] = rnd.nextInt(maxLen);
            rows += ctxs[i] + 1;
        }
        int maxContext = Arrays.stream(ctxs).max().orElse(0);
        int maxPages = (maxContext + 1 + page - 1) / page;
        int[] tables = new int[nseq * maxPages];
        int next = 0;
        for (int i = 0; i < nseq; i++) {
            int pages = (ctxs[i] + 1 + page - 1) / page;
            for (int p = 0; p < pages; p++) {
                tables[i * maxPages + p] = next++;
            }
        }
        DeviceBuffer cache = randomBf16((long) next * page * (r + dr), 1f);
        DeviceBuffer qa = randomBf16((long) nseq * heads * r, 0.05f);
        DeviceBuffer q = random((long) nseq * heads * dqk, 0.05f);
        DeviceBuffer dt = ints(tables);
        DeviceBuffer dctx = ints(ctxs);
        DeviceBuffer order = ints(MlaDecodeKernel.longestFirst(ctxs));
        DeviceBuffer partials = zeros(MlaDecodeKernel.partialBytes(nseq, heads, r, ctx.device().multiprocessors()));
        DeviceBuffer o = zeros(2L * nseq * heads * r);
        double cacheBytes = 2.0 * rows * (r + dr);
        double bytes = cacheBytes + (double) nseq * heads * (2.0 * r + 4.0 * dr) + 2.0 * nseq * heads * r;
        String shape = "N=" + nseq + " ctx<" + maxLen + " mixed";
        boolean several = nseq > ctx.device().multiprocessors();
        for (boolean sorted : several ? new boolean[] {false, true} : new boolean[] {true}) {
            CUdeviceptr ord = sorted ? order.ptr() : null;
            double ms = time(() -> MlaDecodeKernel.decode(ctx, qa.ptr(), q.ptr(), (long) heads * dqk, cache.ptr(),
                    dt.ptr(), maxPages, page, dctx.ptr(), ord, maxContext, partials.ptr(), o.ptr(), nseq, heads, r, dr,
                    dqk, dn, 0.07f));
            row("mla_decode_split", shape + (!several ? "" : sorted ? " longest 1st" : " index order"), ms, bytes, 0);
        }
        free();
    }

    /** Router logits (fp32 tokens by bf16 router rows, 256 experts) on either kernel, decode to prefill sizes. */
    private void router() {
        int d = 2304;
        int e = 256;
        DeviceBuffer w = randomBf16((long) e * d, 0.02f);
        for (int t : new int[] {64, 256, 1024, 8192}) {
            DeviceBuffer x = random((long) t * d, 1f);
            DeviceBuffer logits = zeros(4L * t * e);
            for (boolean tiled : new boolean[] {false, true}) {
                double ms = time(() -> MoeKernel.routerLogits(ctx, x.ptr(), d, w.ptr(), logits.ptr(), t, e, d, tiled));
                row(tiled ? "router logits (tiled)" : "router logits (warp each)", "T=" + t + " E=256", ms,
                        4.0 * t * d + 2.0 * e * d + 4.0 * t * e, 2.0 * t * e * d);
            }
            if (t >= MoeKernel.ROUTER_TILED_MIN_TOKENS) {
                // the forward's form for such steps: the rows as bf16 hi and lo planes (written by
                // the norm it runs anyway, so not timed here), one tensor-core product each
                DeviceBuffer planes = randomBf16(2L * t * d, 1f);
                double ms = time(() -> {
                    GemmKernel.matmul(ctx, planes.ptr(), d, w.ptr(), d, logits.ptr(), e, GemmKernel.Out.F32, t, e, d, 1f,
                            0f);
                    GemmKernel.matmul(ctx, planes.at(2L * t * d), d, w.ptr(), d, logits.ptr(), e, GemmKernel.Out.F32, t,
                            e, d, 1f, 1f);
                });
                row("router logits (hi+lo products)", "T=" + t + " E=256", ms, 4.0 * t * d + 2.0 * e * d + 8.0 * t * e,
                        4.0 * t * e * d);
                buffers.remove(planes);
                planes.close();
            }
            buffers.remove(x);
            x.close();
            buffers.remove(logits);
            logits.close();
        }
        free();
    }

    private void moe() {
        router();
        int d = 2304;
        int e = 256;
        int k = 8;
        int inter = 1024;
        DeviceBuffer w13 = randomBf16((long) e * 2 * inter * d, 0.02f);
        DeviceBuffer w2 = randomBf16((long) e * d * inter, 0.02f);
        for (int t : new int[] {1, 64, 8192}) {
            int rows = t * k;
            int maxTiles = MoeKernel.maxTiles(rows, e);
            DeviceBuffer logits = random((long) t * e, 1f);
            DeviceBuffer bias = random(e, 0.1f);
            DeviceBuffer x = randomBf16((long) t * d, 1f);
            DeviceBuffer ids = zeros(4L * rows);
            DeviceBuffer wts = zeros(4L * rows);
            DeviceBuffer counts = zeros(4L * e);
            DeviceBuffer cursors = zeros(4L * e);
            DeviceBuffer offsets = zeros(4L * (e + 1));
            DeviceBuffer tiles = zeros(8L * maxTiles);
            DeviceBuffer numTiles = zeros(4);
            DeviceBuffer xperm = zeros(2L * rows * d);
            DeviceBuffer rowPos = zeros(4L * rows);
            DeviceBuffer gu = zeros(8L * rows * inter);
            DeviceBuffer act = zeros(2L * rows * inter);
            DeviceBuffer down = zeros(4L * rows * d);
            DeviceBuffer h = zeros(4L * t * d);
            int touched = Math.min(e, rows);
            double weightBytes = 2.0 * touched * 3L * inter * d;
            int planned = GemmKernel.groupedTileRows(ctx, rows);
            boolean fusable = GemmKernel.fusesGroupedSwiglu(ctx, planned, xperm.ptr(), d, w13.ptr(), d, 2L * inter * d, d);
            // prefill-sized steps on Hopper: SwiGLU in the gate/up product's stores (the forward's
            // form) beside the fp32 gate/up rows and a separate activation pass
            for (int form = 0; form < (fusable ? 3 : 1); form++) {
                boolean fused = form > 0;
                boolean copies = form == 2;   // the fused form again, its stages loaded by tensor copies
                double[] timed = new double[1];
                ctx.withTensorCopies(copies, () -> timed[0] = time(() -> {
                    MoeKernel.route(ctx, logits.ptr(), bias.ptr(), t, e, k, 1, 1, true, 2.446f, false, ids.ptr(),
                            wts.ptr());
                    int tileRows = MoeKernel.dispatch(ctx, ids.ptr(), t, k, e, counts.ptr(), offsets.ptr(), tiles.ptr(),
                            numTiles.ptr(), cursors.ptr(), x.ptr(), d, xperm.ptr(), rowPos.ptr(), d);
                    if (fused) {
                        GemmKernel.groupedSwiglu(ctx, xperm.ptr(), d, w13.ptr(), d, 2L * inter * d, act.ptr(), inter,
                                offsets.ptr(), tiles.ptr(), numTiles.ptr(), maxTiles, inter, d, 1f);
                    } else {
                        GemmKernel.grouped(ctx, xperm.ptr(), d, w13.ptr(), d, 2L * inter * d, gu.ptr(), 2L * inter,
                                GemmKernel.Out.F32, offsets.ptr(), tiles.ptr(), numTiles.ptr(), maxTiles, tileRows,
                                2 * inter, d, 1f, 0f);
                        ActivationKernel.siluMul(ctx, gu.ptr(), 2L * inter, act.ptr(), inter, rows, inter);
                    }
                    GemmKernel.grouped(ctx, act.ptr(), inter, w2.ptr(), inter, (long) d * inter, down.ptr(), d,
                            GemmKernel.Out.F32, offsets.ptr(), tiles.ptr(), numTiles.ptr(), maxTiles, tileRows, d, inter,
                            1f, 0f);
                    MoeKernel.combine(ctx, down.ptr(), rowPos.ptr(), wts.ptr(), k, h.ptr(), t, d);
                }));
                row(copies ? "  same, tensor copies" : fused ? "moe experts (swiglu in gate/up)" : "moe experts",
                        "T=" + t + " E=256 k=8 I=1024", timed[0], weightBytes, 2.0 * rows * 3L * inter * d);
            }
            buffers.remove(w13);
            buffers.remove(w2);
            free();
            buffers.add(w13);
            buffers.add(w2);
        }
        free();
    }

    /**
     * The bf16 experts of a decode step product by product (gate and up 2048 x 2304, down
     * 2304 x 1024; 256 experts, top-8, 16-row tiles) on the grouped split kernel with K in 8 and
     * in 4 slices: the weights every touched expert streams once, over copy bandwidth.
     */
    private void moeSplit() {
        if (!GemmKernel.hopper(ctx)) {
            out.println("moe-split: the split products run on sm_90; this is " + ctx.device());
            return;
        }
        int d = 2304;
        int e = 256;
        int inter = 1024;
        DeviceBuffer w13 = randomBf16((long) e * 2 * inter * d, 0.02f);
        DeviceBuffer w2 = randomBf16((long) e * d * inter, 0.02f);
        for (int t : new int[] {64, 256}) {
            int rows = t * 8;
            RoutedTiles routed = RoutedTiles.random(new Random(t), rows, e, GemmKernel.GROUPED_SPLIT_TILE_ROWS);
            int[] counts = routed.counts();
            int tiles = routed.numTiles();
            long touched = Arrays.stream(counts).filter(cnt -> cnt > 0).count();
            DeviceBuffer off = ints(routed.offsets());
            DeviceBuffer tl = ints(routed.tiles());
            DeviceBuffer nt = ints(new int[] {tiles});
            DeviceBuffer x = randomBf16((long) rows * d, 1f);
            DeviceBuffer act = randomBf16((long) rows * inter, 1f);
            DeviceBuffer gu = zeros(4L * rows * 2 * inter);
            DeviceBuffer down = zeros(4L * rows * d);
            for (int slices : new int[] {8, 4}) {
                double gate = time(() -> GemmKernel.groupedSplit(ctx, x.ptr(), d, w13.ptr(), d, 2L * inter * d,
                        gu.ptr(), 2L * inter, GemmKernel.Out.F32, off.ptr(), tl.ptr(), nt.ptr(), tiles, 2 * inter, d,
                        1f, 0f, slices));
                row("experts gate+up s" + slices, "T=" + t + " touched " + touched, gate, touched * 2.0 * 2 * inter * d,
                        2.0 * rows * 2 * inter * d);
                double dn = time(() -> GemmKernel.groupedSplit(ctx, act.ptr(), inter, w2.ptr(), inter,
                        (long) d * inter, down.ptr(), d, GemmKernel.Out.F32, off.ptr(), tl.ptr(), nt.ptr(), tiles, d,
                        inter, 1f, 0f, slices));
                row("experts down s" + slices, "T=" + t + " touched " + touched, dn, touched * 2.0 * inter * d,
                        2.0 * rows * inter * d);
            }
            for (DeviceBuffer b : new DeviceBuffer[] {off, tl, nt, x, act, gu, down}) {
                buffers.remove(b);
                b.close();
            }
        }
        free();
    }

    /** Rows routed uniformly at random to experts: counts, offsets and a tile list of tileRows-row tiles. */
    private record RoutedTiles(int[] counts, int[] offsets, int[] tiles, int numTiles) {
        static RoutedTiles random(Random rnd, int rows, int experts, int tileRows) {
            int[] counts = new int[experts];
            for (int r = 0; r < rows; r++) {
                counts[rnd.nextInt(experts)]++;
            }
            ExpertTiles plan = ExpertTiles.plan(counts, tileRows);
            return new RoutedTiles(counts, plan.offsets(), plan.tiles(), plan.numTiles());
        }
    }

    /** bf16 rows quantised to e4m3 on the device: codes [rows, cols] and a scale per row. */
    private DeviceBuffer[] fp8Weight(long rows, int cols) {
        DeviceBuffer w = randomBf16(rows * cols, 0.05f);
        DeviceBuffer q = zeros(rows * cols);
        DeviceBuffer scales = zeros(4 * rows);
        GemmFp8Kernel.quantize(ctx, w.ptr(), cols, (int) rows, cols, q.ptr(), cols, scales.ptr());
        ctx.synchronize();
        buffers.remove(w);
        w.close();
        return new DeviceBuffer[] {q, scales};
    }

    /**
     * e4m3 weights: the decode-sized products reading the codes (beside the bf16 split product
     * on the same shape), the expert-grouped decode product, and the widened path prefill takes.
     */
    private void fp8() {
        if (!GemmFp8Kernel.direct(ctx)) {
            out.println("fp8: the e4m3 products run on sm_90; this is " + ctx.device());
            return;
        }
        int[][] shapes = {{12320, 2304}, {2304, 4096}, {4096, 2304}, {2048, 2304}};
        for (int[] nk : shapes) {
            int n = nk[0];
            int k = nk[1];
            for (int m : new int[] {1, 16, 64}) {
                DeviceBuffer a = randomBf16((long) m * k, 1f);
                DeviceBuffer[] w = fp8Weight(n, k);
                DeviceBuffer c = zeros(4L * m * n);
                double ms = time(() -> GemmFp8Kernel.decode(ctx, a.ptr(), k, w[0].ptr(), k, w[1].ptr(), c.ptr(), n,
                        GemmKernel.Out.F32, m, n, k, 1f, 0f));
                row("fp8 decode", m + "x" + n + "x" + k, ms, (double) n * k + 4.0 * n + 2.0 * m * k + 4.0 * m * n,
                        2.0 * m * n * k);
                if (m > 16) {
                    // the prefill form at decode-sized rows: activations quantised, then e4m3 wgmma
                    DeviceBuffer aq = zeros((long) m * k);
                    DeviceBuffer sa = zeros(4L * m);
                    double wg = time(() -> {
                        GemmFp8Kernel.quantize(ctx, a.ptr(), k, m, k, aq.ptr(), k, sa.ptr());
                        GemmFp8Kernel.prefill(ctx, aq.ptr(), k, sa.ptr(), w[0].ptr(), k, w[1].ptr(), c.ptr(), n,
                                GemmKernel.Out.F32, m, n, k, 1f, 0f);
                    });
                    row("  fp8 wgmma", m + "x" + n + "x" + k, wg, (double) n * k + 4.0 * n + 2.0 * m * k + 4.0 * m * n,
                            2.0 * m * n * k);
                }
                free();
                gemm("  bf16 split", m, n, k, GemmKernel.Out.F32, m <= 64 && k >= 1024 ? "split" : "auto");
            }
        }
        // the experts of a decode step: 256 experts of 2 x 1024 x 2304 (gate and up) and 2304 x 1024 (down)
        int d = 2304;
        int e = 256;
        int inter = 1024;
        DeviceBuffer[] w13 = fp8Weight((long) e * 2 * inter, d);
        DeviceBuffer[] w2 = fp8Weight((long) e * d, inter);
        for (int t : new int[] {16, 64, 256}) {
            int rows = t * 8;
            RoutedTiles routed = RoutedTiles.random(new Random(t), rows, e, GemmKernel.GROUPED_SPLIT_TILE_ROWS);
            int[] counts = routed.counts();
            int tiles = routed.numTiles();
            DeviceBuffer off = ints(routed.offsets());
            DeviceBuffer tl = ints(routed.tiles());
            DeviceBuffer nt = ints(new int[] {tiles});
            DeviceBuffer x = randomBf16((long) rows * d, 1f);
            DeviceBuffer act = randomBf16((long) rows * inter, 1f);
            DeviceBuffer gu = zeros(8L * rows * inter);
            DeviceBuffer down = zeros(4L * rows * d);
            long touched = Arrays.stream(counts).filter(cnt -> cnt > 0).count();
            double ms = time(() -> {
                GemmFp8Kernel.grouped(ctx, x.ptr(), d, w13[0].ptr(), d, 2L * inter * d, w13[1].ptr(), gu.ptr(),
                        2L * inter, GemmKernel.Out.F32, off.ptr(), tl.ptr(), nt.ptr(), tiles, 2 * inter, d, 1f, 0f);
                GemmFp8Kernel.grouped(ctx, act.ptr(), inter, w2[0].ptr(), inter, (long) d * inter, w2[1].ptr(),
                        down.ptr(), d, GemmKernel.Out.F32, off.ptr(), tl.ptr(), nt.ptr(), tiles, d, inter, 1f, 0f);
            });
            row("fp8 experts decode", "T=" + t + " E=256 k=8 touched " + touched, ms, touched * 3.0 * inter * d,
                    2.0 * rows * 3L * inter * d);
            for (DeviceBuffer b : new DeviceBuffer[] {off, tl, nt, x, act, gu, down}) {
                buffers.remove(b);
                b.close();
            }
        }
        free();
        // prefill-sized rows: e4m3 by e4m3 on wgmma after quantising the activations per row (sm_90),
        // and the widened weight (dequantise, then the bf16 product) that other devices take
        int m = 16384;
        int n = 4096;
        int k = 2304;
        DeviceBuffer a = randomBf16((long) m * k, 1f);
        DeviceBuffer[] w = fp8Weight(n, k);
        DeviceBuffer aq = zeros((long) m * k);
        DeviceBuffer sa = zeros(4L * m);
        DeviceBuffer c = zeros(2L * m * n);
        double quantMs = time(() -> GemmFp8Kernel.quantize(ctx, a.ptr(), k, m, k, aq.ptr(), k, sa.ptr()));
        row("fp8 quantize rows", m + "x" + k, quantMs, 2.0 * m * k + (double) m * k + 4.0 * m, 0);
        double gemmMs = time(() -> GemmFp8Kernel.prefill(ctx, aq.ptr(), k, sa.ptr(), w[0].ptr(), k, w[1].ptr(), c.ptr(),
                n, GemmKernel.Out.BF16, m, n, k, 1f, 0f));
        row("fp8 gemm (e4m3 wgmma)", m + "x" + n + "x" + k, gemmMs, 0, 2.0 * m * n * k);
        row("fp8 quantize + gemm", m + "x" + n + "x" + k, quantMs + gemmMs, 0, 2.0 * m * n * k);
        if (GemmKernel.hopper(ctx)) {
            ctx.withTensorCopies(true, () -> row("  fp8 gemm, tensor copies", m + "x" + n + "x" + k, time(() -> GemmFp8Kernel.prefill(
                    ctx, aq.ptr(), k, sa.ptr(), w[0].ptr(), k, w[1].ptr(), c.ptr(), n, GemmKernel.Out.BF16, m, n, k, 1f,
                    0f)), 0, 2.0 * m * n * k));
        }
        DeviceBuffer wide = zeros(2L * n * k);
        double ms = time(() -> {
            GemmFp8Kernel.dequantize(ctx, w[0].ptr(), k, w[1].ptr(), n, k, wide.ptr(), k);
            GemmKernel.matmul(ctx, a.ptr(), wide.ptr(), c.ptr(), GemmKernel.Out.BF16, m, n, k);
        });
        row("fp8 gemm (widened)", m + "x" + n + "x" + k, ms, 0, 2.0 * m * n * k);
        free();
        gemm("  bf16 gemm bf16 out", m, n, k, GemmKernel.Out.BF16, "auto");
        if (GemmKernel.hopper(ctx)) {
            ctx.withTensorCopies(true, () -> gemm("  bf16 gemm bf16 out, tensor copies", m, n, k, GemmKernel.Out.BF16, "auto"));
        }
    }

    private void sampling() {
        int vocab = 163840;
        for (int rows : new int[] {1, 256}) {
            DeviceBuffer logits = random((long) rows * vocab, 3f);
            DeviceBuffer outIds = zeros(4L * rows);
            double ms = time(() -> SamplingKernel.argmax(ctx, logits.ptr(), vocab, rows, vocab, outIds.ptr()));
            row("argmax", "rows=" + rows + " V=163840", ms, 4.0 * rows * vocab, 0);
            free();
        }
        // the engine's choice of a step's tokens (kernel, answers back, synchronisation): each pass
        // over the rows counts as a read of them
        String[] kinds = {"greedy", "T=0.8 p=0.95", "T=0.8 k=50 p=0.95 logprobs=20"};
        int[] passes = {1, 5, 11};
        for (int rows : new int[] {64, 256}) {
            DeviceBuffer logits = random((long) rows * vocab, 3f);
            for (int kind = 0; kind < kinds.length; kind++) {
                dev.kimilinear.engine.RowChoices choices = new dev.kimilinear.engine.RowChoices(vocab);
                for (int r = 0; r < rows; r++) {
                    dev.kimilinear.engine.SamplingParams p = switch (kind) {
                        case 0 -> dev.kimilinear.engine.SamplingParams.greedy(1);
                        case 1 -> new dev.kimilinear.engine.SamplingParams(1, 0.8, 0.95, 0, r, java.util.List.of(),
                                java.util.List.of(), 1, -1);
                        default -> new dev.kimilinear.engine.SamplingParams(1, 0.8, 0.95, 50, r, java.util.List.of(),
                                java.util.List.of(), 1, 20);
                    };
                    choices.add(r, p, 0, 0);
                }
                try (SamplingKernel.Room room = new SamplingKernel.Room(ctx)) {
                    SamplingKernel.stage(ctx, choices, room);
                    double ms = time(() -> SamplingKernel.choose(ctx, logits.ptr(), vocab, vocab, choices, room));
                    row("choose " + kinds[kind], "rows=" + rows + " V=163840", ms, 4.0 * rows * vocab * passes[kind], 0);
                }
            }
            free();
        }
    }
}
