package dev.kimilinear.model;

import dev.kimilinear.checkpoint.Checkpoint;
import dev.kimilinear.checkpoint.CheckpointException;
import dev.kimilinear.checkpoint.DType;
import dev.kimilinear.checkpoint.Tensor;
import dev.kimilinear.model.KimiLinearConfig.KdaConfig;
import dev.kimilinear.model.KimiLinearConfig.MlaConfig;
import dev.kimilinear.model.KimiLinearConfig.MoeConfig;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * Looks up each tensor of the model by name and shape, remembering which ones it used. The
 * linear layers' weights may be F8_E4M3, each with its {@code <name>_scale} attached (the
 * compressed-tensors layout); everything else is BF16, F16 or F32.
 */
final class ModelWeightsBinder {
    private final KimiLinearConfig c;
    private final Checkpoint checkpoint;
    /** Appended to a weight's name to name its per-row scale, as compressed-tensors does. */
    static final String SCALE_SUFFIX = "_scale";

    private final Set<String> used = new HashSet<>();

    ModelWeightsBinder(KimiLinearConfig config, Checkpoint checkpoint) {
        this.c = config;
        this.checkpoint = checkpoint;
    }

    ModelWeights bind() {
        long d = c.hiddenSize();
        long vocab = c.vocabSize();
        Tensor embed = take("model.embed_tokens.weight", vocab, d);
        Tensor norm = take("model.norm.weight", d);
        Tensor lmHead;
        if (c.tieWordEmbeddings() && !checkpoint.contains("lm_head.weight")) {
            lmHead = embed;
        } else {
            lmHead = take("lm_head.weight", vocab, d);
        }
        List<ModelWeights.Layer> layers = new ArrayList<>();
        for (int l = 0; l < c.numLayers(); l++) {
            String p = "model.layers." + l + ".";
            Tensor inputNorm = take(p + "input_layernorm.weight", d);
            Tensor postNorm = take(p + "post_attention_layernorm.weight", d);
            ModelWeights.Kda kda = c.isKda(l) ? kda(p + "self_attn.") : null;
            ModelWeights.Mla mla = c.isKda(l) ? null : mla(p + "self_attn.");
            ModelWeights.Mlp dense = null;
            ModelWeights.Moe moe = null;
            if (c.isMoe(l)) {
                moe = moe(p + "block_sparse_moe.");
            } else {
                String prefix = checkpoint.contains(p + "mlp.gate_proj.weight") ? p + "mlp." : p + "block_sparse_moe.";
                dense = mlp(prefix, c.intermediateSize());
            }
            layers.add(new ModelWeights.Layer(inputNorm, postNorm, kda, mla, dense, moe));
        }
        Set<String> unused = new TreeSet<>(checkpoint.names());
        unused.removeAll(used);
        if (!unused.isEmpty()) {
            List<String> some = new ArrayList<>(unused).subList(0, Math.min(5, unused.size()));
            throw new CheckpointException("checkpoint " + checkpoint.source() + " holds " + unused.size()
                    + " tensor(s) the config has no place for, e.g. " + some
                    + "; expected the tensors of exactly the configured model");
        }
        return new ModelWeights(c, embed, norm, lmHead, List.copyOf(layers));
    }

    private ModelWeights.Kda kda(String p) {
        KdaConfig k = c.kda();
        long d = c.hiddenSize();
        long width = k.width();
        long dim = k.headDim();
        return new ModelWeights.Kda(
                linear(p + "q_proj.weight", width, d),
                linear(p + "k_proj.weight", width, d),
                linear(p + "v_proj.weight", width, d),
                take(p + "q_conv1d.weight", width, 1, k.convKernel()),
                take(p + "k_conv1d.weight", width, 1, k.convKernel()),
                take(p + "v_conv1d.weight", width, 1, k.convKernel()),
                linear(p + "f_a_proj.weight", dim, d),
                linear(p + "f_b_proj.weight", width, dim),
                take(p + "dt_bias", width),
                aLog(p + "A_log", k.numHeads()),
                linear(p + "b_proj.weight", k.numHeads(), d),
                linear(p + "g_a_proj.weight", dim, d),
                linear(p + "g_b_proj.weight", width, dim),
                take(p + "o_norm.weight", dim),
                linear(p + "o_proj.weight", d, width));
    }

