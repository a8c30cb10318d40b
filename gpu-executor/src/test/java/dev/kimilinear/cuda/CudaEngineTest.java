package dev.kimilinear.cuda;

import dev.kimilinear.cpu.CpuBackend;
import dev.kimilinear.engine.Engine;
import dev.kimilinear.engine.EngineConfig;
import dev.kimilinear.engine.GenerationRequest;
import dev.kimilinear.engine.GenerationResult;
import dev.kimilinear.engine.Prompt;
import dev.kimilinear.engine.SamplingParams;
import dev.kimilinear.engine.TokenLogprob;
import dev.kimilinear.model.ParityFixture;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The engine over the CUDA backend, choosing on the GPU, against the engine over the CPU
 * backend: the same seam, the same greedy tokens, log-probabilities and scores within the
 * split precision's error, reproducible draws.
 */
@Tag("gpu")
class CudaEngineTest {
    static final EngineConfig CONFIG = new EngineConfig(256, 64, 8, 0, 256);

    static List<GenerationResult> run(Engine e, List<GenerationRequest> requests) {
        List<GenerationResult> out = new ArrayList<>();
        e.generate(requests).forEachRemaining(out::add);
        out.sort(Comparator.comparing(GenerationResult::requestId).thenComparingInt(GenerationResult::sample));
        return out;
    }

    @Test
    void tokensLogprobsAndScoresChosenOnTheGpuMatchTheHost() {
        CudaContext ctx = GpuTest.context();
        ParityFixture f = ParityFixture.load();
        int[] prompt = f.inputIds();
        SamplingParams greedy = new SamplingParams(f.generated().length, 0, 1, 0, 0, List.of(), List.of(), 1, 5);
        SamplingParams drawn = new SamplingParams(12, 0.8, 0.9, 50, 7, List.of(), List.of(), 3, 2);
        List<GenerationRequest> requests = List.of(new GenerationRequest("greedy", new Prompt.Tokens(prompt), greedy),
                new GenerationRequest("drawn", new Prompt.Tokens(prompt), drawn));
        try (CudaModel model = CudaModel.load(ParityFixture.DIR, ctx.device().index(), 16, 256, 16,
                ActivationPrecision.SPLIT);
             Engine gpu = new Engine(model, null, CONFIG);
             Engine cpu = new Engine(CpuBackend.load(ParityFixture.DIR, 16L << 20, 16, 256), null, CONFIG)) {
            List<GenerationResult> g = run(gpu, requests);
            List<GenerationResult> c = run(cpu, requests);
            assertEquals(c.size(), g.size());
            GenerationResult gg = g.get(3);
            GenerationResult cg = c.get(3);
            assertEquals("greedy", gg.requestId());
            assertArrayEquals(f.generated(), gg.outputIds(), "greedy tokens on the GPU");
            assertArrayEquals(cg.outputIds(), gg.outputIds());
            for (int i = 0; i < gg.outputTokens(); i++) {
                TokenLogprob a = gg.logprobs().get(i);
                TokenLogprob b = cg.logprobs().get(i);
                assertEquals(b.logprob(), a.logprob(), 2e-3, "logprob of token " + i);
                assertEquals(5, a.top().size());
                assertEquals(b.top().get(0).tokenId(), a.top().get(0).tokenId(), "most likely token at " + i);
            }
            // the drawn samples: reproducible on the GPU, every token inside the top 50
            List<GenerationResult> again = run(gpu, requests);
            for (int s = 0; s < 3; s++) {
                assertArrayEquals(g.get(s).outputIds(), again.get(s).outputIds(), "sample " + s + " redrawn");
                assertEquals(12, g.get(s).outputTokens());
            }
            Engine.ScoreResult gs = gpu.score(prompt, f.generated());
            Engine.ScoreResult cs = cpu.score(prompt, f.generated());
            assertTrue(gs.greedy() && cs.greedy(), "the greedy continuation scores as greedy");
            for (int i = 0; i < f.generated().length; i++) {
                assertEquals(cs.tokenLogprobs()[i], gs.tokenLogprobs()[i], 2e-3, "score of token " + i);
            }
        }
    }
}
