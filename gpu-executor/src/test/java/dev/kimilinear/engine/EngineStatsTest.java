package dev.kimilinear.engine;

import dev.kimilinear.cpu.CpuBackend;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Whoever receives a result or a score reads stats that already count it. */
class EngineStatsTest {
    @Test
    void statsReadInAResultCallbackCountThatResult() throws Exception {
        Random random = new Random(12);
        int count = 12;
        List<String> problems = new ArrayList<>();
        CountDownLatch done = new CountDownLatch(count);
        try (Engine engine = PreemptionTest.roomy()) {
            int[] delivered = {0};
            for (int i = 0; i < count; i++) {
                int[] prompt = TestModels.randomIds(random, 3 + random.nextInt(20), PreemptionTest.VOCAB);
                engine.submit(TestModels.tokens("s" + i, prompt, SamplingParams.greedy(1 + random.nextInt(5))), r -> {
                    delivered[0]++;
                    EngineStats stats = engine.stats();
                    if (stats.results() < delivered[0]) {
                        problems.add(r.requestId() + ": stats count " + stats.results() + " results, "
                                + delivered[0] + " delivered");
                    }
                    done.countDown();
                });
            }
            assertTrue(done.await(60, TimeUnit.SECONDS), "results still missing: " + done.getCount());
            assertEquals(List.of(), problems);
            EngineStats last = engine.stats();
            assertEquals(count, last.results());
            assertEquals(0, last.running());
            assertEquals(0, last.pagesInUse());

            engine.score(new int[]{5, 6, 7}, new int[]{8, 9});
            assertEquals(0, engine.stats().running(), "a returned score still holds its slot");
            assertEquals(0, engine.stats().pagesInUse(), "a returned score still holds its pages");
        }
    }

    /**
     * Decode tokens computed beside prefill chunks count as decode tokens but not as tokens of
     * decode-only steps, which alone the per-step decode figures divide by.
     */
    @Test
    void decodeOnlyStepsCountTheirOwnTokens() {
        Random random = new Random(5);
        try (Engine engine = new Engine(CpuBackend.load(TestModels.fixture(), 16L << 20, 16, 256), null,
                new EngineConfig(256, 32, 8, 0, 512))) {
            List<GenerationRequest> requests = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                // staggered prompt lengths, so early sequences decode while later ones still prefill
                int[] prompt = TestModels.randomIds(random, 10 + 60 * i, PreemptionTest.VOCAB);
                requests.add(TestModels.tokens("d" + i, prompt, SamplingParams.greedy(8)));
            }
            TestModels.run(engine, requests);
            EngineStats stats = engine.stats();
            assertEquals(6 * 7, stats.decodeTokens(), "every token after each sequence's first is a decode token");
            assertTrue(stats.decodeSteps() > 0 && stats.decodeStepTokens() > 0, stats.toString());
            assertTrue(stats.decodeStepTokens() < stats.decodeTokens(), "some decode tokens ran beside prefill: "
                    + stats);
            assertTrue(stats.mixedNanos() > 0, stats.toString());
        }
    }
}
