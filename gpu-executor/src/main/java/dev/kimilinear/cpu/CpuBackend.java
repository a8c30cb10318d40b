package dev.kimilinear.cpu;

import dev.kimilinear.checkpoint.Checkpoint;
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

import java.nio.file.Path;
import java.util.Arrays;

/**
 * The float32 reference forward of Kimi Linear on the CPU: the oracle for the CUDA kernels
 * and the backend of CI and the demo. Reads as the model spec, layer by layer. Buffers are
 * sized once for the largest step seen, so a steady decode loop allocates no arrays.
 *
 * <p>A backend may hold a contiguous range of the layers ({@link #stage}: a pipeline stage over
 * the same weights): it then keeps the state of those layers only, starts from the residual
 * stream of the stage before it unless it holds the embedding, and ends in that stream
 * ({@link #hiddenAfter}) unless it holds the head.
 */
public final class CpuBackend implements Backend {
    /** Chunk of the chunkwise KDA prefill, as in the reference implementation. */
    public static final int KDA_CHUNK = 64;

    private final KimiLinearConfig cfg;
    private final CpuWeights w;
    private final int pageSize;
    private final int maxBatchTokens;
    private final long budgetBytes;
    private final int[] ordinal; // layer -> index among the layers of its kind
    private final LayerRange range;

    // per KDA layer: conv states [slots, H*D, K-1] of q, k, v; recurrent state [slots, H, D, D]
    private float[][] convQ;
    private float[][] convK;
    private float[][] convV;
    private float[][] recurrent;
    // per MLA layer: latent pool [pages * pageSize, r + dr]
    private float[][] latent;
    private int slots;

    private final Workspace ws;
    private final TokenChooser chooser;
    private float[] rowLogits = new float[0];
    private LayerProbe probe;

    private CpuBackend(KimiLinearConfig cfg, CpuWeights w, int pageSize, int maxBatchTokens, long budgetBytes,
                       LayerRange range) {
        range.check(cfg);
        this.range = range;
        this.cfg = cfg;
        this.w = w;
        this.pageSize = pageSize;
        this.maxBatchTokens = maxBatchTokens;
        this.budgetBytes = budgetBytes;
        this.ordinal = new int[cfg.numLayers()];
        int kda = 0;
        int mla = 0;
        for (int l = 0; l < cfg.numLayers(); l++) {
            ordinal[l] = cfg.isKda(l) ? kda++ : mla++;
        }
        this.ws = new Workspace(cfg);
        this.chooser = new TokenChooser(cfg.vocabSize());
    }

    /**
     * Loads a model directory (config.json and safetensors).
     *
     * @param budgetBytes memory for state slots and latent pages; 0 for a share of what the
     *                    JVM has left after loading the weights
     */
    public static CpuBackend load(Path modelDir, long budgetBytes, int pageSize, int maxBatchTokens) {
        KimiLinearConfig cfg = KimiLinearConfig.load(modelDir.resolve("config.json"));
        try (Checkpoint ckpt = Checkpoint.open(modelDir)) {
            return of(cfg, ckpt, budgetBytes, pageSize, maxBatchTokens);
        }
    }

    /** As {@link #load}, from an open checkpoint of the config (a generated one included). */
    public static CpuBackend of(KimiLinearConfig cfg, Checkpoint ckpt, long budgetBytes, int pageSize,
                                int maxBatchTokens) {
        CpuWeights weights = CpuWeights.load(ModelWeights.bind(cfg, ckpt));
        if (budgetBytes <= 0) {
            Runtime rt = Runtime.getRuntime();
            long used = rt.totalMemory() - rt.freeMemory();
            budgetBytes = Math.max(0, (long) ((rt.maxMemory() - used) * 0.6));
        }
        return new CpuBackend(cfg, weights, pageSize, maxBatchTokens, budgetBytes, LayerRange.all(cfg));
    }

    /**
     * A backend over these same weights (nothing copied) holding {@code range} of the layers,
     * with its own state and a budget of {@code budgetBytes} for it: a replica when the range is
     * the whole model, else a pipeline stage.
     */
    public CpuBackend stage(LayerRange range, long budgetBytes) {
        return new CpuBackend(cfg, w, pageSize, maxBatchTokens, budgetBytes, range);
    }

