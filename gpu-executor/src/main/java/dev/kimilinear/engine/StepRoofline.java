package dev.kimilinear.engine;

import dev.kimilinear.model.KimiLinearConfig;
import dev.kimilinear.model.KimiLinearConfig.KdaConfig;
import dev.kimilinear.model.KimiLinearConfig.MlaConfig;
import dev.kimilinear.model.KimiLinearConfig.MoeConfig;
import dev.kimilinear.model.WeightPrecision;

/**
 * What a step must cost at the least, from the model's shapes alone: the bytes a decode step
 * has to move (weights it reads, states it reads and writes, the latent cache it reads, the
 * logits it writes and reads back), and the FLOPs a prefill has to do (the products of the
 * parameters each token meets, causal MLA attention, the KDA recurrence). Over the device's
 * copy bandwidth and matrix rate these are the floors benchmarks print beside their figures.
 * Norms, activations and metadata are left out (under 1% at the mission's shapes).
 */
public final class StepRoofline {
    private StepRoofline() {
    }

    /** Matrix parameters of one layer's attention. */
    static long attentionParams(KimiLinearConfig cfg, int layer) {
        long d = cfg.hiddenSize();
        if (cfg.isKda(layer)) {
            KdaConfig k = cfg.kda();
            long w = k.width();
            long hd = k.headDim();
            // q, k, v; the gate's and the forget gate's low-rank pairs; beta; o
            return 3 * w * d + 2 * (hd * d + w * hd) + (long) k.numHeads() * d + d * w;
        }
        MlaConfig m = cfg.mla();
        long h = m.numHeads();
        long q = m.qLoraRank() == 0 ? h * m.qkHeadDim() * d
                : (long) m.qLoraRank() * d + h * m.qkHeadDim() * m.qLoraRank();
        return q + (long) m.latentWidth() * d + h * (m.qkNopeHeadDim() + m.vHeadDim()) * m.kvLoraRank()
                + d * h * m.vHeadDim();
    }

    /** Parameters of one expert (gate, up, down). */
    static long expertParams(KimiLinearConfig cfg) {
        return 3L * cfg.moe().intermediateSize() * cfg.hiddenSize();
    }

    /** Experts that N tokens are expected to touch in one MoE layer, under uniform routing. */
    public static double expertsTouched(MoeConfig moe, long tokens) {
        double miss = Math.pow(1 - (double) moe.topK() / moe.numExperts(), tokens);
        return moe.numExperts() * (1 - miss);
    }

    /**
     * Bytes a decode-only step of {@code sequences} sequences with {@code context} cached tokens
     * each must move, its linear layers' weights held in {@code weights}: e4m3 codes are one byte
     * (their scales, one float a row, are left out), while the embedding, routers, lm_head and
     * the MLA kv_b_proj (read in absorbed forms) stay bf16 in either precision.
     */
    public static double decodeBytes(KimiLinearConfig cfg, int sequences, long context, WeightPrecision weights) {
        return decodeBytes(cfg, sequences, context, weights, null);
    }

    /**
     * {@link #decodeBytes(KimiLinearConfig, int, long, WeightPrecision)} with the routed experts
     * each MoE layer touches given (touched[layer]; null: uniform routing's expectation).
     */
    public static double decodeBytes(KimiLinearConfig cfg, int sequences, long context, WeightPrecision weights,
                                     double[] touched) {
        double linear = weights == WeightPrecision.FP8 ? 1 : 2;
        double bytes = 0;
        for (int l = 0; l < cfg.numLayers(); l++) {
            bytes += linear * attentionParams(cfg, l);
            if (cfg.isKda(l)) {
                bytes += 2.0 * 4 * sequences * cfg.kda().stateFloats();   // read and written
            } else {
                MlaConfig m = cfg.mla();
                bytes += (2 - linear) * m.numHeads() * (m.qkNopeHeadDim() + m.vHeadDim()) * (double) m.kvLoraRank();
                bytes += 2.0 * sequences * (context + 1) * m.latentWidth();   // bf16 latent read, the new row written
            }
            if (cfg.isMoe(l)) {
                MoeConfig moe = cfg.moe();
                bytes += 2.0 * moe.numExperts() * cfg.hiddenSize();          // the router
                double routed = touched != null ? touched[l] : expertsTouched(moe, (long) sequences);
                bytes += linear * (routed + moe.numSharedExperts()) * expertParams(cfg);
            } else {
                bytes += linear * 3.0 * cfg.intermediateSize() * cfg.hiddenSize();
            }
        }
        bytes += 2.0 * cfg.vocabSize() * cfg.hiddenSize();   // lm_head
        bytes += 2.0 * 4 * sequences * (double) cfg.vocabSize();              // logits written, read by the choice
        return bytes;
    }

    /**
     * FLOPs of a prefill of {@code prompts} prompts of {@code length} tokens each, from an empty
     * cache, one logits row per prompt.
     */
    public static double prefillFlops(KimiLinearConfig cfg, int prompts, long length) {
        double tokens = (double) prompts * length;
        double flops = 0;
        for (int l = 0; l < cfg.numLayers(); l++) {
            flops += 2 * tokens * attentionParams(cfg, l);
            if (cfg.isKda(l)) {
                KdaConfig k = cfg.kda();
                // the recurrence per token and head: k^T S, the rank-1 update, q S
                flops += tokens * k.numHeads() * 6.0 * k.headDim() * k.headDim();
            } else {
                MlaConfig m = cfg.mla();
                // causal attention in expanded form, as SDPA counts it
                flops += prompts * 2.0 * length * (length + 1) / 2 * m.numHeads() * (m.qkHeadDim() + m.vHeadDim());
            }
            if (cfg.isMoe(l)) {
                MoeConfig moe = cfg.moe();
                flops += 2 * tokens * ((double) moe.numExperts() * cfg.hiddenSize()
                        + (moe.topK() + moe.numSharedExperts()) * (double) expertParams(cfg));
            } else {
                flops += 2 * tokens * 3.0 * cfg.intermediateSize() * cfg.hiddenSize();
            }
        }
        flops += 2.0 * prompts * cfg.vocabSize() * cfg.hiddenSize();
        return flops;
    }
}
