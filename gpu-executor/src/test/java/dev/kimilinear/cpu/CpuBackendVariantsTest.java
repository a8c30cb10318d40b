package dev.kimilinear.cpu;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kimilinear.engine.LogitsRecorder;
import dev.kimilinear.model.KimiLinearConfig;
import dev.kimilinear.model.RandomCheckpoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Architecture variants the fixture does not cover (q LoRA, softmax router, plain top-k,
 * several MLA layers), on random checkpoints: prompt fed whole or in pieces, and decode
 * steps, must agree, and logits must be finite.
 */
class CpuBackendVariantsTest {

    private static Path model(Path dir, String overrides) throws Exception {
        ObjectMapper json = new ObjectMapper();
        ObjectNode cfg = (ObjectNode) json.readTree("""
                {"model_type": "kimi_linear", "vocab_size": 300, "hidden_size": 64, "intermediate_size": 96,
                 "num_hidden_layers": 5, "num_attention_heads": 2, "num_key_value_heads": 2,
                 "kv_lora_rank": 16, "qk_nope_head_dim": 8, "qk_rope_head_dim": 4, "v_head_dim": 8,
                 "linear_num_heads": 2, "linear_head_dim": 16, "linear_conv_kernel_dim": 4,
                 "num_experts": 6, "num_experts_per_token": 3, "moe_intermediate_size": 32,
                 "num_shared_experts": 2, "routed_scaling_factor": 1.5, "moe_renormalize": true,
                 "layer_types": ["linear_attention", "full_attention", "linear_attention", "full_attention",
                                 "linear_attention"],
                 "mlp_layer_types": ["dense", "sparse", "sparse", "dense", "sparse"],
                 "rms_norm_eps": 1e-5, "model_max_length": 4096, "bos_token_id": 1, "eos_token_id": 2, "pad_token_id": 0}
                """);
        cfg.setAll((ObjectNode) json.readTree(overrides));
        Path cfgFile = dir.resolve("in.json");
        json.writeValue(cfgFile.toFile(), cfg);
        Path out = dir.resolve("model");
        RandomCheckpoint.write(KimiLinearConfig.load(cfgFile), 17, out);
        return out;
    }

    private static void wholeEqualsPieces(Path modelDir) {
        CpuBackend backend = CpuBackend.load(modelDir);
        int[] ids = new Random(2).ints(90, 3, 300).toArray();
        LogitsRecorder.Recording whole = LogitsRecorder.record(backend, ids, 4, 4096);
        LogitsRecorder.Recording pieces = LogitsRecorder.record(backend, ids, 4, 13);
        // a stride keeps positions 0, 7, ..., 84 and the last, row for row as the whole recording
        LogitsRecorder.Recording strided = LogitsRecorder.record(backend, ids, 4, 13, 7);
        int[] rows = strided.prefillRows();
        assertArrayEquals(LogitsRecorder.strideRows(90, 7), rows);
        assertTrue(rows.length == 14 && rows[12] == 84 && rows[13] == 89);
        for (int i = 0; i < rows.length; i++) {
            float[] a = java.util.Arrays.copyOfRange(strided.prefillLogits(), i * 300, i * 300 + 300);
            float[] b = java.util.Arrays.copyOfRange(pieces.prefillLogits(), rows[i] * 300, rows[i] * 300 + 300);
            assertTrue(FixtureParityTest.maxAbs(a, b) < 1e-5, "strided row " + rows[i]);
        }
        assertArrayEquals(pieces.generatedIds(), strided.generatedIds());
        for (float f : whole.prefillLogits()) {
            assertTrue(Float.isFinite(f));
        }
        assertTrue(FixtureParityTest.maxAbs(pieces.prefillLogits(), whole.prefillLogits()) < 1e-4);
        assertTrue(FixtureParityTest.maxAbs(pieces.decodeLogits(), whole.decodeLogits()) < 1e-4);
        assertArrayEquals(whole.generatedIds(), pieces.generatedIds());
        // decode steps are consistent with a prefill of the same tokens
        int[] extended = java.util.Arrays.copyOf(ids, ids.length + 3);
        System.arraycopy(whole.generatedIds(), 0, extended, ids.length, 3);
        LogitsRecorder.Recording again = LogitsRecorder.record(backend, extended, 0, 4096);
        int vocab = whole.vocab();
        float[] lastThree = java.util.Arrays.copyOfRange(again.prefillLogits(), ids.length * vocab, (ids.length + 3) * vocab);
        float[] decoded = java.util.Arrays.copyOfRange(whole.decodeLogits(), vocab, 4 * vocab);
        assertTrue(FixtureParityTest.maxAbs(decoded, lastThree) < 1e-4, "decode vs prefill of the same tokens");
    }

    @Test
    void queryLoraPathAndPlainTopK(@TempDir Path dir) throws Exception {
        wholeEqualsPieces(model(dir, "{\"q_lora_rank\": 24}"));
    }

    @Test
    void softmaxRouterWithGroups(@TempDir Path dir) throws Exception {
        wholeEqualsPieces(model(dir, """
                {"moe_router_activation_func": "softmax", "num_expert_group": 3, "topk_group": 2}"""));
    }
}
