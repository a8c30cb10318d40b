package dev.kimilinear.engine;

import dev.kimilinear.checkpoint.Checkpoint;
import dev.kimilinear.cpu.CpuBackend;
import dev.kimilinear.cpu.CpuElasticModel;
import dev.kimilinear.model.KimiLinearConfig;
import dev.kimilinear.model.ModelWeights;
import dev.kimilinear.model.StagePlan;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * KunServe-style relief in the scheduler: two replicas whose pages a burst of prompts
 * overruns. Where a plain backend of the same budget preempts, the elastic one pools its
 * memory (replicated weights dropped, the cache grown) and preempts nothing; once the burst
 * drains it goes back to replicas, moving the sequences still running. Every output equals a
 * roomy engine's.
 */
class ElasticReliefTest {
    private static final int PAGE = 4;
    private static final int SLOTS = 6;
    private static final int PAGES = 48;
    private static final int[] SCORED_PROMPT = TestModels.randomIds(new Random(4), 30, PreemptionTest.VOCAB);
    private static final int[] SCORED_CONTINUATION = TestModels.randomIds(new Random(6), 12, PreemptionTest.VOCAB);

    @Test
    void aBurstPoolsTheReplicasInsteadOfPreemptingAndTheyComeBack() {
        Path dir = TestModels.fixture();
        KimiLinearConfig cfg = KimiLinearConfig.load(dir.resolve("config.json"));
        Random random = new Random(11);
        List<GenerationRequest> burst = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            int[] prompt = TestModels.randomIds(random, 36 + random.nextInt(9), PreemptionTest.VOCAB);
            SamplingParams sampling = i % 2 == 0 ? TestModels.sampled(24, 0, 1, 0, 0, 1, 2)
                    : TestModels.sampled(24, 0.8, 0.9, 0, 70 + i, 1, 2);
            burst.add(TestModels.tokens("b" + i, prompt, sampling));
        }
        List<GenerationRequest> after = List.of(
                TestModels.tokens("a0", TestModels.randomIds(random, 12, PreemptionTest.VOCAB),
                        TestModels.sampled(40, 0, 1, 0, 0, 1, 1)),
                TestModels.tokens("a1", TestModels.randomIds(random, 20, PreemptionTest.VOCAB),
                        TestModels.sampled(40, 0.7, 1, 0, 9, 2, 1)));

        CpuBackend probe = CpuBackend.load(dir, 1L << 20, PAGE, 256);
        long budget = SLOTS * probe.bytesPerSlot() + PAGES * probe.bytesPerPage();
        EngineConfig config = new EngineConfig(256, 32, SLOTS, budget, 128);

        // a plain backend of that budget preempts under the burst
        try (Engine plain = new Engine(CpuBackend.load(dir, budget, PAGE, 256), null, config)) {
            TestModels.run(plain, burst);
            assertTrue(plain.stats().preemptions() > 0, "the burst overruns " + PAGES + " pages: " + plain.stats());
        }
        Map<String, GenerationResult> elastic;
        Map<String, GenerationResult> elasticAfter;
        Engine.ScoreResult elasticScore;
        try (Checkpoint ckpt = Checkpoint.open(dir)) {
            long weights = StagePlan.of(ModelWeights.bind(cfg, ckpt), 1).largestStage();
            CpuElasticModel model = CpuElasticModel.of(cfg, ckpt, 2, weights + budget / 2, PAGE, 256);
            try (Engine engine = new Engine(model, null, config)) {
                assertEquals(SLOTS, engine.plan().sequences());
                assertEquals(PAGES, engine.plan().pages());
                elastic = BatchingTest.byId(TestModels.run(engine, burst));
                EngineStats s = engine.stats();
                assertTrue(s.reliefs() >= 1, "expected a relief: " + s);
                assertEquals(0, s.preemptions(), "pooled memory holds the burst: " + s);
                // a score submitted with a burst: computed in whichever layout runs it
                Engine.ScoreResult[] scores = new Engine.ScoreResult[1];
                Thread scorer = new Thread(() -> scores[0] = engine.score(SCORED_PROMPT, SCORED_CONTINUATION));
                scorer.start();
                elasticAfter = BatchingTest.byId(TestModels.run(engine, after));
                try {
                    scorer.join();
                } catch (InterruptedException e) {
                    throw new AssertionError(e);
                }
                elasticScore = scores[0];
                EngineStats t = engine.stats();
                assertTrue(t.restores() >= 1, "expected the replicas back: " + t);
                // the layout the stats tell of: replicated after as many restores as reliefs
                assertEquals(t.reliefs() == t.restores() ? 2 : 1, model.groups(), t.toString());
                assertEquals(0, t.preemptions(), t.toString());
            }
        }
        try (Engine roomy = PreemptionTest.roomy()) {
            for (GenerationRequest r : burst) {
                BatchingTest.assertSameOutput(TestModels.runAlone(roomy, r), elastic.get(r.id() + "#0"), 1e-4);
            }
            Engine.ScoreResult score = roomy.score(SCORED_PROMPT, SCORED_CONTINUATION);
            assertEquals(score.greedy(), elasticScore.greedy());
            for (int i = 0; i < SCORED_CONTINUATION.length; i++) {
                assertEquals(score.tokenLogprobs()[i], elasticScore.tokenLogprobs()[i], 1e-4, "scored token " + i);
            }
            Map<String, GenerationResult> expected = BatchingTest.byId(TestModels.run(roomy, after));
            for (Map.Entry<String, GenerationResult> e : expected.entrySet()) {
                BatchingTest.assertSameOutput(e.getValue(), elasticAfter.get(e.getKey()), 1e-4);
            }
        }
    }

    @Test
    void replicasThatMayNotPoolRefuseASequenceOneReplicaCannotHold() {
        Path dir = TestModels.fixture();
        KimiLinearConfig cfg = KimiLinearConfig.load(dir.resolve("config.json"));
        CpuBackend probe = CpuBackend.load(dir, 1L << 20, PAGE, 256);
        long budget = SLOTS * probe.bytesPerSlot() + PAGES * probe.bytesPerPage();
        try (Checkpoint ckpt = Checkpoint.open(dir)) {
            long weights = StagePlan.of(ModelWeights.bind(cfg, ckpt), 1).largestStage();
            CpuElasticModel model = CpuElasticModel.of(cfg, ckpt, 2, weights + budget / 2, PAGE, 256);
            model.setReliefAllowed(false);
            try (Engine engine = new Engine(model, null, new EngineConfig(256, 32, SLOTS, budget, 128))) {
                // 30 pages: within the 48 of both replicas, past the 24 of one
                int[] prompt = TestModels.randomIds(new Random(2), 100, PreemptionTest.VOCAB);
                GenerationResult r = TestModels.runAlone(engine,
                        TestModels.tokens("long", prompt, TestModels.sampled(21, 0, 1, 0, 0, 1, -1)));
                assertEquals(FinishReason.ERROR, r.finishReason());
                assertTrue(r.error().contains("each of the 2 replicas holds 24"), r.error());
                // 16 pages: one replica holds it
                GenerationResult ok = TestModels.runAlone(engine, TestModels.tokens("short",
                        java.util.Arrays.copyOf(prompt, 60), TestModels.sampled(4, 0, 1, 0, 0, 1, -1)));
                assertEquals(4, ok.outputTokens(), String.valueOf(ok.error()));
                assertEquals(0, engine.stats().reliefs());
            }
        }
    }
}
