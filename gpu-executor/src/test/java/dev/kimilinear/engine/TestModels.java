package dev.kimilinear.engine;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kimilinear.model.KimiLinearConfig;
import dev.kimilinear.model.ParityFixture;
import dev.kimilinear.model.RandomCheckpoint;
import dev.kimilinear.tokenizer.TokenizerBuilder;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Models and request helpers shared by the engine tests. */
final class TestModels {
    static final Path FIXTURE = ParityFixture.DIR;

    private TestModels() {
    }

    static Path fixture() {
        assumeTrue(Files.isDirectory(FIXTURE), "fixture folder absent: " + FIXTURE.toAbsolutePath());
        return FIXTURE;
    }

    /** A random-weight model with a tokenizer learned from the demo corpus, vocabularies equal. */
    static Path modelWithTokenizer(Path dir) throws Exception {
        int vocab = 400;
        ObjectMapper json = new ObjectMapper();
        ObjectNode cfg = (ObjectNode) json.readTree("""
                {"model_type": "kimi_linear", "hidden_size": 64, "intermediate_size": 96,
                 "num_hidden_layers": 3, "num_attention_heads": 2, "num_key_value_heads": 2,
                 "kv_lora_rank": 16, "qk_nope_head_dim": 8, "qk_rope_head_dim": 4, "v_head_dim": 8,
                 "linear_num_heads": 2, "linear_head_dim": 16, "linear_conv_kernel_dim": 4,
                 "num_experts": 4, "num_experts_per_token": 2, "moe_intermediate_size": 32,
                 "num_shared_experts": 1, "routed_scaling_factor": 1.5, "moe_renormalize": true,
                 "layer_types": ["linear_attention", "full_attention", "linear_attention"],
                 "mlp_layer_types": ["dense", "sparse", "sparse"],
                 "rms_norm_eps": 1e-5, "model_max_length": 4096, "bos_token_id": 1, "eos_token_id": 2,
                 "pad_token_id": 0}
                """);
        cfg.put("vocab_size", vocab);
        Path cfgFile = dir.resolve("in.json");
        json.writeValue(cfgFile.toFile(), cfg);
        Path out = dir.resolve("model");
        RandomCheckpoint.write(KimiLinearConfig.load(cfgFile), 5, out);
        new TokenizerBuilder(vocab).build(TokenizerBuilder.demoCorpus(), out);
        return out;
    }

    /** Random token ids in [3, vocab): clear of pad, bos and the fixture's eos. */
    static int[] randomIds(Random random, int length, int vocab) {
        return random.ints(length, 3, vocab).toArray();
    }

    static GenerationRequest tokens(String id, int[] ids, SamplingParams sampling) {
        return new GenerationRequest(id, new Prompt.Tokens(ids), sampling);
    }

    static SamplingParams sampled(int maxTokens, double temperature, double topP, int topK, long seed, int n,
                                  int logprobs) {
        return new SamplingParams(maxTokens, temperature, topP, topK, seed, List.of(), List.of(), n, logprobs);
    }

    /** All results of these requests, in completion order. */
    static List<GenerationResult> run(Engine engine, List<GenerationRequest> requests) {
        List<GenerationResult> out = new ArrayList<>();
        engine.generate(requests).forEachRemaining(out::add);
        return out;
    }

    /** The one result of a one-sample request run alone. */
    static GenerationResult runAlone(Engine engine, GenerationRequest request) {
        return run(engine, List.of(request)).get(0);
    }

    static Consumer<GenerationResult> ignore() {
        return r -> {
        };
    }
}