    /** The layers this backend holds. */
    public LayerRange range() {
        return range;
    }

    /** A backend for a model directory with defaults fit for tests and tools. */
    public static CpuBackend load(Path modelDir) {
        return load(modelDir, 0, 64, 4096);
    }

    @Override
    public KimiLinearConfig config() {
        return cfg;
    }

    @Override
    public String name() {
        return "cpu";
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
        return k.stateFloats() * layersHeld(true) * Float.BYTES;
    }

    private int layersHeld(boolean kda) {
        int n = 0;
        for (int l = range.from(); l < range.to(); l++) {
            n += cfg.isKda(l) == kda ? 1 : 0;
        }
        return n;
    }

    @Override
    public long bytesPerPage() {
        MlaConfig m = cfg.mla();
        return m == null ? 0 : (long) pageSize * m.latentWidth() * layersHeld(false) * Float.BYTES;
    }

    @Override
    public long freeBytes() {
        return budgetBytes;
    }

    @Override
    public int maxBatchTokens() {
        return maxBatchTokens;
    }

    @Override
    public void reserve(int slots, int pages) {
        KdaConfig k = cfg.kda();
        int kdaLayers = cfg.numKdaLayers();
        this.slots = slots;
        convQ = new float[kdaLayers][];
        convK = new float[kdaLayers][];
        convV = new float[kdaLayers][];
        recurrent = new float[kdaLayers][];
        for (int i = 0; i < kdaLayers; i++) {
            if (!range.contains(layerOf(true, i))) {
                continue;
            }
            int conv = Math.multiplyExact(slots, k.width() * (k.convKernel() - 1));
            convQ[i] = new float[conv];
            convK[i] = new float[conv];
            convV[i] = new float[conv];
            recurrent[i] = new float[Math.multiplyExact(slots, k.numHeads() * k.headDim() * k.headDim())];
        }
        latent = new float[cfg.numMlaLayers()][];
        for (int i = 0; i < latent.length; i++) {
            if (!range.contains(layerOf(false, i))) {
                continue;
            }
            latent[i] = new float[Math.multiplyExact(Math.multiplyExact(pages, pageSize), cfg.mla().latentWidth())];
        }
    }

    @Override
    public void resetSlot(int slot) {
        forEachSlotArray((arr, per) -> Arrays.fill(arr, slot * per, (slot + 1) * per, 0f));
    }

    @Override
    public void copySlot(int from, int to) {
        forEachSlotArray((arr, per) -> System.arraycopy(arr, from * per, arr, to * per, per));
    }

    @Override
    public void copyPage(int from, int to) {
        if (cfg.mla() == null) {
            return;
        }
        int per = pageSize * cfg.mla().latentWidth();
        for (float[] pool : latent) {
            if (pool != null) {
                System.arraycopy(pool, from * per, pool, to * per, per);
            }
        }
    }

    /** The decoder layer that is the {@code i}-th of its kind (KDA or MLA). */
    private int layerOf(boolean kda, int i) {
        for (int l = 0; l < ordinal.length; l++) {
            if (cfg.isKda(l) == kda && ordinal[l] == i) {
                return l;
            }
        }
        throw new IllegalArgumentException("no " + (kda ? "KDA" : "MLA") + " layer " + i);
    }

    /**
     * A copy of one KDA layer's state in a slot: its short-convolution windows of q, k and v,
     * then its recurrent state (for moving a sequence's state to another backend).
     */
    public float[] slotState(int layer, int slot) {
        int i = heldLayer(layer, true);
        float[][] parts = {convQ[i], convK[i], convV[i], recurrent[i]};
        int total = 0;
        for (float[] a : parts) {
            total += a.length / slots;
        }
        float[] out = new float[total];
        int o = 0;
        for (float[] a : parts) {
            int per = a.length / slots;
            System.arraycopy(a, slot * per, out, o, per);
            o += per;
        }
        return out;
    }

    /** Sets one KDA layer's state in a slot from {@link #slotState}'s layout. */
    public void setSlotState(int layer, int slot, float[] state) {
        int i = heldLayer(layer, true);
        int o = 0;
        for (float[] a : new float[][] {convQ[i], convK[i], convV[i], recurrent[i]}) {
            int per = a.length / slots;
            System.arraycopy(state, o, a, slot * per, per);
            o += per;
        }
        if (o != state.length) {
            throw new IllegalArgumentException("slot state of " + state.length + " floats; layer " + layer
                    + " holds " + o);
        }
    }

