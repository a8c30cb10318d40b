package dev.kimilinear.model;

import dev.kimilinear.checkpoint.Checkpoint;
import dev.kimilinear.checkpoint.Tensor;

import java.util.ArrayList;
import java.util.List;

/**
 * Every tensor of a Kimi Linear checkpoint, bound by the original release's names and
 * checked against the config's shapes. Tensors stay memory-mapped; a backend reads them
 * into its own layout (widened floats on the CPU, bf16 or e4m3 device buffers on CUDA). In an
 * FP8 checkpoint the linear layers' weights are F8_E4M3 tensors carrying their per-row scale
 * ({@link Tensor#scale()}); their float reads are the dequantised values.
 */
public record ModelWeights(
        KimiLinearConfig config,
        Tensor embedTokens,   // [V, d]
        Tensor finalNorm,     // [d]
        Tensor lmHead,        // [V, d]; the embedding when tied
        List<Layer> layers) {

    /**
     * Binds every tensor of {@code checkpoint} by the original release's names, checking each
     * shape against {@code config}; a missing, misshapen or non-float tensor, or a tensor the
     * config has no place for, is a {@link dev.kimilinear.checkpoint.CheckpointException} naming
     * tensor and file.
     */
    public static ModelWeights bind(KimiLinearConfig config, Checkpoint checkpoint) {
        return new ModelWeightsBinder(config, checkpoint).bind();
    }

    /**
     * The linear layers' weights, the ones an FP8 checkpoint stores as e4m3: the KDA and MLA
     * projections, the dense MLPs, every expert and the shared experts. Not the embedding,
     * lm_head, norms, convolutions, routers or the KDA gate parameters (A_log, dt_bias).
     */
    public List<Tensor> linearWeights() {
        List<Tensor> out = new ArrayList<>();
        for (Layer l : layers) {
            if (l.kda() != null) {
                Kda k = l.kda();
                out.addAll(List.of(k.qProj(), k.kProj(), k.vProj(), k.fAProj(), k.fBProj(), k.bProj(),
                        k.gAProj(), k.gBProj(), k.oProj()));
            } else {
                Mla m = l.mla();
                for (Tensor t : new Tensor[] {m.qProj(), m.qAProj(), m.qBProj()}) {
                    if (t != null) {
                        out.add(t);
                    }
                }
                out.addAll(List.of(m.kvAProj(), m.kvBProj(), m.oProj()));
            }
            if (l.dense() != null) {
                addMlp(out, l.dense());
            } else {
                l.moe().experts().forEach(e -> addMlp(out, e));
                if (l.moe().shared() != null) {
                    addMlp(out, l.moe().shared());
                }
            }
        }
        return out;
    }

    private static void addMlp(List<Tensor> out, Mlp m) {
        out.addAll(List.of(m.gate(), m.up(), m.down()));
    }

    /** One decoder layer: exactly one of kda / mla, exactly one of dense / moe is non-null. */
    public record Layer(Tensor inputNorm, Tensor postAttentionNorm,
                        Kda kda, Mla mla, Mlp dense, Moe moe) {
    }

    public record Kda(
            Tensor qProj, Tensor kProj, Tensor vProj,      // [H*D, d]
            Tensor qConv, Tensor kConv, Tensor vConv,      // [H*D, 1, K]
            Tensor fAProj,                                 // [D, d]
            Tensor fBProj,                                 // [H*D, D]
            Tensor dtBias,                                 // [H*D]
            Tensor aLog,                                   // [1, 1, H, 1] (or [H])
            Tensor bProj,                                  // [H, d]
            Tensor gAProj,                                 // [D, d]
            Tensor gBProj,                                 // [H*D, D]
            Tensor oNorm,                                  // [D]
            Tensor oProj) {                                // [d, H*D]
    }

    /** qProj is null when the q LoRA path (qAProj, qANorm, qBProj) is used, and vice versa. */
    public record Mla(
            Tensor qProj,                                  // [H*(dn+dr), d]
            Tensor qAProj, Tensor qANorm, Tensor qBProj,   // [q_r, d], [q_r], [H*(dn+dr), q_r]
            Tensor kvAProj,                                // [r + dr, d]
            Tensor kvANorm,                                // [r]
            Tensor kvBProj,                                // [H*(dn+dv), r]
            Tensor oProj) {                                // [d, H*dv]
    }

    /** SwiGLU: down(silu(gate x) * up x). */
    public record Mlp(Tensor gate, Tensor up, Tensor down) {  // [F, d], [F, d], [d, F]
    }

    /** shared is null without shared experts. */
    public record Moe(Tensor router,                       // [E, d]
                      Tensor correctionBias,               // [E]
                      List<Mlp> experts,
                      Mlp shared) {
    }
}
