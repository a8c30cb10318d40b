package dev.kimilinear.cuda;

import dev.kimilinear.checkpoint.Checkpoint;
import dev.kimilinear.checkpoint.DType;
import dev.kimilinear.checkpoint.Fp8Quantizer;
import dev.kimilinear.checkpoint.HalfFloats;
import dev.kimilinear.checkpoint.Tensor;
import dev.kimilinear.engine.Backend;
import dev.kimilinear.engine.LayerProbe;
import dev.kimilinear.engine.RowChoices;
import dev.kimilinear.engine.StepBatch;
import dev.kimilinear.engine.TokenChooser;
import dev.kimilinear.model.KimiLinearConfig;
import dev.kimilinear.model.KimiLinearConfig.KdaConfig;
import dev.kimilinear.model.KimiLinearConfig.MlaConfig;
import dev.kimilinear.model.KimiLinearConfig.MoeConfig;
import dev.kimilinear.model.LayerRange;
import dev.kimilinear.model.ModelWeights;
import dev.kimilinear.model.WeightPrecision;
import jcuda.driver.CUdeviceptr;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A Kimi Linear model resident on one GPU: bf16 weights uploaded once, a workspace sized for
 * {@link #maxBatchTokens()} tokens, per-slot KDA state (conv and recurrent, fp32) and a paged
 * bf16 latent cache per MLA layer. One {@link #forward} runs packed sequences (prompt chunks
 * or single decode tokens, each continuing its slot and cached context) and returns the
 * logits of the rows asked for; it allocates nothing. Built over a {@link LayerRange}, it is one
 * stage of a {@link PipelineModel}: the same forward over a contiguous run of layers.
 */
public final class CudaModel implements Backend {
    private final CudaContext ctx;
    private final KimiLinearConfig cfg;
    private final int pageSize;
    private final int maxTokens;
    private final int maxSeqs;
    private final DeviceWeights weights;
    private final CUdeviceptr embed;
    private final CUdeviceptr finalNorm;
    private final CUdeviceptr lmHead;
    /** The decoder layers held here (every layer, or one pipeline stage's; see {@link LayerRange}). */
    private final LayerRange range;
    private final List<Object> layers = new ArrayList<>();   // range's layers in order
    private final int[] ordinal;
    private final int kdaLayers;   // of range, each with its state buffers
    private final int mlaLayers;   // of range, each with its latent pages
    private final Workspace ws;
    private final Buffers b;
    private final ActivationPrecision precision;
    private final WeightPrecision weightPrecision;
    private final boolean split;
    /** MLA prompt chunks on the tensor-core prefill attention (sm_90, bf16, Kimi Linear's head widths). */
    private final boolean flashPrefill;
    private final int prefillCapacity;
    private final int logitRows;
    /** Channels per KDA head in q, k, v, g, the state and the output: the built head size holding the model's. */
    private final int kdaPitch;
    private DeviceBuffer prefillPlan;   // the step's MlaPrefillPlan, grown when a step needs more
    private SamplingKernel.Room choiceRoom;   // the step's choices and answers
    private boolean chooseOnHost;
    private float[] hostLogits = new float[0];
    private TokenChooser hostChooser;
    private LayerProbe probe;
    // diagnostic switch: -Dkimi.cuda.noDecodeGraphs=true runs every decode step kernel by kernel
    private boolean decodeGraphs = !Boolean.getBoolean("kimi.cuda.noDecodeGraphs");
    /** Captured decode steps by batch shape (tokens, logit rows, block-table pitch), most recent last. */
    private final java.util.LinkedHashMap<Long, CudaGraph> graphs = new java.util.LinkedHashMap<>(16, 0.75f, true);
    private static final int MAX_GRAPHS = 32;
    /** Logit rows beyond one per sequence that a forward may ask for (prompt scoring, parity recordings). */
    static final int LOGIT_ROWS = 4096;
    /** Fewest gathered key rows per pass of the prefill attention. */
    private static final int MIN_PREFILL_CAPACITY = 16384;

    private DeviceBuffer[] convState;   // per KDA layer [slots, 3*H*D, K-1]
    private DeviceBuffer[] kdaState;    // per KDA layer [slots, H, D, D]
    private DeviceBuffer[] latent;      // per MLA layer [pages * pageSize, r + dr] bf16
    // the engine's slots and pages; one more of each (index slots, pages) is the scratch that
    // padding sequences of a bucketed decode graph run in
    private int slots;
    private int pages;

    private record Kda(CUdeviceptr inNorm, CUdeviceptr postNorm, LinearWeight wProj, LinearWeight wFgA,
                       LinearWeight wFb, LinearWeight wGb, CUdeviceptr conv, CUdeviceptr dtBias, CUdeviceptr aLog,
                       CUdeviceptr oNorm, LinearWeight wO, Object mlp) {
    }

    /**
     * wQKva: [q_proj | kv_a_proj], or with a q LoRA [q_a_proj | kv_a_proj] (then qANorm and wQb, else
     * null); wUk, wUv: kv_b_proj's key and value rows, head after head (null without the prefill attention).
     */
    private record Mla(CUdeviceptr inNorm, CUdeviceptr postNorm, LinearWeight wQKva, CUdeviceptr qANorm,
                       LinearWeight wQb, CUdeviceptr kvNorm, CUdeviceptr wUkT, CUdeviceptr wKvb, CUdeviceptr wUk,
                       CUdeviceptr wUv, LinearWeight wO, Object mlp) {
    }

    private record Dense(LinearWeight wGateUp, LinearWeight wDown, int width) {
    }

    private record Moe(CUdeviceptr router, CUdeviceptr bias, LinearWeight w13, LinearWeight w2, Dense shared) {
    }

    /**
     * A bf16 activation operand of the matrix products: hi, and in {@link ActivationPrecision#SPLIT}
     * the plane lo of remainders (null otherwise); both share one layout.
     */
    private record Operand(CUdeviceptr hi, CUdeviceptr lo) {
        Operand at(long bytes) {
            return new Operand(hi.withByteOffset(bytes), lo == null ? null : lo.withByteOffset(bytes));
        }
    }

    /** Addresses of the workspace regions. */
    private record Buffers(CUdeviceptr h, Operand xn, CUdeviceptr proj, CUdeviceptr convOut, Operand fg,
                           CUdeviceptr a, CUdeviceptr z, CUdeviceptr q, CUdeviceptr k, CUdeviceptr v, CUdeviceptr g,
                           CUdeviceptr beta, CUdeviceptr o, Operand act, CUdeviceptr chunkScratch, Operand qb,
                           CUdeviceptr qa, CUdeviceptr cnorm, Operand ctxLat, CUdeviceptr mlaPartials, CUdeviceptr wide,
                           CUdeviceptr routerLogits, CUdeviceptr ids, CUdeviceptr rw, CUdeviceptr counts,
                           CUdeviceptr cursors, CUdeviceptr offsets, CUdeviceptr tiles, CUdeviceptr numTiles,
                           Operand xperm, CUdeviceptr gu, CUdeviceptr down, CUdeviceptr rowPos, Operand hn,
                           CUdeviceptr logits, CUdeviceptr meta, int metaInts, int maxTiles, boolean splitDecode,
                           MlaPrefillKernel.Scratch prefill, CUdeviceptr qLow, Operand qLowNorm) {
    }

    /**
     * @param maxBatchTokens most tokens of one forward (and most sequences: {@code maxSeqs})
     */
    public static CudaModel load(Path modelDir, int device, int pageSize, int maxBatchTokens, int maxSeqs) {
        return load(modelDir, device, pageSize, maxBatchTokens, maxSeqs, ActivationPrecision.BF16);
    }

    public static CudaModel load(Path modelDir, int device, int pageSize, int maxBatchTokens, int maxSeqs,
                                 ActivationPrecision precision) {
        return load(modelDir, device, pageSize, maxBatchTokens, maxSeqs, precision, WeightPrecision.BF16);
    }

    public static CudaModel load(Path modelDir, int device, int pageSize, int maxBatchTokens, int maxSeqs,
                                 ActivationPrecision precision, WeightPrecision weights) {
        CudaAvailability.require();
        KimiLinearConfig cfg = KimiLinearConfig.load(modelDir.resolve("config.json"));
        try (Checkpoint ckpt = Checkpoint.open(modelDir)) {
            return new CudaModel(CudaContext.forDevice(device), ModelWeights.bind(cfg, ckpt), pageSize, maxBatchTokens,
                    maxSeqs, precision, true, weights);
        }
    }

    public CudaModel(CudaContext ctx, ModelWeights w, int pageSize, int maxBatchTokens, int maxSeqs) {
        this(ctx, w, pageSize, maxBatchTokens, maxSeqs, ActivationPrecision.BF16);
    }

    public CudaModel(CudaContext ctx, ModelWeights w, int pageSize, int maxBatchTokens, int maxSeqs,
                     ActivationPrecision precision) {
        this(ctx, w, pageSize, maxBatchTokens, maxSeqs, precision, true);
    }

    /**
     * @param prefillAttention whether prompt chunks may take the tensor-core prefill attention
     *                         where it runs (false: the absorbed kernel for every token, as on
     *                         other devices; for comparisons)
     */
    public CudaModel(CudaContext ctx, ModelWeights w, int pageSize, int maxBatchTokens, int maxSeqs,
                     ActivationPrecision precision, boolean prefillAttention) {
        this(ctx, w, pageSize, maxBatchTokens, maxSeqs, precision, prefillAttention, WeightPrecision.BF16);
    }

    /** @param weightPrecision how the linear layers' weights are held */
    public CudaModel(CudaContext ctx, ModelWeights w, int pageSize, int maxBatchTokens, int maxSeqs,
                     ActivationPrecision precision, boolean prefillAttention, WeightPrecision weightPrecision) {
        this(ctx, w, pageSize, maxBatchTokens, maxSeqs, precision, prefillAttention, weightPrecision,
                LayerRange.all(w.config()));
    }

    /**
     * One pipeline stage: only range's layers (their weights, state slots and latent pages), the
     * embedding and the head only where range holds them. A stage without the embedding starts
     * from the residual stream written into {@link #hidden()}; one without the head leaves it there.
     */
    CudaModel(CudaContext ctx, ModelWeights w, int pageSize, int maxBatchTokens, int maxSeqs,
              ActivationPrecision precision, boolean prefillAttention, WeightPrecision weightPrecision,
              LayerRange range) {
        range.check(w.config());
        this.range = range;
        this.ctx = ctx;
        this.weightPrecision = weightPrecision;
        this.precision = precision;
        this.split = precision == ActivationPrecision.SPLIT;
        if (split && weightPrecision == WeightPrecision.FP8) {
            throw new CudaException("CUDA backend: fp8 weights run with bf16 activations, not split precision");
        }
        this.cfg = w.config();
        this.pageSize = pageSize;
        this.maxTokens = maxBatchTokens;
        this.maxSeqs = Math.min(maxSeqs, maxBatchTokens);
        // logits beyond every sequence's last row plus a prefill chunk's worth are never asked for
        this.logitRows = Math.min(maxBatchTokens, this.maxSeqs + LOGIT_ROWS);
        MlaConfig mc = cfg.mla();
        this.flashPrefill = prefillAttention && mc != null && !split
                && MlaPrefillKernel.supported(ctx, mc.qkNopeHeadDim(), mc.qkRopeHeadDim(), mc.vHeadDim(), mc.kvLoraRank())
                && MlaDecodeKernel.splitDecodeFits(mc.numHeads(), mc.kvLoraRank(), mc.qkRopeHeadDim());
        this.prefillCapacity = MlaPrefillPlan.roundUp(Math.max(2 * maxBatchTokens, MIN_PREFILL_CAPACITY));
        checkLimits(cfg);
        this.kdaPitch = cfg.kda() == null ? 0 : KdaRecurrentKernel.headPitch(cfg.kda().headDim());
        ctx.bind();
        // the most rows one product multiplies: a step's tokens, times top-k once routed
        int routed = cfg.moe() == null ? 1 : Math.max(1, cfg.moe().topK());
        this.weights = new DeviceWeights(ctx, Math.multiplyExact(maxBatchTokens, routed));
        this.embed = range.embedding() ? weights.stack(w.embedTokens()) : null;
        this.finalNorm = range.head() ? weights.floats(w.finalNorm()) : null;
        this.lmHead = range.head() ? weights.stack(w.lmHead()) : null;
        this.ordinal = new int[cfg.numLayers()];
        int nk = 0;
        int nm = 0;
        for (int l = range.from(); l < range.to(); l++) {
            ModelWeights.Layer lw = w.layers().get(l);
            ordinal[l] = cfg.isKda(l) ? nk++ : nm++;
            Object mlp = lw.moe() != null ? uploadMoe(lw.moe()) : uploadDense(lw.dense());
            CUdeviceptr inNorm = weights.floats(lw.inputNorm());
            CUdeviceptr postNorm = weights.floats(lw.postAttentionNorm());
            if (lw.kda() != null) {
                ModelWeights.Kda k = lw.kda();
                layers.add(new Kda(inNorm, postNorm, linear(k.qProj(), k.kProj(), k.vProj(), k.bProj()),
                        linear(k.fAProj(), k.gAProj()), linear(k.fBProj()), linear(k.gBProj()),
                        weights.floats(k.qConv(), k.kConv(), k.vConv()), weights.floats(k.dtBias()),
                        weights.floats(k.aLog()), weights.floats(k.oNorm()), linear(k.oProj()), mlp));
            } else {
                ModelWeights.Mla m = lw.mla();
                short[] kvB = kvBValues(m.kvBProj());
                CUdeviceptr wUk = null;
                CUdeviceptr wUv = null;
                if (flashPrefill) {
                    short[][] uk = MlaPrefillKernel.splitKvB(kvB, mc.numHeads(), mc.qkNopeHeadDim(), mc.vHeadDim(),
                            mc.kvLoraRank());
                    wUk = weights.bf16Array(uk[0]);
                    wUv = weights.bf16Array(uk[1]);
                }
                boolean qLora = m.qProj() == null;
                layers.add(new Mla(inNorm, postNorm, linear(qLora ? m.qAProj() : m.qProj(), m.kvAProj()),
                        qLora ? weights.floats(m.qANorm()) : null, qLora ? linear(m.qBProj()) : null,
                        weights.floats(m.kvANorm()), weights.bf16Array(transposedUk(kvB)), weights.bf16Array(kvB), wUk,
                        wUv, linear(m.oProj()), mlp));
            }
        }
        this.kdaLayers = nk;
        this.mlaLayers = nm;
        weights.finish();
        Carver sizing = new Carver(null);
        layout(sizing);
        this.ws = new Workspace(ctx, sizing.total);
        this.b = layout(new Carver(ws));
        if (GemmKernel.hopper(ctx)) {
            ctx.gemmScratch();   // decode-sized products split K into it (held before any graph records them)
        }
    }

    /**
     * The few sizes the kernels hold in fixed arrays, checked before anything is uploaded; any
     * other size runs (see KERNEL_NOTES.md, "Shapes off the fast path").
     */
    static void checkLimits(KimiLinearConfig cfg) {
        KdaConfig k = cfg.kda();
        if (k != null) {
            KdaRecurrentKernel.headPitch(k.headDim());
            if (k.convKernel() > ShortConvKernel.MAX_KERNEL) {
                throw new CudaException("CUDA backend: linear_conv_kernel_dim " + k.convKernel() + " exceeds the "
                        + ShortConvKernel.MAX_KERNEL + " the short convolution is built for");
            }
        }
        MlaConfig m = cfg.mla();
        if (m != null && m.kvLoraRank() > MlaDecodeKernel.MAX_ABSORBED_RANK) {
            throw new CudaException("CUDA backend: kv_lora_rank " + m.kvLoraRank() + " exceeds the "
                    + MlaDecodeKernel.MAX_ABSORBED_RANK + " the MLA attention kernels hold");
        }
        MoeConfig e = cfg.moe();
        if (e != null) {
            MoeKernel.checkRouting(e.numExperts(), e.numGroups(), e.topK());
        }
    }

    private Dense uploadDense(ModelWeights.Mlp m) {
        return new Dense(linear(m.gate(), m.up()), linear(m.down()), (int) m.gate().dim(0));
    }

    /** A linear layer's weight in the model's weight precision. */
    private LinearWeight linear(Tensor... parts) {
        return weights.linear(weightPrecision, parts);
    }

    private Moe uploadMoe(ModelWeights.Moe m) {
        MoeConfig mc = cfg.moe();
        Tensor[] w13 = new Tensor[2 * mc.numExperts()];
        Tensor[] w2 = new Tensor[mc.numExperts()];
        for (int e = 0; e < mc.numExperts(); e++) {
            w13[2 * e] = m.experts().get(e).gate();
            w13[2 * e + 1] = m.experts().get(e).up();
            w2[e] = m.experts().get(e).down();
        }
        return new Moe(weights.stack(m.router()), weights.floats(m.correctionBias()),
                weights.experts(weightPrecision, mc.numExperts(), w13), weights.experts(weightPrecision, mc.numExperts(), w2),
                m.shared() == null ? null : uploadDense(m.shared()));
    }

    /**
     * kv_b_proj in bf16. It is read in absorbed forms (split and transposed per head), never by a
     * linear product, so it stays bf16 in every precision; in fp8 it holds its e4m3 values
     * (quantised on the host as an FP8 checkpoint stores them), so that a model quantised here
     * and the same model read from its FP8 checkpoint are one model.
     */
    private short[] kvBValues(Tensor kvB) {
        if (weightPrecision != WeightPrecision.FP8 || kvB.dtype() == DType.F8_E4M3) {
            return DeviceWeights.bf16(kvB);
        }
        int rows = (int) kvB.dim(0);
        int cols = (int) kvB.dim(1);
        Fp8Quantizer.Quantized q = Fp8Quantizer.quantize(kvB.toFloats(), rows, cols);
        short[] out = new short[rows * cols];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                out[r * cols + c] = HalfFloats.floatToBf16(q.value(r, c));
            }
        }
        return out;
    }

    /** W_uk per head, transposed to [H, r, dn] so the absorption is a product with a [N, K] weight. */
    private short[] transposedUk(short[] src) {
        MlaConfig m = cfg.mla();
        int dn = m.qkNopeHeadDim();
        int dv = m.vHeadDim();
        int r = m.kvLoraRank();
        short[] out = new short[m.numHeads() * r * dn];
        for (int h = 0; h < m.numHeads(); h++) {
            for (int i = 0; i < dn; i++) {
                for (int c = 0; c < r; c++) {
                    out[(h * r + c) * dn + i] = src[(h * (dn + dv) + i) * r + c];
                }
            }
        }
        return out;
    }

    private int maxChunks() {
        return (maxTokens + KdaChunkKernel.CHUNK - 1) / KdaChunkKernel.CHUNK + maxSeqs;
    }

    /**
     * Takes every workspace region in order; with a null workspace it only adds up the bytes
     * (the first of two passes over {@link #layout}).
     */
    private final class Carver {
        private final Workspace ws;
        private long total;

        Carver(Workspace ws) {
            this.ws = ws;
        }

        CUdeviceptr take(String what, long bytes) {
            bytes = Math.max(bytes, 4);
            if (ws == null) {
                total += Workspace.aligned(bytes);
                return null;
            }
            return ws.take(what, bytes);
        }

        /** A bf16 activation region: one plane, or hi and lo planes in {@link ActivationPrecision#SPLIT}. */
        Operand operand(String what, long planeBytes) {
            long plane = Workspace.aligned(Math.max(planeBytes, 4));
            if (!split) {
                return new Operand(take(what, plane), null);
            }
            CUdeviceptr hi = take(what, 2 * plane);
            return new Operand(hi, hi == null ? null : hi.withByteOffset(plane));
        }
    }

    private Buffers layout(Carver c) {
        int d = cfg.hiddenSize();
        int t = maxTokens;
        KdaConfig kda = cfg.kda();
        MlaConfig mla = cfg.mla();
        MoeConfig moe = cfg.moe();
        int hd = kda == null ? 0 : kda.width();
        int paddedHd = kda == null ? 0 : kda.numHeads() * kdaPitch;   // q, k, v, g and o: heads of kdaPitch channels
        int projW = Math.max(hd * 3 + (kda == null ? 0 : kda.numHeads()),
                mla == null ? 0 : mla.numHeads() * mla.qkHeadDim() + mla.latentWidth());
        int mlpW = 2 * cfg.intermediateSize();
        int actW = Math.max(hd, cfg.intermediateSize());
        int wideW = 1;
        if (mla != null) {
            actW = Math.max(actW, mla.numHeads() * mla.vHeadDim());
            wideW = Math.max(wideW, mla.numHeads() * mla.vHeadDim());
        }
        if (moe != null) {
            mlpW = Math.max(mlpW, 2 * moe.intermediateSize() * Math.max(1, moe.numSharedExperts()));
            mlpW = Math.max(mlpW, moe.numExperts());
            actW = Math.max(actW, moe.intermediateSize() * Math.max(1, moe.numSharedExperts()));
        }
        projW = Math.max(projW, mlpW);
        int routed = moe == null ? 0 : t * moe.topK();
        int experts = moe == null ? 1 : moe.numExperts();
        int maxTiles = moe == null ? 1 : MoeKernel.maxTiles(routed, experts);
        int headDim = kda == null ? 0 : kda.headDim();
        wideW = Math.max(wideW, 2 * headDim);
        int kh = kda == null ? 0 : kda.numHeads();
        int qLora = mla == null ? 0 : mla.qLoraRank();
        long qkv = 4L * t * paddedHd;
        boolean splitDecode = mla != null && !split
                && MlaDecodeKernel.splitDecodeFits(mla.numHeads(), mla.kvLoraRank(), mla.qkRopeHeadDim());
        // absorbed queries and contexts: every token on the general kernel; only the decode
        // prefix of a step where prompt chunks take the prefill attention
        long mlaRows = flashPrefill ? maxSeqs : t;
        return new Buffers(
                c.take("h", 4L * t * d),
                c.operand("xn", 2L * t * d),
                c.take("proj", 4L * t * projW),
                c.take("convOut", 4L * t * 3 * hd),
                c.operand("fg", 2L * t * 2 * headDim),
                c.take("a", 4L * t * hd), c.take("z", 4L * t * hd),
                c.take("q", qkv), c.take("k", qkv), c.take("v", qkv), c.take("g", qkv),
                c.take("beta", 4L * t * kh),
                c.take("o", 4L * t * Math.max(paddedHd, 1)),
                c.operand("act", 2L * Math.max(t, routed) * Math.max(actW, 1)),
                c.take("kda chunk scratch", kda == null ? 0 : KdaChunkKernel.scratchBytes(maxChunks(), kh, kdaPitch)),
                c.operand("qb", mla == null ? 0 : 2L * t * mla.numHeads() * mla.qkHeadDim()),
                c.take("qa", mla == null ? 0 : 4L * mlaRows * mla.numHeads() * mla.kvLoraRank()),
                c.take("cnorm", mla == null ? 0 : 4L * t * mla.kvLoraRank()),
                c.operand("ctxLat", mla == null ? 0 : 2L * mlaRows * mla.numHeads() * mla.kvLoraRank()),
                c.take("mla partials", splitDecode ? MlaDecodeKernel.partialBytes(maxSeqs, mla.numHeads(),
                        mla.kvLoraRank(), ctx.device().multiprocessors()) : 0),
                c.take("wide", split ? 4L * t * wideW : 0),
                c.take("router logits", 4L * t * experts),
                c.take("ids", 4L * Math.max(routed, 1)), c.take("route weights", 4L * Math.max(routed, 1)),
                c.take("counts", 4L * experts), c.take("cursors", 4L * experts), c.take("offsets", 4L * (experts + 1)),
                c.take("tiles", 8L * maxTiles), c.take("numTiles", 4),
                c.operand("xperm", 2L * routed * d),
                c.take("gu", 4L * Math.max((long) routed * 2 * (moe == null ? 0 : moe.intermediateSize()),
                        (long) t * mlpW)),
                c.take("down", 4L * routed * d),
                c.take("rowPos", 4L * Math.max(routed, 1)),
                c.operand("hn", 2L * t * d),
                c.take("logits", range.head() ? 4L * logitRows * cfg.vocabSize() : 0),
                c.take("meta", 4L * metaCapacity()),
                metaCapacity(), maxTiles, splitDecode, prefillScratch(c),
                c.take("q low", qLora == 0 ? 0 : 4L * t * (qLora + mla.latentWidth())),
                c.operand("q low norm", 2L * t * qLora));
    }

    private MlaPrefillKernel.Scratch prefillScratch(Carver c) {
        if (!flashPrefill) {
            return null;
        }
        MlaConfig m = cfg.mla();
        int width = m.latentWidth();
        CUdeviceptr base = c.take("mla prefill scratch",
                MlaPrefillKernel.Scratch.bytes(prefillCapacity, maxTokens, m.numHeads(), width));
        return base == null ? null
                : MlaPrefillKernel.Scratch.at(base, prefillCapacity, maxTokens, m.numHeads(), width);
    }

    private int metaCapacity() {
        // tokens, seqOf, rowOf, logitRows [T each]; cuSeqlens, slots, ctxLens, seqChunks [N+1];
        // decode order [N]; chunks [2 * maxChunks]; block tables [N * pagesPerSeq]
        return 4 * maxTokens + 5 * (maxSeqs + 1) + 2 * maxChunks() + maxSeqs * pagesPerSeq();
    }

    private int pagesPerSeq() {
        return Math.max(64, 131072 / Math.max(1, maxSeqs));
    }

    @Override
    public KimiLinearConfig config() {
        return cfg;
    }

    @Override
    public String name() {
        return "cuda:" + ctx.device().index();
    }

    /** The decoder layers this model holds. */
    LayerRange range() {
        return range;
    }

    @Override
    public int pageSize() {
        return pageSize;
    }

    @Override
    public long bytesPerSlot() {
        KdaConfig k = cfg.kda();
        if (k == null) {
            return 0;
        }
        long floats = 3L * k.width() * (k.convKernel() - 1) + recurrentStateFloats(k);
        return floats * kdaLayers * Float.BYTES;
    }

    /** fp32 values of one slot's recurrent state in one KDA layer: [H, pitch, pitch], heads at their built size. */
    static long recurrentStateFloats(KdaConfig k) {
        int pitch = KdaRecurrentKernel.headPitch(k.headDim());
        return (long) k.numHeads() * pitch * pitch;
    }

    @Override
    public long bytesPerPage() {
        MlaConfig m = cfg.mla();
        return m == null ? 0 : (long) mlaLayers * pageSize * m.latentWidth() * cacheElementBytes();
    }

    @Override
    public long freeBytes() {
        // less the scratch slot and page that reserve adds for padded decode graphs; what an
        // earlier reserve holds counts as free, since the next one releases it first
        return ctx.memoryInfo()[0] + reservedBytes() - bytesPerSlot() - bytesPerPage();
    }

    /** Bytes the slots and pages of the last {@link #reserve} hold (its scratch slot and page included). */
    long reservedBytes() {
        return latent == null ? 0 : (slots + 1L) * bytesPerSlot() + (pages + 1L) * bytesPerPage();
    }

    @Override
    public int maxBatchTokens() {
        return maxTokens;
    }

    @Override
    public int maxLogitRows() {
        return logitRows;
    }

    /**
     * Whether {@link #forward} copies every logits row to the host and chooses there (as the
     * engine did before tokens crossed the seam): for comparisons and benchmarks. Off by default.
     */
    public void setChooseOnHost(boolean on) {
        chooseOnHost = on;
    }

    /** Whether prompt chunks take the tensor-core prefill attention of MLA layers (see {@link MlaPrefillKernel}). */
    public boolean flashPrefill() {
        return flashPrefill;
    }

    private int cacheElementBytes() {
        return split ? 4 : 2;
    }

    public ActivationPrecision precision() {
        return precision;
    }

    /**
     * Receives the residual stream after each layer's attention and MLP blocks during later
     * forwards (null: none). Each observation downloads the hidden state: for debugging and
     * layer-by-layer comparisons, not for serving.
     */
    @Override
    public void setProbe(LayerProbe probe) {
        this.probe = probe;
    }

    /** The context this model's memory and stream belong to. */
    public CudaContext context() {
        return ctx;
    }

    /** Most sequences one forward may carry. */
    public int maxSequences() {
        return maxSeqs;
    }

    /** Bytes of weights on the device. */
    public long weightBytes() {
        return weights.bytes();
    }

    @Override
    public void reserve(int slots, int pages) {
        freeState();
        ctx.bind();
        int nk = kdaLayers;
        int nm = mlaLayers;
        convState = new DeviceBuffer[nk];
        kdaState = new DeviceBuffer[nk];
        latent = new DeviceBuffer[nm];
        KdaConfig k = cfg.kda();
        for (int i = 0; i < nk; i++) {
            convState[i] = DeviceBuffer.allocate(ctx, 4L * (slots + 1) * 3 * k.width() * (k.convKernel() - 1));
            kdaState[i] = DeviceBuffer.allocate(ctx, 4L * (slots + 1) * recurrentStateFloats(k));
            convState[i].zero();
            kdaState[i].zero();
        }
        for (int i = 0; i < nm; i++) {
            latent[i] = DeviceBuffer.allocate(ctx,
                    (long) cacheElementBytes() * (pages + 1) * pageSize * cfg.mla().latentWidth());
        }
        this.slots = slots;
        this.pages = pages;
    }

    private void checkSlot(int slot) {
        if (slot < 0 || slot >= slots) {
            throw new IllegalArgumentException("slot " + slot + " outside the " + slots + " reserved");
        }
    }

    @Override
    public void resetSlot(int slot) {
        checkSlot(slot);
        for (int i = 0; i < kdaLayers; i++) {
            long c = convState[i].bytes() / (slots + 1);
            long s = kdaState[i].bytes() / (slots + 1);
            convState[i].zero(c * slot, c);
            kdaState[i].zero(s * slot, s);
        }
    }

    @Override
    public void copySlot(int from, int to) {
        checkSlot(from);
        checkSlot(to);
        for (int i = 0; i < kdaLayers; i++) {
            long c = convState[i].bytes() / (slots + 1);
            long s = kdaState[i].bytes() / (slots + 1);
            DeviceBuffer.copy(ctx, convState[i].at(c * to), convState[i].at(c * from), c);
            DeviceBuffer.copy(ctx, kdaState[i].at(s * to), kdaState[i].at(s * from), s);
        }
    }

    /**
     * One held KDA layer's state in a slot, as bytes: its convolution windows, then its recurrent
     * state (for moving a sequence to another model of the same shapes).
     */
    byte[] slotState(int layer, int slot) {
        int i = heldOrdinal(layer, true);
        checkSlot(slot);
        long c = convState[i].bytes() / (slots + 1);
        long s = kdaState[i].bytes() / (slots + 1);
        byte[] out = new byte[Math.toIntExact(c + s)];
        System.arraycopy(convState[i].readBytes(c * slot, (int) c), 0, out, 0, (int) c);
        System.arraycopy(kdaState[i].readBytes(s * slot, (int) s), 0, out, (int) c, (int) s);
        return out;
    }

    /** Sets one held KDA layer's state in a slot from {@link #slotState}'s bytes. */
    void setSlotState(int layer, int slot, byte[] state) {
        int i = heldOrdinal(layer, true);
        checkSlot(slot);
        long c = convState[i].bytes() / (slots + 1);
        long s = kdaState[i].bytes() / (slots + 1);
        if (state.length != c + s) {
            throw new IllegalArgumentException("slot state of " + state.length + " bytes; layer " + layer + " holds "
                    + (c + s));
        }
        convState[i].upload(java.util.Arrays.copyOfRange(state, 0, (int) c), c * slot);
        kdaState[i].upload(java.util.Arrays.copyOfRange(state, (int) c, state.length), s * slot);
    }

    /** One held MLA layer's latent rows in a page, as bytes. */
    byte[] pageState(int layer, int page) {
        int i = heldOrdinal(layer, false);
        checkPage(page);
        long per = latent[i].bytes() / (pages + 1);
        return latent[i].readBytes(per * page, (int) per);
    }

    /** Sets one held MLA layer's latent rows in a page from {@link #pageState}'s bytes. */
    void setPageState(int layer, int page, byte[] rows) {
        int i = heldOrdinal(layer, false);
        checkPage(page);
        long per = latent[i].bytes() / (pages + 1);
        if (rows.length != per) {
            throw new IllegalArgumentException("page of " + rows.length + " bytes; layer " + layer + " takes " + per);
        }
        latent[i].upload(rows, per * page);
    }

    private void checkPage(int page) {
        if (page < 0 || page >= pages) {
            throw new IllegalArgumentException("page " + page + " outside the " + pages + " reserved");
        }
    }

    /** Index of a held layer among the held layers of its kind (KDA or MLA). */
    private int heldOrdinal(int layer, boolean kda) {
        if (convState == null) {
            throw new IllegalStateException("reserve(slots, pages) must come before the state is read");
        }
        if (!range.contains(layer) || cfg.isKda(layer) != kda) {
            throw new IllegalArgumentException("layer " + layer + " is not a " + (kda ? "KDA" : "MLA")
                    + " layer of this model's range " + range.from() + ".." + range.to());
        }
        return ordinal[layer];
    }

    @Override
    public void copyPage(int from, int to) {
        if (from < 0 || from >= pages || to < 0 || to >= pages) {
            throw new IllegalArgumentException("page " + from + " or " + to + " outside the " + pages + " reserved");
        }
        for (DeviceBuffer l : latent) {
            long p = l.bytes() / (pages + 1);
            DeviceBuffer.copy(ctx, l.at(p * to), l.at(p * from), p);
        }
    }

    @Override
    public void forward(StepBatch batch, RowChoices choices) {
        requireHead();
        int rows = batch.logitRows().length;
        for (int i = 0; i < choices.count(); i++) {
            if (choices.row(i) >= rows) {
                throw new IllegalArgumentException("choice " + i + " reads logits row " + choices.row(i)
                        + " of a step that computes " + rows);
            }
        }
        if (chooseOnHost) {
            int need = rows * cfg.vocabSize();
            if (hostLogits.length < need) {
                hostLogits = new float[need];
                hostChooser = new TokenChooser(cfg.vocabSize());
            }
            logits(batch, hostLogits);
            hostChooser.chooseAll(hostLogits, cfg.vocabSize(), choices);
            return;
        }
        if (choiceRoom == null) {
            choiceRoom = new SamplingKernel.Room(ctx);
        }
        ctx.bind();
        SamplingKernel.stage(ctx, choices, choiceRoom);
        run(batch);
        SamplingKernel.choose(ctx, b.logits(), cfg.vocabSize(), cfg.vocabSize(), choices, choiceRoom);
    }

    @Override
    public void logits(StepBatch batch, float[] logits) {
        requireHead();
        int rows = batch.logitRows().length;
        int vocab = cfg.vocabSize();
        if (logits.length < (long) rows * vocab) {
            throw new IllegalArgumentException("logits array of " + logits.length + " floats; " + rows + " rows of "
                    + vocab + " are needed");
        }
        run(batch);
        ctx.stream().synchronize();
        CudaStatus.check(jcuda.driver.JCudaDriver.cuMemcpyDtoH(jcuda.Pointer.to(logits), b.logits(), 4L * rows * vocab),
                "cuMemcpyDtoH(logits)");
    }

    private void requireHead() {
        if (!range.head()) {
            throw new IllegalStateException("layers " + range.from() + ".." + range.to() + " on " + name()
                    + ": a stage without the head computes no logits");
        }
    }

    /**
     * Runs the batch and leaves [logitRows, vocab] logits on the device (see {@link #deviceLogits()});
     * a stage without the head leaves the residual stream in {@link #hidden()} instead.
     */
    public void run(StepBatch batch) {
        if (convState == null) {
            throw new IllegalStateException("reserve(slots, pages) must come before forward");
        }
        int t = batch.totalTokens();
        int n = batch.sequences();
        if (t == 0 || t > maxTokens || n > maxSeqs) {
            throw new IllegalArgumentException("batch of " + t + " tokens in " + n + " sequences; this model takes 1.."
                    + maxTokens + " tokens and at most " + maxSeqs + " sequences per forward");
        }
        ctx.bind();
        boolean graph = graphStep(batch);
        StepBatch run = graph ? padded(batch) : batch;
        t = run.totalTokens();
        n = run.sequences();
        Meta m = upload(run);
        if (graph) {
            long key = ((long) t << 40) | ((long) run.logitRows().length << 20) | m.maxPages;
            CudaGraph g = graphs.get(key);
            if (g != null) {
                g.launch();
                return;
            }
            // a new shape runs eagerly (every kernel resolved and configured), then is recorded
            // for the steps that follow; recording runs nothing
            step(m, run);
            graphs.put(key, CudaGraph.capture(ctx, "decode step N=" + n + " pages<=" + m.maxPages,
                    () -> step(m, run)));
            if (graphs.size() > MAX_GRAPHS) {
                var eldest = graphs.entrySet().iterator().next();
                eldest.getValue().close();
                graphs.remove(eldest.getKey());
            }
            return;
        }
        step(m, run);
    }

    /** Whether {@link #run} replays (or records) a graph for this batch, and so pads it to its bucket. */
    private boolean graphStep(StepBatch batch) {
        return decodeGraphs && batch.isDecode() && probe == null && !ctx.syncCheck();
    }

    /**
     * Rows of the residual stream {@link #run} computes for this batch: its tokens, and the
     * padding sequences where a decode graph runs. Stages that pass the stream on must agree.
     */
    int runTokens(StepBatch batch) {
        return graphStep(batch) ? decodeBucket(batch.sequences(), maxSeqs) : batch.totalTokens();
    }

    /** Where the residual stream [rows, hidden] fp32 lives: a stage's output, or its input when it has no embedding. */
    record Hidden(CUdeviceptr ptr, long pitchBytes) {
    }

    Hidden hidden() {
        return new Hidden(b.h(), 4L * cfg.hiddenSize());
    }

    /**
     * The decode batch size a graph is kept for: steps of any size up to it replay the same
     * graph (powers of two to 8, then multiples of 16 to 64, of 32 to 256, of 64 beyond), so
     * a run whose batch shrinks and grows captures a handful of graphs, not one per size.
     */
    static int decodeBucket(int n, int maxSeqs) {
        int b;
        if (n <= 8) {
            b = Integer.highestOneBit(Math.max(1, n - 1)) << (n <= 1 ? 0 : 1);
        } else if (n <= 64) {
            b = (n + 15) / 16 * 16;
        } else if (n <= 256) {
            b = (n + 31) / 32 * 32;
        } else {
            b = (n + 63) / 64 * 64;
        }
        return Math.max(n, Math.min(b, maxSeqs));
    }

    /**
     * A decode batch grown to its bucket by padding sequences: each brings token 0 at context 0
     * in the scratch slot and page, and its own logits row, which nobody reads. The pads are
     * alike, so what they write there is the same whichever writes last.
     */
    private StepBatch padded(StepBatch batch) {
        int n = batch.sequences();
        int bucket = decodeBucket(n, maxSeqs);
        if (bucket == n) {
            return batch;
        }
        int[] tokens = java.util.Arrays.copyOf(batch.tokens(), bucket);
        int[] cu = new int[bucket + 1];
        int[] slotIds = java.util.Arrays.copyOf(batch.slots(), bucket);
        int[] context = java.util.Arrays.copyOf(batch.contextLengths(), bucket);
        int[][] tables = java.util.Arrays.copyOf(batch.blockTables(), bucket);
        int rowsAsked = batch.logitRows().length;
        int[] rows = java.util.Arrays.copyOf(batch.logitRows(), rowsAsked + bucket - n);
        int[] scratchTable = {pages};
        for (int i = 0; i <= bucket; i++) {
            cu[i] = i;
        }
        for (int i = n; i < bucket; i++) {
            slotIds[i] = slots;
            tables[i] = scratchTable;
            rows[rowsAsked + i - n] = i;
        }
        return new StepBatch(tokens, cu, slotIds, context, tables, rows);
    }

    /**
     * Whether pure decode steps replay a captured graph of the whole step (one launch instead
     * of one per kernel; re-captured when the batch shape changes). On by default; the
     * model's results are the same either way.
     */
    public void setDecodeGraphs(boolean on) {
        decodeGraphs = on;
        if (!on) {
            closeGraphs();
        }
    }

    private void closeGraphs() {
        for (CudaGraph g : graphs.values()) {
            g.close();
        }
        graphs.clear();
    }

    /** Every kernel of one forward over uploaded metadata: only launches on the stream. */
    private void step(Meta m, StepBatch batch) {
        int t = batch.totalTokens();
        int d = cfg.hiddenSize();
        if (range.embedding()) {   // else the previous stage's residual stream is already in h
            EmbeddingKernel.gather(ctx, m.tokens, embed, b.h(), t, d, cfg.vocabSize());
        }
        for (int l = range.from(); l < range.to(); l++) {
            Object layer = layers.get(l - range.from());
            Object mlp;
            CUdeviceptr postNorm;
            if (layer instanceof Kda k) {
                NormKernel.rmsNormSplit(ctx, b.h(), d, k.inNorm(), cfg.rmsNormEps(), b.xn().hi(), b.xn().lo(), d, t, d);
                kda(k, ordinal[l], m, batch);
                postNorm = k.postNorm();
                mlp = k.mlp();
            } else {
                Mla a = (Mla) layer;
                NormKernel.rmsNormSplit(ctx, b.h(), d, a.inNorm(), cfg.rmsNormEps(), b.xn().hi(), b.xn().lo(), d, t, d);
                mla(a, ordinal[l], m, batch);
                postNorm = a.postNorm();
                mlp = a.mlp();
            }
            observe(l, LayerProbe.Block.ATTENTION, t);
            NormKernel.rmsNormSplit(ctx, b.h(), d, postNorm, cfg.rmsNormEps(), b.xn().hi(), b.xn().lo(), d, t, d);
            if (mlp instanceof Moe moe) {
                moe(moe, postNorm, t);
                observeRouting(l);
            } else {
                dense((Dense) mlp, b.xn(), t);
            }
            observe(l, LayerProbe.Block.MLP, t);
        }
        if (!range.head()) {
            return;
        }
        int rows = batch.logitRows().length;
        NormKernel.rmsNormRows(ctx, b.h(), d, m.logitRows, rows, finalNorm, cfg.rmsNormEps(), b.hn().hi(), b.hn().lo(), d,
                d);
        product(b.hn(), d, lmHead, d, b.logits(), cfg.vocabSize(), rows, cfg.vocabSize(), d, 0f);
    }

    private void observeRouting(int layer) {
        if (probe == null) {
            return;
        }
        // the plan's offsets outlive the step (the counts are zeroed for the next layer)
        int e = cfg.moe().numExperts();
        int[] offsets = new int[e + 1];
        ctx.stream().synchronize();
        CudaStatus.check(jcuda.driver.JCudaDriver.cuMemcpyDtoH(jcuda.Pointer.to(offsets), b.offsets(), 4L * (e + 1)),
                "cuMemcpyDtoH(expert offsets)");
        int[] counts = new int[e];
        for (int i = 0; i < e; i++) {
            counts[i] = offsets[i + 1] - offsets[i];
        }
        probe.routed(layer, counts);
    }

    private void observe(int layer, LayerProbe.Block block, int tokens) {
        if (probe == null) {
            return;
        }
        float[] hidden = new float[tokens * cfg.hiddenSize()];
        ctx.stream().synchronize();
        CudaStatus.check(jcuda.driver.JCudaDriver.cuMemcpyDtoH(jcuda.Pointer.to(hidden), b.h(), 4L * hidden.length),
                "cuMemcpyDtoH(hidden state)");
        probe.observe(layer, block, hidden);
    }

    /** C (fp32) = A W^T + beta C over every term of the operand A (the lo term accumulates). */
    private void product(Operand a, long lda, CUdeviceptr w, long ldw, CUdeviceptr c, long ldc, int m, int n, int k,
                         float beta) {
        GemmKernel.matmul(ctx, a.hi(), lda, w, ldw, c, ldc, GemmKernel.Out.F32, m, n, k, 1f, beta);
        if (a.lo() != null) {
            GemmKernel.matmul(ctx, a.lo(), lda, w, ldw, c, ldc, GemmKernel.Out.F32, m, n, k, 1f, 1f);
        }
    }

    /** C (fp32) = A W^T + beta C through a linear layer's weight, whatever its format. */
    private void product(Operand a, long lda, LinearWeight w, CUdeviceptr c, long ldc, int m, float beta) {
        w.matmul(ctx, a.hi(), lda, c, ldc, GemmKernel.Out.F32, m, 1f, beta);
        if (a.lo() != null) {
            w.matmul(ctx, a.lo(), lda, c, ldc, GemmKernel.Out.F32, m, 1f, 1f);
        }
    }

    private void batchedProduct(Operand a, long lda, long sA, CUdeviceptr w, long ldw, long sW, CUdeviceptr c, long ldc,
                                long sC, int m, int n, int k, int batch) {
        GemmKernel.batched(ctx, a.hi(), lda, sA, w, ldw, sW, c, ldc, sC, GemmKernel.Out.F32, m, n, k, batch, 1f, 0f);
        if (a.lo() != null) {
            GemmKernel.batched(ctx, a.lo(), lda, sA, w, ldw, sW, c, ldc, sC, GemmKernel.Out.F32, m, n, k, batch, 1f, 1f);
        }
    }

    private void groupedProduct(Operand a, long lda, LinearWeight w, CUdeviceptr c, long ldc, int maxTiles,
                                int tileRows) {
        w.grouped(ctx, a.hi(), lda, c, ldc, GemmKernel.Out.F32, b.offsets(), b.tiles(), b.numTiles(), maxTiles,
                tileRows, 1f, 0f);
        if (a.lo() != null) {
            w.grouped(ctx, a.lo(), lda, c, ldc, GemmKernel.Out.F32, b.offsets(), b.tiles(), b.numTiles(), maxTiles,
                    tileRows, 1f, 1f);
        }
    }

    /**
     * A bf16 activation out [m, n] (row pitch ldo) = A W^T: straight from the product in BF16;
     * in SPLIT through the fp32 scratch, then split into hi and lo.
     */
    private void productInto(Operand a, long lda, LinearWeight w, Operand out, long ldo, int m) {
        int n = w.rows();
        if (!split) {
            w.matmul(ctx, a.hi(), lda, out.hi(), ldo, GemmKernel.Out.BF16, m, 1f, 0f);
            return;
        }
        product(a, lda, w, b.wide(), n, m, 0f);
        ActivationKernel.castBf16(ctx, b.wide(), n, out.hi(), out.lo(), ldo, m, n);
    }

    /** The logits of the last {@link #run}: [rows, vocab] fp32. */
    public CUdeviceptr deviceLogits() {
        return b.logits();
    }

    /** Addresses of one batch's metadata inside the workspace. */
    private record Meta(CUdeviceptr tokens, CUdeviceptr seqOf, CUdeviceptr rowOf, CUdeviceptr logitRows,
                        CUdeviceptr cuSeqlens, CUdeviceptr slots, CUdeviceptr ctxLens, CUdeviceptr decodeOrder,
                        CUdeviceptr seqChunks, CUdeviceptr chunks, CUdeviceptr blockTables, int maxPages, int numChunks,
                        int maxContext, int decodePrefix, MlaPrefillPlan prefill, CUdeviceptr prefillPlan) {
    }

    /** Leading sequences of one token each, packed one per row: a step's decode tokens (the scheduler puts them first). */
    private static int decodePrefix(int[] cu) {
        int nd = 0;
        while (nd + 1 < cu.length && cu[nd] == nd && cu[nd + 1] == nd + 1) {
            nd++;
        }
        return nd;
    }

    private Meta upload(StepBatch batch) {
        int t = batch.totalTokens();
        int n = batch.sequences();
        int[] cu = batch.cuSeqlens();
        if (batch.logitRows().length > Math.min(t, logitRows)) {
            throw new IllegalArgumentException(batch.logitRows().length + " logit rows for a batch of " + t
                    + " tokens; this model returns at most " + logitRows + " rows per forward");
        }
        int maxPages = 1;
        for (int[] table : batch.blockTables()) {
            maxPages = Math.max(maxPages, table.length);
        }
        int maxContext = 0;
        for (int c : batch.contextLengths()) {
            maxContext = Math.max(maxContext, c);
        }
        if (batch.isDecode()) {
            // decode shapes repeat: the block-table pitch rounded up to a power of two keeps a
            // captured step valid while contexts grow, and the split decode sizes its grid by
            // the pages the tables can name (each sequence then follows its own length)
            int bucket = 1;
            while (bucket < maxPages) {
                bucket <<= 1;
            }
            maxPages = Math.max(maxPages, Math.min(bucket, pagesPerSeq()));
            maxContext = Math.max(maxContext, maxPages * pageSize - 1);
        }
        KdaChunkPlan plan = batch.isDecode() || cfg.kda() == null ? new KdaChunkPlan(new int[0], new int[n + 1])
                : KdaChunkPlan.of(cu);
        int need = 4 * t + 4 * n + 1 + plan.seqChunks().length + plan.chunks().length + n * maxPages;
        if (need > b.metaInts() || plan.numChunks() > maxChunks()) {
            throw new IllegalArgumentException("batch metadata of " + need + " ints (block tables of " + maxPages
                    + " pages) exceeds the " + b.metaInts() + " reserved");
        }
        int[] meta = new int[need];
        int o = 0;
        int oTokens = o;
        for (int i = 0; i < t; i++) {
            int id = batch.tokens()[i];
            if (id < 0 || id >= cfg.vocabSize()) {
                // the embedding would read outside its table
                throw new IllegalArgumentException("token id " + id + " at position " + i + " of the step is"
                        + " outside the vocabulary [0, " + cfg.vocabSize() + ")");
            }
        }
        System.arraycopy(batch.tokens(), 0, meta, o, t);
        o += t;
        int oSeqOf = o;
        int oRowOf = o + t;
        for (int s = 0; s < n; s++) {
            int[] table = batch.blockTables()[s];
            for (int i = cu[s]; i < cu[s + 1]; i++) {
                meta[oSeqOf + i] = s;
                int pos = batch.contextLengths()[s] + (i - cu[s]);
                int page = pos / pageSize;
                if (cfg.mla() != null) {
                    int limit = batch.slots()[s] == slots ? pages + 1 : pages;   // the scratch page is the pads'
                    if (page >= table.length || table[page] < 0 || table[page] >= limit) {
                        throw new IllegalArgumentException("sequence " + s + ": position " + pos
                                + " needs page " + page + " of its block table, which has " + table.length
                                + " entries within " + pages + " pages");
                    }
                    meta[oRowOf + i] = table[page] * pageSize + pos % pageSize;
                }
            }
        }
        o += 2 * t;
        int oRows = o;
        for (int i = 0; i < batch.logitRows().length; i++) {
            int r = batch.logitRows()[i];
            if (r < 0 || r >= t) {
                throw new IllegalArgumentException("logit row " + r + " outside the batch's " + t + " tokens");
            }
            meta[o++] = r;
        }
        o = oRows + t;
        int oCu = o;
        System.arraycopy(cu, 0, meta, o, n + 1);
        o += n + 1;
        int oSlots = o;
        for (int s = 0; s < n; s++) {
            if (batch.slots()[s] != slots) {
                checkSlot(batch.slots()[s]);
            }
            meta[o++] = batch.slots()[s];
        }
        int oCtx = o;
        System.arraycopy(batch.contextLengths(), 0, meta, o, n);
        o += n;
        int oOrder = o;
        boolean prompts = flashPrefill && !batch.isDecode();
        int nd = prompts ? decodePrefix(cu) : 0;
        if (batch.isDecode() && b.splitDecode()) {   // only the split decode reads the order
            System.arraycopy(MlaDecodeKernel.longestFirst(batch.contextLengths()), 0, meta, o, n);
        } else if (nd > 0) {
            System.arraycopy(MlaDecodeKernel.longestFirst(java.util.Arrays.copyOf(batch.contextLengths(), nd)), 0,
                    meta, o, nd);
        }
        o += n;
        int oSeqChunks = o;
        System.arraycopy(plan.seqChunks(), 0, meta, o, plan.seqChunks().length);
        o += plan.seqChunks().length;
        int oChunks = o;
        System.arraycopy(plan.chunks(), 0, meta, o, plan.chunks().length);
        o += plan.chunks().length;
        int oTables = o;
        for (int s = 0; s < n; s++) {
            int[] table = batch.blockTables()[s];
            System.arraycopy(table, 0, meta, oTables + s * maxPages, table.length);
        }
        MlaPrefillPlan prefill = prompts ? MlaPrefillPlan.of(cu, batch.contextLengths(), nd, prefillCapacity) : null;
        int[] planInts = prefill == null ? null : prefill.flatten();
        ctx.stream().synchronize();
        CudaStatus.check(jcuda.driver.JCudaDriver.cuMemcpyHtoD(b.meta(), jcuda.Pointer.to(meta), 4L * need),
                "cuMemcpyHtoD(batch metadata)");
        if (planInts != null && planInts.length > 0) {
            if (prefillPlan == null || prefillPlan.bytes() < 4L * planInts.length) {
                // sized by the step's sequences and context; grows rarely, while the stream is idle
                if (prefillPlan != null) {
                    prefillPlan.close();
                }
                prefillPlan = DeviceBuffer.allocate(ctx, 4L * Math.max(planInts.length, 4096) * 2);
            }
            CudaStatus.check(jcuda.driver.JCudaDriver.cuMemcpyHtoD(prefillPlan.ptr(), jcuda.Pointer.to(planInts),
                    4L * planInts.length), "cuMemcpyHtoD(MLA prefill plan)");
        }
        CUdeviceptr base = b.meta();
        return new Meta(base.withByteOffset(4L * oTokens), base.withByteOffset(4L * oSeqOf),
                base.withByteOffset(4L * oRowOf), base.withByteOffset(4L * oRows), base.withByteOffset(4L * oCu),
                base.withByteOffset(4L * oSlots), base.withByteOffset(4L * oCtx), base.withByteOffset(4L * oOrder),
                base.withByteOffset(4L * oSeqChunks),
                base.withByteOffset(4L * oChunks), base.withByteOffset(4L * oTables), maxPages, plan.numChunks(),
                maxContext, nd, prefill, prefill == null || prefillPlan == null ? null : prefillPlan.ptr());
    }

    private void kda(Kda w, int idx, Meta m, StepBatch batch) {
        KdaConfig k = cfg.kda();
        int t = batch.totalTokens();
        int n = batch.sequences();
        int d = cfg.hiddenSize();
        int hd = k.width();
        int dim = k.headDim();
        int h = k.numHeads();
        int projW = 3 * hd + h;
        product(b.xn(), d, w.wProj(), b.proj(), projW, t, 0f);
        productInto(b.xn(), d, w.wFgA(), b.fg(), 2L * dim, t);
        product(b.fg(), 2L * dim, w.wFb(), b.a(), hd, t, 0f);
        product(b.fg().at(2L * dim), 2L * dim, w.wGb(), b.z(), hd, t, 0f);
        ShortConvKernel.forward(ctx, b.proj(), projW, m.cuSeqlens, m.seqOf, m.slots, w.conv(), convState[idx].ptr(),
                b.convOut(), t, n, 3 * hd, k.convKernel());
        KdaChunkKernel.Form form = split ? KdaChunkKernel.Form.EXACT : KdaChunkKernel.Form.TENSOR_CORE;
        boolean bf16Qkv = !batch.isDecode() && form.qkvBytes() == 2;
        // heads of kdaPitch channels from here to the output norm (the same as dim at the built sizes)
        KdaGateKernel.prepare(ctx, b.convOut(), 3L * hd, b.a(), hd, b.proj().withByteOffset(4L * 3 * hd), projW,
                w.dtBias(), w.aLog(), b.q(), b.k(), b.v(), b.g(), b.beta(), t, h, dim, kdaPitch, bf16Qkv);
        if (batch.isDecode()) {
            KdaRecurrentKernel.run(ctx, b.q(), b.k(), b.v(), b.g(), b.beta(), m.cuSeqlens, m.slots, kdaState[idx].ptr(),
                    b.o(), n, h, kdaPitch);
        } else {
            KdaChunkKernel.run(ctx, b.q(), b.k(), b.v(), b.g(), b.beta(), m.chunks, m.seqChunks, m.slots,
                    kdaState[idx].ptr(), b.o(), b.chunkScratch(), m.numChunks, n, h, kdaPitch, form);
        }
        NormKernel.gatedRmsNorm(ctx, b.o(), b.z(), hd, w.oNorm(), cfg.rmsNormEps(), b.act().hi(), b.act().lo(), t, h,
                dim, kdaPitch);
        product(b.act(), hd, w.wO(), b.h(), d, t, 1f);
    }

    private void mla(Mla w, int idx, Meta m, StepBatch batch) {
        MlaConfig c = cfg.mla();
        int t = batch.totalTokens();
        int d = cfg.hiddenSize();
        int heads = c.numHeads();
        int dqk = c.qkHeadDim();
        int dn = c.qkNopeHeadDim();
        int dr = c.qkRopeHeadDim();
        int dv = c.vHeadDim();
        int r = c.kvLoraRank();
        int qw = heads * dqk;
        float scale = (float) (1.0 / Math.sqrt(dqk));
        Projections p = projections(w, t);
        long ldq = p.ldq();
        NormKernel.rmsNorm(ctx, p.kva(), p.ldk(), w.kvNorm(), c.normEps(), b.cnorm(), r, t, r, !split);
        MlaDecodeKernel.cacheWrite(ctx, p.kva(), p.ldk(), b.cnorm(), m.rowOf, latent[idx].ptr(), t, r, dr, split);
        ActivationKernel.castBf16(ctx, b.proj(), ldq, b.qb().hi(), b.qb().lo(), qw, t, qw);
        if (m.prefill() != null) {
            prefillAttention(w, idx, m, scale, ldq);
            product(b.act(), (long) heads * dv, w.wO(), b.h(), d, t, 1f);
            return;
        }
        if (batch.isDecode() && b.splitDecode()) {
            // the split decode takes its queries in bf16 (BF16 precision only: no remainder terms)
            GemmKernel.batched(ctx, b.qb().hi(), qw, dqk, w.wUkT(), dn, (long) r * dn, b.qa(), (long) heads * r, r,
                    GemmKernel.Out.BF16, t, r, dn, heads, 1f, 0f);
            MlaDecodeKernel.decode(ctx, b.qa(), b.proj(), ldq, latent[idx].ptr(), m.blockTables, m.maxPages, pageSize,
                    m.ctxLens, m.decodeOrder, m.maxContext, b.mlaPartials(), b.ctxLat().hi(), t, heads, r, dr, dqk, dn,
                    scale);
        } else {
            batchedProduct(b.qb(), qw, dqk, w.wUkT(), dn, (long) r * dn, b.qa(), (long) heads * r, r, t, r, dn, heads);
            MlaDecodeKernel.attention(ctx, b.qa(), b.proj(), ldq, latent[idx].ptr(), split, m.blockTables, m.maxPages,
                    pageSize, m.cuSeqlens, m.ctxLens, m.seqOf, b.ctxLat().hi(), b.ctxLat().lo(), t, heads, r, dr, dqk,
                    dn, scale);
        }
        CUdeviceptr wUv = w.wKvb().withByteOffset(2L * dn * r);
        long sUv = (long) (dn + dv) * r;
        if (split) {
            batchedProduct(b.ctxLat(), (long) heads * r, r, wUv, r, sUv, b.wide(), (long) heads * dv, dv, t, dv, r,
                    heads);
            ActivationKernel.castBf16(ctx, b.wide(), (long) heads * dv, b.act().hi(), b.act().lo(), (long) heads * dv, t,
                    heads * dv);
        } else {
            GemmKernel.batched(ctx, b.ctxLat().hi(), (long) heads * r, r, wUv, r, sUv, b.act().hi(), (long) heads * dv,
                    dv, GemmKernel.Out.BF16, t, dv, r, heads, 1f, 0f);
        }
        product(b.act(), (long) heads * dv, w.wO(), b.h(), d, t, 1f);
    }

    /**
     * Where the MLA projections of a step left their rows: the queries [t, heads * dqk] fp32 in
     * proj with row pitch ldq, [latent | k_rot] at kva with row pitch ldk.
     */
    private record Projections(long ldq, CUdeviceptr kva, long ldk) {
    }

    /**
     * The MLA projections of xn. Without a q LoRA one product gives [q | latent | k_rot] in proj;
     * with one, the product gives [q_low | latent | k_rot] in qLow, and q_low, normalised, is
     * multiplied up into proj.
     */
    private Projections projections(Mla w, int t) {
        MlaConfig c = cfg.mla();
        int d = cfg.hiddenSize();
        int qw = c.numHeads() * c.qkHeadDim();
        int kvW = c.latentWidth();
        if (w.wQb() == null) {
            product(b.xn(), d, w.wQKva(), b.proj(), qw + kvW, t, 0f);
            return new Projections(qw + kvW, b.proj().withByteOffset(4L * qw), qw + kvW);
        }
        int qr = c.qLoraRank();
        product(b.xn(), d, w.wQKva(), b.qLow(), qr + kvW, t, 0f);
        NormKernel.rmsNormSplit(ctx, b.qLow(), qr + kvW, w.qANorm(), c.normEps(), b.qLowNorm().hi(), b.qLowNorm().lo(),
                qr, t, qr);
        product(b.qLowNorm(), qr, w.wQb(), b.proj(), qw, t, 0f);
        return new Projections(qw, b.qLow().withByteOffset(4L * qr), qr + kvW);
    }

    /**
     * MLA attention of a step with prompt chunks, into act: the decode prefix (one token per
     * sequence) in absorbed form on the split decode, every later sequence on the tensor-core
     * prefill attention. The queries' fp32 rows (q_rot) have pitch ldq.
     */
    private void prefillAttention(Mla w, int idx, Meta m, float scale, long ldq) {
        MlaConfig c = cfg.mla();
        int heads = c.numHeads();
        int dqk = c.qkHeadDim();
        int dn = c.qkNopeHeadDim();
        int dr = c.qkRopeHeadDim();
        int dv = c.vHeadDim();
        int r = c.kvLoraRank();
        int qw = heads * dqk;
        int nd = m.decodePrefix();
        if (nd > 0) {
            GemmKernel.batched(ctx, b.qb().hi(), qw, dqk, w.wUkT(), dn, (long) r * dn, b.qa(), (long) heads * r, r,
                    GemmKernel.Out.BF16, nd, r, dn, heads, 1f, 0f);
            MlaDecodeKernel.decode(ctx, b.qa(), b.proj(), ldq, latent[idx].ptr(), m.blockTables, m.maxPages, pageSize,
                    m.ctxLens, m.decodeOrder, m.maxContext, b.mlaPartials(), b.ctxLat().hi(), nd, heads, r, dr, dqk,
                    dn, scale);
            GemmKernel.batched(ctx, b.ctxLat().hi(), (long) heads * r, r, w.wKvb().withByteOffset(2L * dn * r), r,
                    (long) (dn + dv) * r, b.act().hi(), (long) heads * dv, dv, GemmKernel.Out.BF16, nd, dv, r, heads,
                    1f, 0f);
        }
        MlaPrefillKernel.run(ctx, m.prefill(), m.prefillPlan(), b.qb().hi(), qw, latent[idx].ptr(), m.blockTables,
                m.maxPages, pageSize, m.cuSeqlens, m.ctxLens, w.wUk(), w.wUv(), b.prefill(), b.act().hi(),
                (long) heads * dv, heads, r);
    }

    /**
     * Diagnostic switch: {@code -Dkimi.cuda.routerOnCudaCores=true} keeps every step's router
     * logits on the fp32 CUDA-core kernels.
     */
    private static final boolean ROUTER_ON_CUDA_CORES = Boolean.getBoolean("kimi.cuda.routerOnCudaCores");

    /** Whether a step of t tokens computes its router logits as split products on the tensor cores. */
    static boolean routerOnTensorCores(int t) {
        return !ROUTER_ON_CUDA_CORES && t >= MoeKernel.ROUTER_TILED_MIN_TOKENS;
    }

    /** Diagnostic switch: {@code -Dkimi.cuda.noFusedSwiglu=true} writes gate/up rows and applies SwiGLU apart. */
    private static final boolean FUSED_SWIGLU = !Boolean.getBoolean("kimi.cuda.noFusedSwiglu");

    private void dense(Dense w, Operand x, int t) {
        int d = cfg.hiddenSize();
        int f = w.width();
        if (FUSED_SWIGLU && x.lo() == null && w.wGateUp().fusesSwiglu(ctx, t, x.hi(), d)) {
            // prefill-sized rows: SwiGLU as the gate/up product stores, no fp32 gate/up rows
            w.wGateUp().matmulSwiglu(ctx, x.hi(), d, b.act().hi(), f, t);
        } else {
            product(x, d, w.wGateUp(), b.gu(), 2L * f, t, 0f);
            ActivationKernel.siluMul(ctx, b.gu(), 2L * f, b.act().hi(), b.act().lo(), f, t, f);
        }
        product(b.act(), f, w.wDown(), b.h(), d, t, 1f);
    }

    private void moe(Moe w, CUdeviceptr postNorm, int t) {
        MoeConfig mc = cfg.moe();
        int d = cfg.hiddenSize();
        int e = mc.numExperts();
        int topK = mc.topK();
        int inter = mc.intermediateSize();
        // the normalised activations once more (into the down buffer, free until the expert
        // products) at fp32 precision: a bf16-rounded input can flip a near-tied expert choice
        if (routerOnTensorCores(t)) {
            // prefill-sized steps: as bf16 hi and lo planes, whose two products on the tensor
            // cores add up to the fp32 rows' within 2^-16 of each (the CUDA-core kernel took
            // 0.59 ms a layer at 8,192 tokens)
            Operand x = new Operand(b.down(), b.down().withByteOffset(2L * t * d));
            NormKernel.rmsNormSplit(ctx, b.h(), d, postNorm, cfg.rmsNormEps(), x.hi(), x.lo(), d, t, d);
            product(x, d, w.router(), d, b.routerLogits(), e, t, e, d, 0f);
        } else {
            NormKernel.rmsNorm(ctx, b.h(), d, postNorm, cfg.rmsNormEps(), b.down(), d, t, d, false);
            MoeKernel.routerLogits(ctx, b.down(), d, w.router(), b.routerLogits(), t, e, d);
        }
        MoeKernel.route(ctx, b.routerLogits(), w.bias(), t, e, topK, mc.numGroups(), mc.topkGroup(), mc.renormalize(),
                mc.routedScalingFactor(), mc.activation() == KimiLinearConfig.RouterActivation.SOFTMAX, b.ids(), b.rw());
        int tileRows = MoeKernel.dispatch(ctx, b.ids(), t, topK, e, b.counts(), b.offsets(), b.tiles(), b.numTiles(), b.cursors(),
                b.xn().hi(), b.xn().lo(), d, b.xperm().hi(), b.xperm().lo(), b.rowPos(), d);
        // the launch grid follows the tile size planned, not the buffer's bound for the smallest
        int maxTiles = MoeKernel.maxTiles(t * topK, e, tileRows);
        if (FUSED_SWIGLU && b.xperm().lo() == null && w.w13().fusesGroupedSwiglu(ctx, tileRows, b.xperm().hi(), d)) {
            // prefill-sized steps: SwiGLU as the gate/up product stores, no fp32 gate/up rows
            w.w13().groupedSwiglu(ctx, b.xperm().hi(), d, b.act().hi(), inter, b.offsets(), b.tiles(), b.numTiles(),
                    maxTiles, tileRows);
        } else {
            groupedProduct(b.xperm(), d, w.w13(), b.gu(), 2L * inter, maxTiles, tileRows);
            ActivationKernel.siluMul(ctx, b.gu(), 2L * inter, b.act().hi(), b.act().lo(), inter, t * topK, inter);
        }
        groupedProduct(b.act(), inter, w.w2(), b.down(), d, maxTiles, tileRows);
        MoeKernel.combine(ctx, b.down(), b.rowPos(), b.rw(), topK, b.h(), t, d);
        if (w.shared() != null) {
            dense(w.shared(), b.xn(), t);
        }
    }

    private void freeState() {
        closeGraphs();
        for (DeviceBuffer[] group : new DeviceBuffer[][] {convState, kdaState, latent}) {
            if (group != null) {
                for (DeviceBuffer x : group) {
                    x.close();
                }
            }
        }
        convState = null;
        kdaState = null;
        latent = null;
    }

    @Override
    public void close() {
        freeState();
        if (prefillPlan != null) {
            prefillPlan.close();
        }
        if (choiceRoom != null) {
            choiceRoom.close();
        }
        ws.close();
        weights.close();
    }
}
