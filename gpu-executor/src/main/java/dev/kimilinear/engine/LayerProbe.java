package dev.kimilinear.engine;

/**
 * Observes the residual stream inside a forward: after each layer's attention block (KDA or
 * MLA, residual added) and after its MLP block (dense or MoE, residual added). Backends that
 * accept one download the state for it, so it is for debugging and layer-by-layer
 * comparisons between backends, never for serving.
 */
@FunctionalInterface
public interface LayerProbe {
    /** Where in a layer the hidden state was taken. */
    enum Block { ATTENTION, MLP }

    /** @param hidden [tokens, hidden size] fp32, a copy the probe may keep */
    void observe(int layer, Block block, float[] hidden);

    /**
     * After a MoE layer's routing: how many of the step's (token, choice) pairs each routed
     * expert took (shared experts aside). For measuring what a step reads, not only for parity.
     *
     * @param tokensPerExpert [experts], a copy the probe may keep
     */
    default void routed(int layer, int[] tokensPerExpert) {
    }
}
