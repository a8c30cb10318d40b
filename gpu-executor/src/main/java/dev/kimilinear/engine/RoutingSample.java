package dev.kimilinear.engine;

import dev.kimilinear.model.KimiLinearConfig;

/**
 * How often each routed expert is chosen, per MoE layer, over the forwards it observes: from
 * these frequencies, how many experts a step of N tokens is expected to read. A trained model
 * spreads its tokens; a random one may send most of them to a few experts, so a floor that
 * assumes uniform routing overstates what its steps read.
 */
public final class RoutingSample implements LayerProbe {
    private final KimiLinearConfig cfg;
    private final long[][] choices;

    public RoutingSample(KimiLinearConfig cfg) {
        if (cfg.moe() == null) {
            throw new IllegalArgumentException("the model has no MoE layers to sample");
        }
        this.cfg = cfg;
        this.choices = new long[cfg.numLayers()][];
    }

    @Override
    public void observe(int layer, Block block, float[] hidden) {
    }

    @Override
    public void routed(int layer, int[] tokensPerExpert) {
        if (choices[layer] == null) {
            choices[layer] = new long[tokensPerExpert.length];
        }
        for (int e = 0; e < tokensPerExpert.length; e++) {
            choices[layer][e] += tokensPerExpert[e];
        }
    }

    /** Tokens seen by a MoE layer (each makes top-k choices), 0 before any. */
    public long tokens(int layer) {
        if (choices[layer] == null) {
            return 0;
        }
        long sum = 0;
        for (long c : choices[layer]) {
            sum += c;
        }
        return sum / cfg.moe().topK();
    }

    /**
     * Per layer, the routed experts {@code n} tokens are expected to touch if each token takes
     * expert e with the frequency sampled (tokens independent): sum over e of 1 - (1 - f_e)^n.
     * Layers not sampled (dense, or no forward yet) get uniform routing's expectation.
     */
    public double[] expectedTouched(int n) {
        double[] touched = new double[cfg.numLayers()];
        for (int l = 0; l < touched.length; l++) {
            long tokens = tokens(l);
            if (tokens == 0) {
                touched[l] = StepRoofline.expertsTouched(cfg.moe(), n);
                continue;
            }
            for (long c : choices[l]) {
                touched[l] += 1 - Math.pow(1 - (double) c / tokens, n);
            }
        }
        return touched;
    }

    /** The mean of {@link #expectedTouched} over the MoE layers. */
    public double meanTouched(int n) {
        double[] touched = expectedTouched(n);
        double sum = 0;
        int layers = 0;
        for (int l = 0; l < touched.length; l++) {
            if (cfg.isMoe(l)) {
                sum += touched[l];
                layers++;
            }
        }
        return layers == 0 ? 0 : sum / layers;
    }
}