    /** A copy of one MLA layer's latent rows in a page. */
    public float[] pageState(int layer, int page) {
        int i = heldLayer(layer, false);
        int per = pageSize * cfg.mla().latentWidth();
        return Arrays.copyOfRange(latent[i], page * per, (page + 1) * per);
    }

    /** Sets one MLA layer's latent rows in a page. */
    public void setPageState(int layer, int page, float[] rows) {
        int i = heldLayer(layer, false);
        int per = pageSize * cfg.mla().latentWidth();
        if (rows.length != per) {
            throw new IllegalArgumentException("page of " + rows.length + " floats; layer " + layer + " takes " + per);
        }
        System.arraycopy(rows, 0, latent[i], page * per, per);
    }

    private int heldLayer(int layer, boolean kda) {
        requireReserved();
        if (!range.contains(layer) || cfg.isKda(layer) != kda) {
            throw new IllegalArgumentException("layer " + layer + " is not a " + (kda ? "KDA" : "MLA")
                    + " layer of this backend's range " + range.from() + ".." + range.to());
        }
        return ordinal[layer];
    }

    private interface SlotAction {
        void apply(float[] array, int perSlot);
    }

    private void forEachSlotArray(SlotAction action) {
        requireReserved();
        for (int i = 0; i < recurrent.length; i++) {
            if (recurrent[i] == null) {
                continue;
            }
            for (float[] conv : new float[][]{convQ[i], convK[i], convV[i]}) {
                action.apply(conv, conv.length / slots);
            }
            action.apply(recurrent[i], recurrent[i].length / slots);
        }
    }

    private void requireReserved() {
        if (latent == null) {
            throw new IllegalStateException("reserve(slots, pages) must be called before use");
        }
    }

    @Override
    public void close() {
        convQ = convK = convV = recurrent = latent = null;
    }

    // ---------------------------------------------------------------- the forward

    @Override
    public void forward(StepBatch b, RowChoices choices) {
        forwardFrom(b, null, choices);
    }

    @Override
    public void logits(StepBatch b, float[] logits) {
        logitsFrom(b, null, logits);
    }

    /**
     * A stage's part of a forward: its layers over the batch, from the token ids where it holds
     * the embedding, else from {@code in} [tokens, hidden] (the stage before it); a copy of the
     * residual stream after its last layer.
     */
    public float[] hiddenAfter(StepBatch b, float[] in) {
        layers(b, in);
        return Arrays.copyOf(ws.x, b.totalTokens() * cfg.hiddenSize());
    }

    /** The last stage's part of a forward: its layers from {@code in} (null: the tokens), then the head and the choices. */
    public void forwardFrom(StepBatch b, float[] in, RowChoices choices) {
        int need = b.logitRows().length * cfg.vocabSize();
        if (rowLogits.length < need) {
            rowLogits = new float[need];
        }
        logitsFrom(b, in, rowLogits);
        chooser.chooseAll(rowLogits, cfg.vocabSize(), choices);
    }

    /** The last stage's logits: its layers from {@code in} (null: the tokens), then the head. */
    public void logitsFrom(StepBatch b, float[] in, float[] logits) {
        if (!range.head()) {
            throw new IllegalStateException("layers " + range.from() + ".." + range.to()
                    + " end in the residual stream, not in logits (hiddenAfter)");
        }
        layers(b, in);
        int d = cfg.hiddenSize();
        float[] x = ws.x;
        int[] rows = b.logitRows();
        ws.ensureRows(rows.length);
        for (int i = 0; i < rows.length; i++) {
            CpuOps.rmsNormRow(x, rows[i] * d, w.finalNorm(), cfg.rmsNormEps(), ws.lastHidden, i * d, d);
        }
        CpuOps.matmulTransposed(ws.lastHidden, rows.length, d, w.lmHead(), cfg.vocabSize(), logits);
    }

