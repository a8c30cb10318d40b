package dev.kimilinear.engine;

import dev.kimilinear.cpu.CpuBackend;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Continuous batching on the fixture: a request's output does not depend on its neighbours. */
class BatchingTest {
    static final int VOCAB = 512;
    static CpuBackend backend;
    static Engine engine;

    @BeforeAll
    static void start() {
        backend = CpuBackend.load(TestModels.fixture(), 32L << 20, 16, 256);
        engine = new Engine(backend, null, new EngineConfig(256, 32, 16, 0, 512));
    }

    @AfterAll
    static void stop() {
        if (engine != null) {
            engine.close();
        }
    }

    static Map<String, GenerationResult> byId(List<GenerationResult> results) {
        Map<String, GenerationResult> map = new HashMap<>();
        for (GenerationResult r : results) {
            map.put(r.requestId() + "#" + r.sample(), r);
        }
        return map;
    }

    static void assertSameOutput(GenerationResult expected, GenerationResult actual, double tolerance) {
        String id = actual.requestId() + "#" + actual.sample();
        assertEquals(expected.finishReason(), actual.finishReason(), id);
        assertArrayEquals(expected.outputIds(), actual.outputIds(), id);
        assertEquals(expected.logprobs().size(), actual.logprobs().size(), id);
        for (int i = 0; i < expected.logprobs().size(); i++) {
            TokenLogprob e = expected.logprobs().get(i);
            TokenLogprob a = actual.logprobs().get(i);
            assertEquals(e.logprob(), a.logprob(), tolerance, id + " token " + i);
            assertEquals(e.top().size(), a.top().size());
            for (int j = 0; j < e.top().size(); j++) {
                assertEquals(e.top().get(j).logprob(), a.top().get(j).logprob(), tolerance, id + " token " + i);
            }
        }
    }

    @Test
    void batchedEqualsOneAtATime() {
        Random random = new Random(11);
        List<GenerationRequest> requests = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            int[] prompt = TestModels.randomIds(random, 1 + random.nextInt(70), VOCAB);
            SamplingParams sampling = i % 2 == 0 ? TestModels.sampled(6, 0, 1, 0, 0, 1, 3)
                    : TestModels.sampled(6, 0.9, 0.95, 40, 100 + i, 1, 3);
            requests.add(TestModels.tokens("b" + i, prompt, sampling));
        }
        Map<String, GenerationResult> batched = byId(TestModels.run(engine, requests));
        assertEquals(requests.size(), batched.size());
        for (GenerationRequest r : requests) {
            GenerationResult alone = TestModels.runAlone(engine, r);
            // the CPU forward is batch-invariant, so equal exactly, not only within 1e-4
            assertSameOutput(alone, batched.get(r.id() + "#0"), 0);
        }
    }

    @Test
    void greedyOutputMatchesTheRecordedForward() {
        Random random = new Random(5);
        int[] prompt = TestModels.randomIds(random, 45, VOCAB);
        GenerationResult result = TestModels.runAlone(engine,
                TestModels.tokens("g", prompt, TestModels.sampled(10, 0, 1, 0, 0, 1, 0)));
        CpuBackend reference = CpuBackend.load(TestModels.fixture(), 4L << 20, 16, 256);
        LogitsRecorder.Recording rec = LogitsRecorder.record(reference, prompt, result.outputTokens(), 256);
        assertArrayEquals(rec.generatedIds(), result.outputIds());
        for (int i = 0; i < result.outputTokens(); i++) {
            double logZ = TokenChooser.logSumExp(rec.decodeLogits(), i * VOCAB, VOCAB);
            double expected = rec.decodeLogits()[i * VOCAB + rec.generatedIds()[i]] - logZ;
            assertEquals(expected, result.logprobs().get(i).logprob(), 1e-4, "token " + i);
        }
    }
}