    /** Stored as [1, 1, H, 1] by the release; [H] is the same values. */
    private Tensor aLog(String name, long heads) {
        Tensor t = checkpoint.tensor(name);
        if (!t.hasShape(1, 1, heads, 1) && !t.hasShape(heads)) {
            throw new CheckpointException(t.file() + ": tensor " + name + " has shape " + Arrays.toString(t.shape())
                    + "; expected [1, 1, " + heads + ", 1] or [" + heads + "]");
        }
        used.add(name);
        return Checkpoint.requireWeightDtype(t);
    }

    private ModelWeights.Mla mla(String p) {
        MlaConfig m = c.mla();
        long d = c.hiddenSize();
        long heads = m.numHeads();
        long qWidth = heads * m.qkHeadDim();
        Tensor qProj = null;
        Tensor qAProj = null;
        Tensor qANorm = null;
        Tensor qBProj = null;
        if (m.qLoraRank() > 0) {
            qAProj = linear(p + "q_a_proj.weight", m.qLoraRank(), d);
            qANorm = take(p + "q_a_layernorm.weight", m.qLoraRank());
            qBProj = linear(p + "q_b_proj.weight", qWidth, m.qLoraRank());
        } else {
            qProj = linear(p + "q_proj.weight", qWidth, d);
        }
        return new ModelWeights.Mla(qProj, qAProj, qANorm, qBProj,
                linear(p + "kv_a_proj_with_mqa.weight", m.latentWidth(), d),
                take(p + "kv_a_layernorm.weight", m.kvLoraRank()),
                linear(p + "kv_b_proj.weight", heads * (m.qkNopeHeadDim() + m.vHeadDim()), m.kvLoraRank()),
                linear(p + "o_proj.weight", d, heads * m.vHeadDim()));
    }

    private ModelWeights.Moe moe(String p) {
        MoeConfig m = c.moe();
        long d = c.hiddenSize();
        Tensor router = take(p + "gate.weight", m.numExperts(), d);
        Tensor bias = take(p + "gate.e_score_correction_bias", m.numExperts());
        List<ModelWeights.Mlp> experts = new ArrayList<>(m.numExperts());
        for (int e = 0; e < m.numExperts(); e++) {
            String q = p + "experts." + e + ".";
            experts.add(new ModelWeights.Mlp(
                    linear(q + "w1.weight", m.intermediateSize(), d),
                    linear(q + "w3.weight", m.intermediateSize(), d),
                    linear(q + "w2.weight", d, m.intermediateSize())));
        }
        ModelWeights.Mlp shared = m.numSharedExperts() > 0
                ? mlp(p + "shared_experts.", (long) m.intermediateSize() * m.numSharedExperts())
                : null;
        return new ModelWeights.Moe(router, bias, List.copyOf(experts), shared);
    }

    private ModelWeights.Mlp mlp(String p, long width) {
        long d = c.hiddenSize();
        return new ModelWeights.Mlp(
                linear(p + "gate_proj.weight", width, d),
                linear(p + "up_proj.weight", width, d),
                linear(p + "down_proj.weight", d, width));
    }

    private Tensor take(String name, long... shape) {
        Tensor t = checkpoint.requireShape(name, shape);
        if (t.dtype() == DType.F8_E4M3) {
            throw new CheckpointException(t.file() + ": tensor " + name + " has dtype F8_E4M3; expected BF16, F16 or"
                    + " F32: only the linear layers' weights are read as FP8 (embeddings, norms, routers, lm_head,"
                    + " convolutions stay as released; list them in quantization_config.ignore)");
        }
        Checkpoint.requireWeightDtype(t);
        used.add(name);
        return t;
    }

    /** A linear layer's [out, in] weight: a float type, or F8_E4M3 with its per-row scale attached. */
    private Tensor linear(String name, long... shape) {
        Tensor t = checkpoint.requireShape(name, shape);
        used.add(name);
        if (t.dtype() != DType.F8_E4M3) {
            return Checkpoint.requireWeightDtype(t);
        }
        String scaleName = name + SCALE_SUFFIX;
        if (!checkpoint.contains(scaleName)) {
            throw new CheckpointException(t.file() + ": tensor " + name + " is F8_E4M3 but its scale " + scaleName
                    + " is missing from checkpoint " + checkpoint.source()
                    + "; expected one F32 or BF16 scale per row, shape [" + shape[0] + ", 1]");
        }
        used.add(scaleName);
        return t.withScale(checkpoint.tensor(scaleName));
    }
}
