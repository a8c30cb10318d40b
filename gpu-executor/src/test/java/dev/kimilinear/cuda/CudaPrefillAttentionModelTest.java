package dev.kimilinear.cuda;

import dev.kimilinear.checkpoint.Checkpoint;
import dev.kimilinear.engine.LayerProbe;
import dev.kimilinear.engine.StepBatch;
import dev.kimilinear.model.KimiLinearConfig;
import dev.kimilinear.model.ModelWeights;
import dev.kimilinear.model.RandomCheckpoint;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The whole model with Kimi Linear's MLA head widths, prompt chunks on the tensor-core prefill
 * attention, against the same model on the absorbed kernel for every token (same precision,
 * so the two differ only by the attention's own rounding): steps mixing decode tokens,
 * fresh prompts and chunks continuing a cached context over several pages.
 */
@Tag("gpu")
class CudaPrefillAttentionModelTest {
    private static final int VOCAB = 512;

    @Test
    void mixedStepsMatchTheAbsorbedPath(@TempDir Path dir) throws Exception {
        CudaContext ctx = GpuTest.context();
        Path cfgFile = dir.resolve("config.json");
        Files.writeString(cfgFile, """
                {"model_type": "kimi_linear", "hidden_size": 256, "intermediate_size": 384,
                 "num_hidden_layers": 2, "num_attention_heads": 2, "num_key_value_heads": 2,
                 "kv_lora_rank": 128, "qk_nope_head_dim": 128, "qk_rope_head_dim": 64, "v_head_dim": 128,
                 "linear_num_heads": 2, "linear_head_dim": 64, "linear_conv_kernel_dim": 4,
                 "num_experts": 4, "num_experts_per_token": 2, "moe_intermediate_size": 64,
                 "num_shared_experts": 1, "routed_scaling_factor": 1.0, "moe_renormalize": true,
                 "layer_types": ["linear_attention", "full_attention"], "mlp_layer_types": ["dense", "sparse"],
                 "rms_norm_eps": 1e-5, "model_max_length": 4096, "bos_token_id": 1, "eos_token_id": 2,
                 "pad_token_id": 0, "vocab_size": 512}
                """);
        KimiLinearConfig cfg = KimiLinearConfig.load(cfgFile);
        Path model = dir.resolve("model");
        RandomCheckpoint.write(cfg, 11, model);
        Run flash;
        Run absorbed;
        try (Checkpoint ckpt = Checkpoint.open(model)) {
            ModelWeights w = ModelWeights.bind(cfg, ckpt);
            try (CudaModel m = new CudaModel(ctx, w, 16, 1024, 8, ActivationPrecision.BF16, true)) {
                assumeTrue(m.flashPrefill(), "the prefill attention needs an sm_90 device");
                flash = steps(m);
            }
            try (CudaModel m = new CudaModel(ctx, w, 16, 1024, 1024, ActivationPrecision.BF16, false)) {
                absorbed = steps(m);
            }
        }
        int d = cfg.hiddenSize();
        for (int step = 0; step < STEPS; step++) {
            // the MLA block's own output (residual after it minus residual before it), row by row
            int rows = flash.attention[step].length / d;
            double worst = 0;
            int worstRow = -1;
            for (int i = 0; i < rows; i++) {
                double e = GpuTest.relError(flash.delta(step, i, d), absorbed.delta(step, i, d),
                        "step " + step + " row " + i);
                if (e > worst) {
                    worst = e;
                    worstRow = i;
                }
            }
            double logits = GpuTest.relError(flash.logits[step], absorbed.logits[step], "step " + step + " logits");
            System.out.printf("prefill attention vs absorbed, step %d: %d rows, MLA output worst row %d: %.2e;"
                    + " logits %.2e%n", step, rows, worstRow, worst, logits);
            assertTrue(worst < 2e-2, "step " + step + ": MLA output of row " + worstRow + " off by " + worst);
            assertTrue(logits < 2e-2, "step " + step + ": logits off by " + logits);
        }
    }

    private static final int STEPS = 3;
    private static final int MLA_LAYER = 1;

    /** Per step: the residual before and after the MLA layer's attention, and the logits. */
    private static final class Run {
        final float[][] before = new float[STEPS][];
        final float[][] attention = new float[STEPS][];
        final float[][] logits = new float[STEPS][];

        float[] delta(int step, int row, int d) {
            float[] x = new float[d];
            for (int i = 0; i < d; i++) {
                x[i] = attention[step][row * d + i] - before[step][row * d + i];
            }
            return x;
        }
    }

    /**
     * Three steps over four sequences (slots 0..3, 16-token pages): fresh prompts; then decode
     * tokens first, a chunk continuing a cached prompt and a fresh prompt; then decodes and
     * another continuing chunk. Logits of every token.
     */
    private static Run steps(CudaModel m) {
        Run run = new Run();
        int[] current = {0};
        m.setProbe((layer, block, hidden) -> {
            if (layer == MLA_LAYER - 1 && block == LayerProbe.Block.MLP) {
                run.before[current[0]] = hidden;
            } else if (layer == MLA_LAYER && block == LayerProbe.Block.ATTENTION) {
                run.attention[current[0]] = hidden;
            }
        });
        m.reserve(4, 256);
        for (int s = 0; s < 4; s++) {
            m.resetSlot(s);
        }
        int[][] tables = new int[4][64];
        for (int s = 0; s < 4; s++) {
            for (int p = 0; p < 64; p++) {
                tables[s][p] = p * 4 + (3 - s);   // interleaved pages
            }
        }
        Random rnd = new Random(5);
        int[][] shapes = {
                // slots, context lengths, new tokens
                {0, 1, 2}, {0, 0, 0}, {300, 5, 130},
                {0, 1, 2, 3}, {300, 5, 130, 0}, {1, 1, 77, 200},
                {0, 1, 3, 2}, {301, 6, 200, 207}, {1, 1, 1, 260}};
        for (int step = 0; step < STEPS; step++) {
            current[0] = step;
            int[] slots = shapes[3 * step];
            int[] ctxs = shapes[3 * step + 1];
            int[] news = shapes[3 * step + 2];
            int n = slots.length;
            int[] cu = new int[n + 1];
            for (int s = 0; s < n; s++) {
                cu[s + 1] = cu[s] + news[s];
            }
            int[] tokens = rnd.ints(cu[n], 3, VOCAB).toArray();
            int[][] t = new int[n][];
            for (int s = 0; s < n; s++) {
                t[s] = tables[slots[s]];
            }
            int[] rows = new int[cu[n]];
            for (int i = 0; i < rows.length; i++) {
                rows[i] = i;
            }
            run.logits[step] = new float[rows.length * VOCAB];
            m.logits(new StepBatch(tokens, cu, slots, ctxs, t, rows), run.logits[step]);
        }
        return run;
    }
}
