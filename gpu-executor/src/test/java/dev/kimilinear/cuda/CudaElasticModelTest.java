package dev.kimilinear.cuda;

import dev.kimilinear.checkpoint.Checkpoint;
import dev.kimilinear.engine.Backend;
import dev.kimilinear.engine.Engine;
import dev.kimilinear.engine.EngineConfig;
import dev.kimilinear.engine.EngineStats;
import dev.kimilinear.engine.GenerationRequest;
import dev.kimilinear.engine.GenerationResult;
import dev.kimilinear.engine.Prompt;
import dev.kimilinear.engine.SamplingParams;
import dev.kimilinear.engine.StepBatch;
import dev.kimilinear.model.KimiLinearConfig;
import dev.kimilinear.model.WeightPrecision;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
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
        Random rnd = new Random(5);
        try (CudaElasticModel elastic = CudaElasticModel.open(Checkpoint.open(CudaModelTest.FIXTURE), cfg, DEVICES,
                64L << 20, PAGE, 256, 16, ActivationPrecision.SPLIT, WeightPrecision.BF16);
             CudaModel plain = CudaModel.load(CudaModelTest.FIXTURE, ctx.device().index(), PAGE, 256, 16,
                     ActivationPrecision.SPLIT)) {
            elastic.reserve(8, 32);
            plain.reserve(8, 32);
            assertEquals(2, elastic.groups());
            int[] slots = {0, 1, 4, 5};
            int[][] tables = new int[4][];
            int[] next = {0, 16};
            for (int s = 0; s < 4; s++) {
                tables[s] = new int[4];
                for (int p = 0; p < 4; p++) {
                    tables[s][p] = next[s / 2]++;
                }
                elastic.resetSlot(slots[s]);
                plain.resetSlot(slots[s]);
            }
            int[] context = new int[4];
            int[][] prompts = new int[4][];
            for (int s = 0; s < 4; s++) {
                prompts[s] = rnd.ints(20 + 7 * s, 3, cfg.vocabSize()).toArray();
            }
            compare(elastic, plain, step(prompts, slots, context.clone(), tables),
                    step(prompts, slots, context, tables), "prefill");
            int[][] one = new int[4][];
            for (int round = 0; round < 4; round++) {
                for (int s = 0; s < 4; s++) {
                    one[s] = new int[] {3 + rnd.nextInt(cfg.vocabSize() - 3)};
                }
                if (round == 1) {
                    boolean[] slotsHeld = new boolean[8];
                    boolean[] pagesHeld = new boolean[32];
                    for (int s = 0; s < 4; s++) {
                        slotsHeld[slots[s]] = true;
                        for (int p : tables[s]) {
                            pagesHeld[p] = true;
                        }
                    }
                    int pooled = elastic.relieve(slotsHeld, pagesHeld);
                    assertTrue(pooled >= 32, "pooled pages " + pooled);
                    assertEquals(1, elastic.groups());
                }
                if (round == 3) {
                    int[] slotMoves = new int[8];
                    Arrays.fill(slotMoves, -1);
                    int[] pageMoves = new int[elastic.pagesPerGroup()];
                    Arrays.fill(pageMoves, -1);
                    int[][] moved = new int[4][];
                    int[] movedSlots = new int[4];
                    int[] at = {16, 0};
                    for (int s = 0; s < 4; s++) {
                        movedSlots[s] = (s < 2 ? 4 : 0) + s % 2;
                        slotMoves[slots[s]] = movedSlots[s];
                        moved[s] = new int[4];
                        for (int p = 0; p < 4; p++) {
                            moved[s][p] = at[s / 2]++;
                            pageMoves[tables[s][p]] = moved[s][p];
                        }
                    }
                    elastic.restore(slotMoves, pageMoves);
                    assertEquals(2, elastic.groups());
                    compare(elastic, plain, step(one, movedSlots, context.clone(), moved),
                            step(one, slots, context, tables), "decode after the restore");
                    break;
                }
                compare(elastic, plain, step(one, slots, context.clone(), tables), step(one, slots, context, tables),
                        "decode " + round);
            }
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

    private static StepBatch step(int[][] tokens, int[] slots, int[] context, int[][] tables) {
        int n = tokens.length;
        int[] cu = new int[n + 1];
        for (int s = 0; s < n; s++) {
            cu[s + 1] = cu[s] + tokens[s].length;
        }
        int[] flat = new int[cu[n]];
        int[] rows = new int[n];
        for (int s = 0; s < n; s++) {
            System.arraycopy(tokens[s], 0, flat, cu[s], tokens[s].length);
            rows[s] = cu[s + 1] - 1;
        }
        StepBatch b = new StepBatch(flat, cu, slots.clone(), context.clone(), tables, rows);
        for (int s = 0; s < n; s++) {
            context[s] += tokens[s].length;
        }
        return b;
    }

    private static void compare(Backend elastic, Backend plain, StepBatch forElastic, StepBatch forPlain, String what) {
        int vocab = plain.config().vocabSize();
        float[] a = new float[forPlain.logitRows().length * vocab];
        float[] b = new float[a.length];
        plain.logits(forPlain, a);
        elastic.logits(forElastic, b);
        double worst = 0;
        for (int i = 0; i < a.length; i++) {
            assertTrue(Float.isFinite(b[i]), what + ": logit " + i);
            worst = Math.max(worst, Math.abs(a[i] - b[i]));
        }
        assertTrue(worst <= 2e-3, what + ": logits differ by " + worst);
    }
}