    /** The held layers over the batch; the residual stream is left in ws.x. */
    private void layers(StepBatch b, float[] in) {
        requireReserved();
        int t = b.totalTokens();
        if (t > maxBatchTokens) {
            throw new IllegalArgumentException("a step of " + t + " tokens exceeds maxBatchTokens " + maxBatchTokens);
        }
        int d = cfg.hiddenSize();
        ws.ensure(t);
        float[] x = ws.x;
        if (range.embedding()) {
            for (int i = 0; i < t; i++) {
                int id = b.tokens()[i];
                if (id < 0 || id >= cfg.vocabSize()) {
                    throw new IllegalArgumentException("token id " + id + " outside the vocabulary [0, "
                            + cfg.vocabSize() + ")");
                }
                System.arraycopy(w.embed(), id * d, x, i * d, d);
            }
        } else {
            if (in == null || in.length < t * d) {
                throw new IllegalArgumentException("layers " + range.from() + ".." + range.to() + " start from the"
                        + " residual stream of " + t + " tokens x " + d + "; got " + (in == null ? "none"
                        : in.length + " floats"));
            }
            System.arraycopy(in, 0, x, 0, t * d);
        }
        for (int l = range.from(); l < range.to(); l++) {
            CpuWeights.Layer lw = w.layers().get(l);
            CpuOps.rmsNorm(x, t, d, lw.inputNorm(), cfg.rmsNormEps(), ws.h);
            if (cfg.isKda(l)) {
                kda(lw.kda(), ordinal[l], b, ws.h, ws.attn);
            } else {
                mla(lw.mla(), ordinal[l], b, ws.h, ws.attn);
            }
            add(x, ws.attn, t * d);
            observe(l, LayerProbe.Block.ATTENTION, x, t * d);
            CpuOps.rmsNorm(x, t, d, lw.postNorm(), cfg.rmsNormEps(), ws.h);
            if (cfg.isMoe(l)) {
                moe(lw.moe(), t, ws.h, ws.mlpOut);
                if (probe != null) {
                    int[] counts = new int[cfg.moe().numExperts()];
                    for (int e = 0; e < counts.length; e++) {
                        counts[e] = ws.expertStart[e + 1] - ws.expertStart[e];
                    }
                    probe.routed(l, counts);
                }
            } else {
                mlp(lw.dense(), t, ws.h, ws.mlpOut);
            }
            add(x, ws.mlpOut, t * d);
            observe(l, LayerProbe.Block.MLP, x, t * d);
        }
    }

    /** Receives a copy of the residual stream after each block of later forwards (null: none). */
    @Override
    public void setProbe(LayerProbe probe) {
        this.probe = probe;
    }

    private void observe(int layer, LayerProbe.Block block, float[] x, int n) {
        if (probe != null) {
            probe.observe(layer, block, Arrays.copyOf(x, n));
        }
    }

