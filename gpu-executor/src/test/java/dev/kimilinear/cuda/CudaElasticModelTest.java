package dev.kimilinear.cuda;

import dev.kimilinear.checkpoint.Checkpoint;
import dev.kimilinear.engine.ElasticLayoutsCheck;
import dev.kimilinear.engine.Engine;
import dev.kimilinear.engine.EngineConfig;
import dev.kimilinear.engine.EngineStats;
import dev.kimilinear.engine.GenerationRequest;
import dev.kimilinear.engine.GenerationResult;
import dev.kimilinear.engine.Prompt;
import dev.kimilinear.engine.SamplingParams;
import dev.kimilinear.model.KimiLinearConfig;
import dev.kimilinear.model.WeightPrecision;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The elastic model on GPUs, its ranks on one GPU: replicated, pooled after a relief (the held
 * state carried through the host into the stages), and replicated again after a restore that
 * moves the sequences to other ids, against one plain model holding the same ids; and an engine
 * whose burst of prompts pools the replicas instead of preempting, its tokens those of a roomy
 * plain engine.
 */
@Tag("gpu")
class CudaElasticModelTest {
    private static final int PAGE = 16;
    private static final int[] DEVICES = {0, 0};

    @Test
    void replicatedPooledAndRestoredLayoutsComputeWhatOneModelDoes() {
        CudaContext ctx = GpuTest.context();
        KimiLinearConfig cfg = KimiLinearConfig.load(CudaModelTest.FIXTURE.resolve("config.json"));
        try (CudaElasticModel elastic = CudaElasticModel.open(Checkpoint.open(CudaModelTest.FIXTURE), cfg, DEVICES,
                64L << 20, PAGE, 256, 16, ActivationPrecision.SPLIT, WeightPrecision.BF16);
             CudaModel plain = CudaModel.load(CudaModelTest.FIXTURE, ctx.device().index(), PAGE, 256, 16,
                     ActivationPrecision.SPLIT)) {
            ElasticLayoutsCheck.run(elastic, plain, 16, 4, new int[] {20, 27, 34, 41}, 2e-3);
        }
    }

    @Test
    void aBurstPoolsTheReplicasInsteadOfPreempting() {
        CudaContext ctx = GpuTest.context();
        KimiLinearConfig cfg = KimiLinearConfig.load(CudaModelTest.FIXTURE.resolve("config.json"));
        Random random = new Random(11);
        List<GenerationRequest> burst = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            int[] prompt = random.ints(100 + random.nextInt(30), 3, cfg.vocabSize()).toArray();
            burst.add(new GenerationRequest("b" + i, new Prompt.Tokens(prompt), SamplingParams.greedy(24)));
        }
        List<GenerationResult> expected;
        try (CudaModel roomy = CudaModel.load(CudaModelTest.FIXTURE, ctx.device().index(), PAGE, 256, 16,
                ActivationPrecision.SPLIT);
             Engine e = new Engine(roomy, null, new EngineConfig(256, 64, 8, 0, 256))) {
            expected = CudaEngineTest.run(e, burst);
        }
        try (CudaElasticModel elastic = CudaElasticModel.open(Checkpoint.open(CudaModelTest.FIXTURE), cfg, DEVICES,
                1L << 30, PAGE, 256, 16, ActivationPrecision.SPLIT, WeightPrecision.BF16)) {
            // 6 slots and 48 pages (24 a replica): the burst's sequences reach 9 pages each
            long budget = 6 * elastic.bytesPerSlot() + 48 * elastic.bytesPerPage();
            try (Engine e = new Engine(elastic, null, new EngineConfig(256, 64, 6, budget, 256))) {
                List<GenerationResult> got = CudaEngineTest.run(e, burst);
                EngineStats s = e.stats();
                assertTrue(s.reliefs() >= 1, "expected a relief: " + s);
                assertEquals(0, s.preemptions(), s.toString());
                assertEquals(expected.size(), got.size());
                for (int i = 0; i < got.size(); i++) {
                    assertArrayEquals(expected.get(i).outputIds(), got.get(i).outputIds(), got.get(i).requestId());
                }
            }
        }
    }
}
