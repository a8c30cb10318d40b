package dev.kimilinear.engine;

import dev.kimilinear.cpu.CpuBackend;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Requests that cannot run end as ERROR results, never as exceptions; closing ends what is pending. */
class RequestErrorsTest {
    static final int VOCAB = 512;

    static Engine engine(int slots, long budget) {
        return new Engine(CpuBackend.load(TestModels.fixture(), 1L << 20, 16, 256), null,
                new EngineConfig(256, 64, slots, budget, 200));
    }

    static GenerationResult only(Engine e, GenerationRequest r) {
        List<GenerationResult> results = TestModels.run(e, List.of(r));
        assertEquals(1, results.size());
        return results.get(0);
    }

    static void assertError(GenerationResult r, String... fragments) {
        assertEquals(FinishReason.ERROR, r.finishReason());
        for (String f : fragments) {
            assertTrue(r.error().contains(f), "'" + f + "' not in: " + r.error());
        }
    }

    @Test
    void requestsThatCanNeverFitGetAnErrorNamingTheLimits() {
        try (Engine e = engine(2, 0)) {
            int[] prompt = TestModels.randomIds(new Random(1), 190, VOCAB);
            assertError(only(e, TestModels.tokens("long", prompt, SamplingParams.greedy(20))),
                    "request long", "190 tokens", "210", "maximum length of 200");
        }
        CpuBackend backend = CpuBackend.load(TestModels.fixture(), 1L << 20, 16, 256);
        long budget = backend.bytesPerSlot() + 8 * backend.bytesPerPage();
        try (Engine e = new Engine(backend, null, new EngineConfig(256, 64, 1, budget, 4096))) {
            assertEquals(8, e.plan().pages());
            int[] prompt = TestModels.randomIds(new Random(2), 120, VOCAB);
            assertError(only(e, TestModels.tokens("pages", prompt, SamplingParams.greedy(20))),
                    "needs 9 latent pages", "holds 8 pages (128 tokens)", "budget of " + budget);
            // one that fits still runs on the same engine
            GenerationResult fits = only(e, TestModels.tokens("fits", prompt, SamplingParams.greedy(9)));
            assertTrue(fits.finishReason() != FinishReason.ERROR, fits.error());
        }
    }

    @Test
    void badRequestsGetOneErrorPerSample() {
        try (Engine e = engine(2, 0)) {
            int[] ok = {5, 6, 7};
            assertError(only(e, TestModels.tokens("empty", new int[0], SamplingParams.greedy(3))), "prompt is empty");
            assertError(only(e, TestModels.tokens("vocab", new int[]{5, 900}, SamplingParams.greedy(3))),
                    "prompt token 1 is 900", "[0, 512)");
            assertError(only(e, TestModels.tokens("t", ok, TestModels.sampled(3, -1, 1, 0, 0, 1, -1))),
                    "temperature");
            assertError(only(e, TestModels.tokens("p", ok, TestModels.sampled(3, 1, 0, 0, 0, 1, -1))), "top_p");
            assertError(only(e, TestModels.tokens("m", ok, SamplingParams.greedy(0))), "max_tokens");
            assertError(only(e, new GenerationRequest("text", new Prompt.Text("hello"), SamplingParams.greedy(3))),
                    "needs a tokenizer");
            assertError(only(e, new GenerationRequest("nul", null, SamplingParams.greedy(3))), "prompt is null");
            SamplingParams stops = new SamplingParams(3, 0, 1, 0, 0, List.of("x"), List.of(), 1, -1);
            assertError(only(e, TestModels.tokens("stop", ok, stops)), "stop strings need a tokenizer");
            List<GenerationResult> two = TestModels.run(e,
                    List.of(TestModels.tokens("two", ok, TestModels.sampled(3, -2, 1, 0, 0, 2, -1))));
            assertEquals(2, two.size());
            assertEquals(Set.of(0, 1), Set.of(two.get(0).sample(), two.get(1).sample()));
            assertThrows(IllegalArgumentException.class, () -> e.score(ok, new int[0]));
            assertThrows(IllegalArgumentException.class, () -> e.score(ok, new int[]{-1}));
        }
    }