    /** Kimi Delta Attention over the batch: projections, short conv, gates, delta rule, gated norm. */
    private void kda(CpuWeights.Kda k, int layer, StepBatch b, float[] h, float[] out) {
        KdaConfig kc = cfg.kda();
        int t = b.totalTokens();
        int d = cfg.hiddenSize();
        int heads = kc.numHeads();
        int dim = kc.headDim();
        int width = kc.width();
        CpuOps.matmulTransposed(h, t, d, k.q(), width, ws.kq);
        CpuOps.matmulTransposed(h, t, d, k.k(), width, ws.kk);
        CpuOps.matmulTransposed(h, t, d, k.v(), width, ws.kv);
        ShortConv.forward(ws.kq, b.cuSeqlens(), width, k.qConv(), kc.convKernel(), convQ[layer], b.slots(), ws.cq);
        ShortConv.forward(ws.kk, b.cuSeqlens(), width, k.kConv(), kc.convKernel(), convK[layer], b.slots(), ws.ck);
        ShortConv.forward(ws.kv, b.cuSeqlens(), width, k.vConv(), kc.convKernel(), convV[layer], b.slots(), ws.cv);
        float scale = (float) (1.0 / Math.sqrt(dim));
        for (int r = 0; r < t * heads; r++) {
            CpuOps.l2NormalizeRow(ws.cq, r * dim, dim, 1e-6f);
            CpuOps.l2NormalizeRow(ws.ck, r * dim, dim, 1e-6f);
            for (int c = 0; c < dim; c++) {
                ws.cq[r * dim + c] *= scale;
            }
        }
        // forget gate (log space, per channel) and beta
        CpuOps.matmulTransposed(h, t, d, k.fA(), dim, ws.low);
        CpuOps.matmulTransposed(ws.low, t, dim, k.fB(), width, ws.kq);
        KdaReference.gate(ws.kq, k.dtBias(), k.aLog(), t, heads, dim, ws.g);
        CpuOps.matmulTransposed(h, t, d, k.b(), heads, ws.beta);
        for (int i = 0; i < t * heads; i++) {
            ws.beta[i] = CpuOps.sigmoid(ws.beta[i]);
        }
        if (b.isDecode()) {
            KdaReference.recurrent(ws.cq, ws.ck, ws.cv, ws.g, ws.beta, b.cuSeqlens(), heads, dim, recurrent[layer],
                    b.slots(), ws.ko);
        } else {
            KdaReference.chunked(ws.cq, ws.ck, ws.cv, ws.g, ws.beta, b.cuSeqlens(), heads, dim, recurrent[layer],
                    b.slots(), ws.ko, KDA_CHUNK);
        }
        // output gate: RMSNorm per head, times sigmoid(W_gb·W_ga·x)
        CpuOps.matmulTransposed(h, t, d, k.gA(), dim, ws.low);
        CpuOps.matmulTransposed(ws.low, t, dim, k.gB(), width, ws.kk);
        for (int r = 0; r < t * heads; r++) {
            CpuOps.rmsNormRow(ws.ko, r * dim, k.oNorm(), cfg.rmsNormEps(), ws.ko, r * dim, dim);
        }
        for (int i = 0; i < t * width; i++) {
            ws.ko[i] *= CpuOps.sigmoid(ws.kk[i]);
        }
        CpuOps.matmulTransposed(ws.ko, t, width, k.o(), d, out);
    }

    /** MLA: latent written to the sequence's pages; expanded attention for prompts, absorbed for decode. */
    private void mla(CpuWeights.Mla m, int layer, StepBatch b, float[] h, float[] out) {
        MlaConfig mc = cfg.mla();
        int t = b.totalTokens();
        int d = cfg.hiddenSize();
        int heads = mc.numHeads();
        int dqk = mc.qkHeadDim();
        int dn = mc.qkNopeHeadDim();
        int dr = mc.qkRopeHeadDim();
        int dv = mc.vHeadDim();
        int r = mc.kvLoraRank();
        int lw = mc.latentWidth();
        if (m.q() != null) {
            CpuOps.matmulTransposed(h, t, d, m.q(), heads * dqk, ws.mq);
        } else {
            CpuOps.matmulTransposed(h, t, d, m.qA(), mc.qLoraRank(), ws.qLow);
            CpuOps.rmsNorm(ws.qLow, t, mc.qLoraRank(), m.qANorm(), mc.normEps(), ws.qLow);
            CpuOps.matmulTransposed(ws.qLow, t, mc.qLoraRank(), m.qB(), heads * dqk, ws.mq);
        }
        CpuOps.matmulTransposed(h, t, d, m.kvA(), lw, ws.kvLatent);
        float[] pool = latent[layer];
        for (int s = 0; s < b.sequences(); s++) {
            int ctx = b.contextLengths()[s];
            int[] table = b.blockTables()[s];
            for (int i = b.cuSeqlens()[s]; i < b.cuSeqlens()[s + 1]; i++) {
                CpuOps.rmsNormRow(ws.kvLatent, i * lw, m.kvANorm(), mc.normEps(), ws.kvLatent, i * lw, r);
                int pos = ctx + i - b.cuSeqlens()[s];
                int row = pageRow(table, pos, s);
                System.arraycopy(ws.kvLatent, i * lw, pool, row * lw, lw);
            }
        }
        float scale = (float) Math.pow(dqk, -0.5);
        for (int s = 0; s < b.sequences(); s++) {
            int first = b.cuSeqlens()[s];
            int n = b.newTokens(s);
            int ctx = b.contextLengths()[s];
            int[] table = b.blockTables()[s];
            if (n == 1) {
                MlaReference.decodeAbsorbed(ws.mq, first * heads * dqk, pool, table, pageSize, ctx + 1, m.kvB(),
                        heads, dn, dr, dv, r, scale, ws.mo, first * heads * dv, ws.decode);
                continue;
            }
            // expand keys and values of the whole visible context from the latent pages
            int total = ctx + n;
            int seq = s;
            ws.ensureContext(total);
            Parallel.forEach(total, Parallel.grainFor((long) heads * (dn + dv) * r), j -> {
                int row = pageRow(table, j, seq) * lw;
                for (int hh = 0; hh < heads; hh++) {
                    int kvRow = hh * (dn + dv);
                    int ko = (j * heads + hh) * dqk;
                    for (int e = 0; e < dn; e++) {
                        ws.ctxK[ko + e] = CpuOps.dot(m.kvB(), (kvRow + e) * r, pool, row, r);
                    }
                    System.arraycopy(pool, row + r, ws.ctxK, ko + dn, dr);
                    int vo = (j * heads + hh) * dv;
                    for (int e = 0; e < dv; e++) {
                        ws.ctxV[vo + e] = CpuOps.dot(m.kvB(), (kvRow + dn + e) * r, pool, row, r);
                    }
                }
            });
            float[] qSeq = ws.seqQ;
            System.arraycopy(ws.mq, first * heads * dqk, qSeq, 0, n * heads * dqk);
            MlaReference.attend(qSeq, n, ctx, ws.ctxK, ws.ctxV, total, heads, dqk, dv, scale, ws.seqO);
            System.arraycopy(ws.seqO, 0, ws.mo, first * heads * dv, n * heads * dv);
        }
        CpuOps.matmulTransposed(ws.mo, t, heads * dv, m.o(), d, out);
    }

