package dev.kimilinear.model;

import java.nio.file.Path;
import java.util.Locale;

/**
 * How the linear layers' weights are held for the forward: the experts, the dense MLP and the
 * KDA and MLA projections. Embeddings, norms, the router and lm_head stay bf16 in both.
 */
public enum WeightPrecision {
    /** bf16, as released. */
    BF16,
    /**
     * e4m3 with one fp32 scale per output channel (row of the [out, in] matrix): half the bytes,
     * so the 48B model fits one 80 GB GPU and decode reads half the weight bytes a step.
     */
    FP8;

    /** "bf16" or "fp8" (any case); anything else is an error listing the choices. */
    public static WeightPrecision parse(String name) {
        try {
            return valueOf(name.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown weight precision '" + name + "': expected bf16 or fp8");
        }
    }

    /**
     * The precision a model directory's checkpoint stores its linear weights in: FP8 when its
     * config.json declares a quantization_config (read by {@link Fp8QuantizationConfig}), else BF16.
     */
    public static WeightPrecision stored(Path modelDir) {
        return Fp8QuantizationConfig.load(modelDir.resolve("config.json")) != null ? FP8 : BF16;
    }

    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
