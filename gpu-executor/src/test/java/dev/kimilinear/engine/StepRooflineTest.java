package dev.kimilinear.engine;

import dev.kimilinear.model.KimiLinearConfig;
import dev.kimilinear.model.WeightPrecision;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The floors of the 4-layer model of the 48B shapes, against the parts counted by hand. */
class StepRooflineTest {
    static final KimiLinearConfig CFG = KimiLinearConfig.load(Path.of("bench/kimi_linear_48b_4layers.json"));

    @Test
    void aDecodeStepOf256SequencesMovesEveryExpertTheStatesAndTheHead() {
        double bytes = StepRoofline.decodeBytes(CFG, 256, 1088, WeightPrecision.BF16);
        double experts = 3 * 256 * 3.0 * 1024 * 2304 * 2;   // three MoE layers, all but certainly all touched
        double head = 163840.0 * 2304 * 2;
        double states = 3 * 2 * 256 * 4.0 * 32 * 128 * 128;
        double latent = 256 * 1089.0 * 576 * 2;
        double logits = 2 * 256 * 4.0 * 163840;
        double counted = experts + head + states + latent + logits;
        assertTrue(bytes > counted, "the attention and dense weights come on top: " + bytes + " vs " + counted);
        assertTrue(bytes < counted + 1.0e9, "and they are under 1 GB: " + (bytes - counted));
        assertEquals(8, StepRoofline.expertsTouched(CFG.moe(), 1), 1e-9);
        assertEquals(256, StepRoofline.expertsTouched(CFG.moe(), 4096), 1e-6);
    }

    @Test
    void aPrefillCountsTheActiveParametersAndCausalAttention() {
        double one = StepRoofline.prefillFlops(CFG, 1, 1024);
        double two = StepRoofline.prefillFlops(CFG, 2, 1024);
        assertEquals(2 * one, two, 1e-6 * two, "prompts are independent");
        double longer = StepRoofline.prefillFlops(CFG, 1, 2048);
        double attention = 2.0 * (2048.0 * 2049 / 2 - 2 * 1024.0 * 1025 / 2) * 32 * (192 + 128);
        double head = 2.0 * 163840 * 2304;   // one logits row per prompt
        assertEquals(2 * one - head + attention, longer, 1e-9 * longer, "only MLA attention grows faster than the length");
    }

    /** e4m3 linear weights halve those bytes; the head, routers, kv_b_proj, states and cache do not change. */
    @Test
    void fp8WeightsHalveTheLinearLayersBytesOnly() {
        double bf16 = StepRoofline.decodeBytes(CFG, 256, 1088, WeightPrecision.BF16);
        double fp8 = StepRoofline.decodeBytes(CFG, 256, 1088, WeightPrecision.FP8);
        double linear = 0;
        for (int l = 0; l < CFG.numLayers(); l++) {
            linear += StepRoofline.attentionParams(CFG, l);
            if (!CFG.isKda(l)) {
                linear -= 32.0 * (128 + 128) * 512;   // kv_b_proj stays bf16
            }
            linear += CFG.isMoe(l) ? (StepRoofline.expertsTouched(CFG.moe(), 256) + CFG.moe().numSharedExperts())
                    * StepRoofline.expertParams(CFG) : 3.0 * CFG.intermediateSize() * CFG.hiddenSize();
        }
        assertEquals(bf16 - linear, fp8, 1e-9 * bf16, "one byte less per linear weight");
    }

    /** Routing as sampled replaces uniform routing's expectation, expert for expert. */
    @Test
    void sampledRoutingCountsTheExpertsTouched() {
        double[] touched = new double[CFG.numLayers()];
        for (int l = 0; l < touched.length; l++) {
            touched[l] = StepRoofline.expertsTouched(CFG.moe(), 256);
        }
        double uniform = StepRoofline.decodeBytes(CFG, 256, 1088, WeightPrecision.BF16);
        assertEquals(uniform, StepRoofline.decodeBytes(CFG, 256, 1088, WeightPrecision.BF16, touched), 1e-9 * uniform);
        touched[1] -= 100;
        touched[3] -= 50;
        assertEquals(uniform - 150 * 2.0 * StepRoofline.expertParams(CFG),
                StepRoofline.decodeBytes(CFG, 256, 1088, WeightPrecision.BF16, touched), 1e-9 * uniform);
    }
}