    private int pageRow(int[] table, int pos, int seq) {
        int page = pos / pageSize;
        if (page >= table.length) {
            throw new IllegalArgumentException("sequence " + seq + ": position " + pos + " needs page " + page
                    + " but its block table has " + table.length + " pages");
        }
        return table[page] * pageSize + pos % pageSize;
    }

    /** SwiGLU: down(silu(gate·x) ⊙ up·x) over t rows; F is the weight's intermediate width. */
    private void mlp(CpuWeights.Mlp m, int t, float[] h, float[] out) {
        int d = cfg.hiddenSize();
        int f = m.gate().length / d;
        CpuOps.matmulTransposed(h, t, d, m.gate(), f, ws.gate);
        CpuOps.matmulTransposed(h, t, d, m.up(), f, ws.up);
        CpuOps.siluMul(ws.gate, ws.up, ws.gate, t * f);
        CpuOps.matmulTransposed(ws.gate, t, f, m.down(), d, out);
    }

    /** Routed experts (tokens grouped by expert) plus the shared experts. */
    private void moe(CpuWeights.Moe m, int t, float[] h, float[] out) {
        MoeConfig mc = cfg.moe();
        int d = cfg.hiddenSize();
        int e = mc.numExperts();
        int k = mc.topK();
        CpuOps.matmulTransposed(h, t, d, m.router(), e, ws.routerLogits);
        for (int i = 0; i < t; i++) {
            MoeReference.routeToken(ws.routerLogits, i * e, m.bias(), mc, ws.topIds, ws.topWeights, i * k,
                    ws.routeScores, ws.routeChoice, ws.groupScore, ws.groupKept);
        }
        if (m.shared() != null) {
            mlp(m.shared(), t, h, out);
        } else {
            Arrays.fill(out, 0, t * d, 0f);
        }
        // counting sort of (token, slot) pairs by expert
        Arrays.fill(ws.expertStart, 0);
        for (int i = 0; i < t * k; i++) {
            ws.expertStart[ws.topIds[i] + 1]++;
        }
        for (int i = 0; i < e; i++) {
            ws.expertStart[i + 1] += ws.expertStart[i];
        }
        System.arraycopy(ws.expertStart, 0, ws.expertFill, 0, e);
        for (int i = 0; i < t * k; i++) {
            ws.expertOrder[ws.expertFill[ws.topIds[i]]++] = i;
        }
        for (int ex = 0; ex < e; ex++) {
            int from = ws.expertStart[ex];
            int n = ws.expertStart[ex + 1] - from;
            if (n == 0) {
                continue;
            }
            for (int i = 0; i < n; i++) {
                System.arraycopy(h, ws.expertOrder[from + i] / k * d, ws.gathered, i * d, d);
            }
            mlp(m.experts().get(ex), n, ws.gathered, ws.expertOut);
            for (int i = 0; i < n; i++) {
                int pair = ws.expertOrder[from + i];
                CpuOps.axpy(ws.topWeights[pair], ws.expertOut, i * d, out, pair / k * d, d);
            }
        }
    }

