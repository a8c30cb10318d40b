package dev.kimilinear.engine;

import dev.kimilinear.cpu.CpuBackend;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Seeds, samples, top-k and top-p, log-probabilities and scoring on the fixture. */
class SamplingTest {
    static final int VOCAB = 512;
    static Engine engine;

    @BeforeAll
    static void start() {
        engine = new Engine(CpuBackend.load(TestModels.fixture(), 16L << 20, 16, 256), null,
                new EngineConfig(256, 64, 8, 0, 256));
    }

    @AfterAll
    static void stop() {
        if (engine != null) {
            engine.close();
        }
    }

    static int[] prompt(long seed, int length) {
        return TestModels.randomIds(new Random(seed), length, VOCAB);
    }

    static List<GenerationResult> samples(Engine e, GenerationRequest request) {
        List<GenerationResult> out = new ArrayList<>(TestModels.run(e, List.of(request)));
        out.sort(Comparator.comparingInt(GenerationResult::sample));
        return out;
    }

    @Test
    void theSameSeedGivesTheSameSamplesAndAnotherSeedOthers() {
        int[] p = prompt(1, 30);
        SamplingParams sampling = TestModels.sampled(12, 1.0, 1, 0, 42, 1, -1);
        GenerationResult a = TestModels.runAlone(engine, TestModels.tokens("s", p, sampling));
        GenerationResult b = TestModels.runAlone(engine, TestModels.tokens("s", p, sampling));
        GenerationResult c = TestModels.runAlone(engine, TestModels.tokens("s", p, sampling.withSeed(43)));
        assertArrayEquals(a.outputIds(), b.outputIds());
        assertFalse(java.util.Arrays.equals(a.outputIds(), c.outputIds()), "seeds 42 and 43 sampled alike");
    }

    @Test
    void samplesShareThePromptAndSampleZeroIsTheSingleRequest() {
        int[] p = prompt(2, 37);
        SamplingParams one = TestModels.sampled(10, 1.0, 1, 0, 9, 1, 0);
        List<GenerationResult> three = samples(engine, TestModels.tokens("n", p, one.withN(3)));
        assertEquals(3, three.size());
        GenerationResult single = TestModels.runAlone(engine, TestModels.tokens("n", p, one));
        BatchingTest.assertSameOutput(single, three.get(0), 0);
        assertFalse(java.util.Arrays.equals(three.get(1).outputIds(), three.get(2).outputIds()),
                "samples 1 and 2 came out alike");
        // with one slot the samples cannot be forked and are recomputed from the prompt instead
        try (Engine narrow = new Engine(CpuBackend.load(TestModels.fixture(), 16L << 20, 16, 256), null,
                new EngineConfig(256, 64, 1, 0, 256))) {
            List<GenerationResult> recomputed = samples(narrow, TestModels.tokens("n", p, one.withN(3)));
            for (int i = 0; i < 3; i++) {
                BatchingTest.assertSameOutput(three.get(i), recomputed.get(i), 1e-4);
            }
        }
    }

    @Test
    void topKOneIsGreedyAndTopPKeepsTheNucleus() {
        int[] p = prompt(3, 25);
        GenerationResult greedy = TestModels.runAlone(engine,
                TestModels.tokens("k", p, TestModels.sampled(8, 0, 1, 0, 0, 1, 5)));
        GenerationResult topOne = TestModels.runAlone(engine,
                TestModels.tokens("k", p, TestModels.sampled(8, 1.5, 1, 1, 77, 1, -1)));
        GenerationResult tinyP = TestModels.runAlone(engine,
                TestModels.tokens("k", p, TestModels.sampled(8, 1.5, 1e-9, 0, 78, 1, -1)));
        assertArrayEquals(greedy.outputIds(), topOne.outputIds());
        assertArrayEquals(greedy.outputIds(), tinyP.outputIds());
        for (int i = 0; i < greedy.outputTokens(); i++) {
            TokenLogprob lp = greedy.logprobs().get(i);
            assertEquals(5, lp.top().size());
            assertEquals(lp.tokenId(), lp.top().get(0).tokenId(), "greedy token is the most likely one");
            assertEquals(lp.logprob(), lp.top().get(0).logprob(), 0);
            for (int j = 1; j < 5; j++) {
                assertTrue(lp.top().get(j).logprob() <= lp.top().get(j - 1).logprob());
            }
        }
        // top-k 3 only ever picks among the three most likely tokens
        SamplingParams k3 = TestModels.sampled(8, 2.0, 1, 3, 5, 1, 3);
        for (int seed = 0; seed < 4; seed++) {
            GenerationResult r = TestModels.runAlone(engine, TestModels.tokens("k3", p, k3.withSeed(seed)));
            for (TokenLogprob lp : r.logprobs()) {
                assertTrue(lp.top().stream().anyMatch(a -> a.tokenId() == lp.tokenId()), "outside the top 3");
            }
        }
    }

    @Test
    void scoreGivesTheLogprobOfAContinuationAndWhetherItIsGreedy() {
        int[] p = prompt(4, 33);
        GenerationResult greedy = TestModels.runAlone(engine,
                TestModels.tokens("sc", p, TestModels.sampled(6, 0, 1, 0, 0, 1, 1)));
        int[] continuation = greedy.outputIds();
        Engine.ScoreResult score = engine.score(p, continuation);
        assertTrue(score.greedy());
        double total = 0;
        for (int i = 0; i < continuation.length; i++) {
            assertEquals(greedy.logprobs().get(i).logprob(), score.tokenLogprobs()[i], 1e-4, "token " + i);
            total += score.tokenLogprobs()[i];
        }
        assertEquals(total, score.logprob(), 1e-9);
        int[] other = continuation.clone();
        int last = other.length - 1;
        TokenLogprob lastLp = greedy.logprobs().get(last);
        int runnerUp = lastLp.top().get(0).tokenId() == other[last] ? (other[last] + 1) % VOCAB : lastLp.top().get(0).tokenId();
        other[last] = runnerUp;
        Engine.ScoreResult worse = engine.score(p, other);
        assertFalse(worse.greedy());
        assertTrue(worse.logprob() < score.logprob());
        assertEquals(score.tokenLogprobs()[0], worse.tokenLogprobs()[0], 1e-4);
    }
}
