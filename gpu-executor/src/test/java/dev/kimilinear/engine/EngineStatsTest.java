package dev.kimilinear.engine;

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
}