    private static void add(float[] x, float[] y, int n) {
        for (int i = 0; i < n; i++) {
            x[i] += y[i];
        }
    }

    /** Every activation buffer of a step, grown to the largest step seen. */
    private static final class Workspace {
        private final KimiLinearConfig cfg;
        int capacity;
        float[] x, h, attn, mlpOut;
        float[] kq, kk, kv, cq, ck, cv, ko, g, beta, low;
        float[] mq, qLow, kvLatent, mo, seqQ, seqO;
        float[] ctxK = new float[0];
        float[] ctxV = new float[0];
        float[] gate, up, routerLogits, topWeights, gathered, expertOut;
        int[] topIds, expertStart, expertFill, expertOrder;
        float[] routeScores, routeChoice, groupScore;
        boolean[] groupKept;
        float[] lastHidden = new float[0];
        MlaReference.DecodeScratch decode;

        Workspace(KimiLinearConfig cfg) {
            this.cfg = cfg;
            if (cfg.mla() != null) {
                decode = new MlaReference.DecodeScratch(cfg.mla().numHeads(), cfg.mla().kvLoraRank(), 256);
            }
            if (cfg.moe() != null) {
                routeScores = new float[cfg.moe().numExperts()];
                routeChoice = new float[cfg.moe().numExperts()];
                groupScore = new float[cfg.moe().numGroups()];
                groupKept = new boolean[cfg.moe().numGroups()];
            }
        }

        void ensure(int t) {
            if (t <= capacity) {
                return;
            }
            int d = cfg.hiddenSize();
            x = new float[t * d];
            h = new float[t * d];
            attn = new float[t * d];
            mlpOut = new float[t * d];
            KdaConfig k = cfg.kda();
            if (k != null) {
                int width = k.width();
                kq = new float[t * width];
                kk = new float[t * width];
                kv = new float[t * width];
                cq = new float[t * width];
                ck = new float[t * width];
                cv = new float[t * width];
                ko = new float[t * width];
                g = new float[t * width];
                beta = new float[t * k.numHeads()];
                low = new float[t * k.headDim()];
            }
            MlaConfig m = cfg.mla();
            if (m != null) {
                mq = new float[t * m.numHeads() * m.qkHeadDim()];
                seqQ = new float[t * m.numHeads() * m.qkHeadDim()];
                qLow = new float[t * Math.max(1, m.qLoraRank())];
                kvLatent = new float[t * m.latentWidth()];
                mo = new float[t * m.numHeads() * m.vHeadDim()];
                seqO = new float[t * m.numHeads() * m.vHeadDim()];
            }
            int f = cfg.intermediateSize();
            MoeConfig moe = cfg.moe();
            if (moe != null) {
                f = Math.max(f, moe.intermediateSize() * Math.max(1, moe.numSharedExperts()));
                routerLogits = new float[t * moe.numExperts()];
                topIds = new int[t * moe.topK()];
                topWeights = new float[t * moe.topK()];
                expertStart = new int[moe.numExperts() + 1];
                expertFill = new int[moe.numExperts()];
                expertOrder = new int[t * moe.topK()];
                gathered = new float[t * d];
                expertOut = new float[t * d];
            }
            gate = new float[t * f];
            up = new float[gate.length];
            capacity = t;
        }

        void ensureContext(int total) {
            MlaConfig m = cfg.mla();
            if (ctxK.length < total * m.numHeads() * m.qkHeadDim()) {
                int cap = Math.max(total, ctxK.length / (m.numHeads() * m.qkHeadDim()) * 2);
                ctxK = new float[cap * m.numHeads() * m.qkHeadDim()];
                ctxV = new float[cap * m.numHeads() * m.vHeadDim()];
            }
        }

        void ensureRows(int rows) {
            if (lastHidden.length < rows * cfg.hiddenSize()) {
                lastHidden = new float[rows * cfg.hiddenSize()];
            }
        }
    }
}
