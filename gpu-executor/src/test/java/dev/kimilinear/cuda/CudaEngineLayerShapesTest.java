package dev.kimilinear.cuda;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kimilinear.checkpoint.Checkpoint;
import dev.kimilinear.engine.Engine;
import dev.kimilinear.engine.EngineConfig;
import dev.kimilinear.engine.GenerationRequest;
import dev.kimilinear.engine.GenerationResult;
import dev.kimilinear.engine.Prompt;
import dev.kimilinear.engine.SamplingParams;
import dev.kimilinear.engine.StepBatch;
import dev.kimilinear.model.KimiLinearConfig;
import dev.kimilinear.model.ModelWeights;
import dev.kimilinear.model.RandomCheckpoint;
import dev.kimilinear.model.WeightPrecision;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The engine over the CUDA backend at the 48B model's layer shapes (hidden 2304, 32 heads of
 * 128, latent 512, experts 1024 wide; fewer experts and a smaller vocabulary, so the weights
 * are about 2 GB): the paths the fixture is too small to reach. A hundred ragged prompts in
 * steps of 4,096 tokens give prefill steps, mixed steps (decode tokens beside prompt chunks
 * that continue from their context), and decode steps of up to 100 sequences replayed as
 * padded graphs: the Hopper products, their K split, SwiGLU in the stores, the grouped expert
 * products at every tile size, the one-pass decode convolution. It must finish, repeat itself
 * token for token, and choose each prompt's first token as a forward of that prompt alone
 * does (within rounding: a random model's logits are nearly flat).
 */
@Tag("gpu")
class CudaEngineLayerShapesTest {
    private static final int REQUESTS = 100;
    private static final int OUTPUT = 12;

    static KimiLinearConfig config() throws Exception {
        String json = """
                {"model_type": "kimi_linear", "vocab_size": 32768, "pad_token_id": 32767,
                 "bos_token_id": 32000, "eos_token_id": 32001, "hidden_size": 2304,
                 "intermediate_size": 9216, "num_hidden_layers": 4,
                 "layer_types": ["linear_attention", "linear_attention", "linear_attention", "full_attention"],
                 "mlp_layer_types": ["dense", "sparse", "sparse", "sparse"],
                 "num_attention_heads": 32, "num_key_value_heads": 32, "q_lora_rank": null,
                 "kv_lora_rank": 512, "qk_nope_head_dim": 128, "qk_rope_head_dim": 64, "v_head_dim": 128,
                 "linear_num_heads": 32, "linear_head_dim": 128, "linear_conv_kernel_dim": 4,
                 "num_experts": 32, "num_experts_per_token": 8, "num_shared_experts": 1,
                 "moe_intermediate_size": 1024, "num_expert_group": 1, "topk_group": 1,
                 "moe_renormalize": true, "routed_scaling_factor": 2.446, "rms_norm_eps": 1e-5,
                 "model_max_length": 8192, "tie_word_embeddings": false}
                """;
        return KimiLinearConfig.parse(new ObjectMapper().readTree(json), "48B layer shapes, 32 experts");
    }

    @Test
    @Timeout(value = 600, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void raggedPromptsThroughPrefillMixedAndGraphedDecodeSteps() throws Exception {
        KimiLinearConfig cfg = config();
        cfg.validate("48B layer shapes");
        CudaContext ctx = GpuTest.context();
        Random rnd = new Random(7);
        List<GenerationRequest> requests = new ArrayList<>();
        List<int[]> prompts = new ArrayList<>();
        for (int i = 0; i < REQUESTS; i++) {
            int[] ids = new int[200 + rnd.nextInt(700)];
            for (int j = 0; j < ids.length; j++) {
                ids[j] = 1000 + rnd.nextInt(30000);
            }
            prompts.add(ids);
            requests.add(new GenerationRequest("r" + i, new Prompt.Tokens(ids), SamplingParams.greedy(OUTPUT)));
        }
        boolean sync = ctx.syncCheck();
        ctx.setSyncCheck(false);   // decode steps replay graphs only without the per-kernel check
        try (Checkpoint ckpt = RandomCheckpoint.open(cfg, 11);
             CudaModel model = new CudaModel(ctx, ModelWeights.bind(cfg, ckpt), 64, 4096, 128,
                     ActivationPrecision.BF16, true, WeightPrecision.BF16);
             Engine engine = new Engine(model, null, new EngineConfig(4096, 4096, 128, 0, 0))) {
            List<GenerationResult> first = CudaEngineTest.run(engine, requests);
            List<GenerationResult> again = CudaEngineTest.run(engine, requests);
            assertEquals(REQUESTS, first.size());
            for (int i = 0; i < REQUESTS; i++) {
                GenerationResult a = first.get(i);
                assertTrue(a.outputTokens() >= 1 && a.outputTokens() <= OUTPUT, a.requestId() + ": "
                        + a.outputTokens() + " tokens");
                assertArrayEquals(a.outputIds(), again.get(i).outputIds(), a.requestId() + " repeated");
            }
            assertTrue(engine.stats().decodeSteps() > 0, "decode-only steps ran");
            // the first tokens against forwards of single prompts (the engine is idle: its slots
            // and pages are free)
            float[] logits = new float[cfg.vocabSize()];
            for (int i = 0; i < 6; i++) {
                int[] ids = prompts.get(i);
                int pages = (ids.length + 63) / 64;
                int[] table = new int[pages];
                for (int p = 0; p < pages; p++) {
                    table[p] = p;
                }
                model.resetSlot(0);
                model.logits(new StepBatch(ids, new int[] {0, ids.length}, new int[] {0}, new int[] {0},
                        new int[][] {table}, new int[] {ids.length - 1}), logits);
                int best = 0;
                float lo = Float.POSITIVE_INFINITY;
                for (int v = 0; v < logits.length; v++) {
                    assertTrue(Float.isFinite(logits[v]), "logit " + v + " of prompt " + i);
                    best = logits[v] > logits[best] ? v : best;
                    lo = Math.min(lo, logits[v]);
                }
                int chosen = first.get(i).outputIds()[0];
                float gap = logits[best] - logits[chosen];
                assertTrue(gap <= 0.01f * (logits[best] - lo), "prompt r" + i + ": the engine chose " + chosen
                        + ", the prompt alone " + best + "; logits apart by " + gap + " of a range of "
                        + (logits[best] - lo));
            }
        } finally {
            ctx.setSyncCheck(sync);
        }
    }
}