    @Test
    void closeEndsPendingRequestsWithAnErrorExactlyOnce() throws Exception {
        Engine e = engine(4, 0);
        ConcurrentLinkedQueue<GenerationResult> results = new ConcurrentLinkedQueue<>();
        Random random = new Random(4);
        int count = 40;
        for (int i = 0; i < count; i++) {
            e.submit(TestModels.tokens("c" + i, TestModels.randomIds(random, 20, VOCAB), SamplingParams.greedy(100)
                    .withN(1)), results::add);
        }
        Thread.sleep(50);
        e.close();
        assertEquals(count, results.size());
        Set<String> ids = new HashSet<>();
        int closed = 0;
        for (GenerationResult r : results) {
            assertTrue(ids.add(r.requestId()));
            if (r.finishReason() == FinishReason.ERROR) {
                assertEquals("engine closed", r.error());
                closed++;
            }
        }
        assertTrue(closed > 0);
        List<GenerationResult> late = new ArrayList<>();
        e.submit(TestModels.tokens("late", new int[]{5}, SamplingParams.greedy(2)), late::add);
        assertEquals(1, late.size());
        assertError(late.get(0), "engine closed");
        assertThrows(IllegalStateException.class, () -> e.score(new int[]{5}, new int[]{6}));
        e.close();
    }

    /** The fixture, whose logits rows turn to NaN for the sequence in {@code slot} from its {@code after}-th forward. */
    static final class NanLogits implements Backend {
        private final CpuBackend inner;
        private final int slot;
        private final int after;
        private int forwards;

        NanLogits(CpuBackend inner, int slot, int after) {
            this.inner = inner;
            this.slot = slot;
            this.after = after;
        }

        @Override
        public void forward(StepBatch b, RowChoices choices) {
            float[] logits = new float[b.logitRows().length * config().vocabSize()];
            inner.logits(b, logits);
            boolean poison = forwards++ >= after;
            for (int s = 0; s < b.sequences() && poison; s++) {
                if (b.slots()[s] != slot) {
                    continue;
                }
                for (int r = 0; r < b.logitRows().length; r++) {
                    int row = b.logitRows()[r];
                    if (row >= b.cuSeqlens()[s] && row < b.cuSeqlens()[s + 1]) {
                        java.util.Arrays.fill(logits, r * config().vocabSize(), (r + 1) * config().vocabSize(),
                                Float.NaN);
                    }
                }
            }
            new TokenChooser(config().vocabSize()).chooseAll(logits, config().vocabSize(), choices);
        }

        @Override public dev.kimilinear.model.KimiLinearConfig config() { return inner.config(); }
        @Override public String name() { return "nan " + inner.name(); }
        @Override public int pageSize() { return inner.pageSize(); }
        @Override public long bytesPerSlot() { return inner.bytesPerSlot(); }
        @Override public long bytesPerPage() { return inner.bytesPerPage(); }
        @Override public long freeBytes() { return inner.freeBytes(); }
        @Override public int maxBatchTokens() { return inner.maxBatchTokens(); }
        @Override public void reserve(int slots, int pages) { inner.reserve(slots, pages); }
        @Override public void resetSlot(int s) { inner.resetSlot(s); }
        @Override public void copySlot(int from, int to) { inner.copySlot(from, to); }
        @Override public void copyPage(int from, int to) { inner.copyPage(from, to); }
        @Override public void logits(StepBatch b, float[] logits) { inner.logits(b, logits); }
        @Override public void close() { inner.close(); }
    }

    @Test
    void aSequenceWhoseLogitsTurnNanEndsWithThatErrorAndTheOthersGoOn() {
        Random random = new Random(8);
        List<GenerationRequest> requests = List.of(
                TestModels.tokens("a", TestModels.randomIds(random, 12, VOCAB), SamplingParams.greedy(10)),
                TestModels.tokens("b", TestModels.randomIds(random, 15, VOCAB),
                        TestModels.sampled(10, 0.8, 0.9, 0, 3, 1, 1)));
        NanLogits backend = new NanLogits(CpuBackend.load(TestModels.fixture(), 1L << 20, 16, 256), 0, 3);
        java.util.Map<String, GenerationResult> byId;
        try (Engine e = new Engine(backend, null, new EngineConfig(256, 64, 2, 0, 200))) {
            byId = BatchingTest.byId(TestModels.run(e, requests));
        }
        GenerationResult poisoned = byId.values().stream().filter(r -> r.finishReason() == FinishReason.ERROR)
                .findFirst().orElseThrow();
        assertError(poisoned, "logits for this sequence are NaN");
        assertEquals(1, byId.values().stream().filter(r -> r.finishReason() == FinishReason.ERROR).count());
        try (Engine roomy = engine(2, 0)) {
            for (GenerationRequest r : requests) {
                GenerationResult ok = byId.get(r.id() + "#0");
                if (ok != poisoned) {
                    BatchingTest.assertSameOutput(TestModels.runAlone(roomy, r), ok, 1e-4);
                }
            }
        }
    }
}
