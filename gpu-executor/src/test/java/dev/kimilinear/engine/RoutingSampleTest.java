package dev.kimilinear.engine;

import dev.kimilinear.cpu.CpuBackend;
import dev.kimilinear.model.KimiLinearConfig;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What a routing sample holds, and what it expects N tokens to touch. */
class RoutingSampleTest {

    @Test
    void theCpuBackendReportsEveryTokensChoicesPerMoeLayer() throws Exception {
        try (CpuBackend cpu = CpuBackend.load(TestModels.fixture())) {
            KimiLinearConfig cfg = cpu.config();
            RoutingSample sample = new RoutingSample(cfg);
            List<Integer> layers = new ArrayList<>();
            cpu.setProbe(new LayerProbe() {
                @Override
                public void observe(int layer, Block block, float[] hidden) {
                }

                @Override
                public void routed(int layer, int[] tokensPerExpert) {
                    layers.add(layer);
                    sample.routed(layer, tokensPerExpert);
                }
            });
            try (Engine engine = new Engine(cpu, null, new EngineConfig(256, 32, 4, 0, 64))) {
                TestModels.runAlone(engine, TestModels.tokens("a", TestModels.randomIds(new Random(1), 40,
                        cfg.vocabSize()), SamplingParams.greedy(1)));
            }
            int moeLayers = 0;
            for (int l = 0; l < cfg.numLayers(); l++) {
                if (cfg.isMoe(l)) {
                    moeLayers++;
                    assertEquals(40, sample.tokens(l), "every prompt token routed once in layer " + l + " (prefill in chunks)");
                    double one = sample.expectedTouched(1)[l];
                    assertEquals(cfg.moe().topK(), one, 1e-9, "one token touches its top-k");
                    assertTrue(sample.expectedTouched(40)[l] <= cfg.moe().numExperts() + 1e-9);
                } else {
                    assertEquals(0, sample.tokens(l));
                }
            }
            assertEquals(2 * moeLayers, layers.size(), "one report per MoE layer and forward (two chunks): " + layers);
        }
    }

    @Test
    void tokensThatAllChooseTheSameExpertsTouchOnlyThose() {
        KimiLinearConfig cfg = StepRooflineTest.CFG;
        RoutingSample sample = new RoutingSample(cfg);
        int[] counts = new int[cfg.moe().numExperts()];
        for (int e = 0; e < cfg.moe().topK(); e++) {
            counts[e] = 1000;
        }
        sample.routed(1, counts);
        assertEquals(1000, sample.tokens(1));
        assertEquals(cfg.moe().topK(), sample.expectedTouched(256)[1], 1e-9);
        assertEquals(StepRoofline.expertsTouched(cfg.moe(), 256), sample.expectedTouched(256)[2], 1e-9,
                "a layer not sampled keeps uniform routing");
    }
}
