package dev.kimilinear.model;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kimilinear.model.KimiLinearConfig.AttentionKind;
import dev.kimilinear.model.KimiLinearConfig.KdaConfig;
import dev.kimilinear.model.KimiLinearConfig.MlaConfig;
import dev.kimilinear.model.KimiLinearConfig.MlpKind;
import dev.kimilinear.model.KimiLinearConfig.MoeConfig;
import dev.kimilinear.model.KimiLinearConfig.RouterActivation;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;

import static dev.kimilinear.model.KimiLinearConfig.AttentionKind.KDA;
import static dev.kimilinear.model.KimiLinearConfig.AttentionKind.MLA;
import static dev.kimilinear.model.KimiLinearConfig.MlpKind.DENSE;
import static dev.kimilinear.model.KimiLinearConfig.MlpKind.MOE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class KimiLinearConfigTest {
    static final Path FIXTURE = ParityFixture.DIR;
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    /** A small model in the transformers spelling: 6 layers, MLA at 2 and 5, MoE from layer 1. */
    static ObjectNode transformersSpelling() {
        ObjectNode c = JSON.createObjectNode();
        c.put("model_type", "kimi_linear");
        c.put("vocab_size", 300);
        c.put("hidden_size", 64);
        c.put("num_hidden_layers", 6);
        c.put("rms_norm_eps", 1e-5);
        c.put("intermediate_size", 96);
        ArrayNode layers = c.putArray("layer_types");
        for (String t : List.of("linear_attention", "linear_attention", "full_attention", "linear_attention",
                "linear_attention", "full_attention")) {
            layers.add(t);
        }
        ArrayNode mlp = c.putArray("mlp_layer_types");
        for (String t : List.of("dense", "sparse", "sparse", "sparse", "sparse", "sparse")) {
            mlp.add(t);
        }
        c.put("linear_num_heads", 2);
        c.put("linear_head_dim", 16);
        c.put("linear_conv_kernel_dim", 4);
        c.put("num_attention_heads", 2);
        c.put("num_key_value_heads", 2);
        c.putNull("q_lora_rank");
        c.put("kv_lora_rank", 16);
        c.put("qk_nope_head_dim", 8);
        c.put("qk_rope_head_dim", 4);
        c.put("v_head_dim", 8);
        c.put("num_experts", 8);
        c.put("num_experts_per_token", 2);
        c.put("num_expert_group", 2);
        c.put("topk_group", 1);
        c.put("num_shared_experts", 1);
        c.put("moe_intermediate_size", 32);
        c.put("moe_renormalize", true);
        c.put("routed_scaling_factor", 2.446);
        c.put("model_max_length", 4096);
        c.put("bos_token_id", 1);
        c.put("eos_token_id", 2);
        c.put("pad_token_id", 0);
        c.put("tie_word_embeddings", false);
        return c;
    }

    /** The same model in the original release's spelling. */
    static ObjectNode originalSpelling() {
        ObjectNode c = JSON.createObjectNode();
        c.put("model_type", "kimi_linear");
        c.put("vocab_size", 300);
        c.put("hidden_size", 64);
        c.put("num_hidden_layers", 6);
        c.put("rms_norm_eps", 1e-5);
        c.put("intermediate_size", 96);
        ObjectNode linear = c.putObject("linear_attn_config");
        linear.putArray("kda_layers").add(1).add(2).add(4).add(5);
        linear.putArray("full_attn_layers").add(3).add(6);
        linear.put("num_heads", 2);
        linear.put("head_dim", 16);
        linear.put("short_conv_kernel_size", 4);
        c.put("first_k_dense_replace", 1);
        c.put("moe_layer_freq", 1);
        c.put("num_attention_heads", 2);
        c.put("num_key_value_heads", 2);
        c.putNull("q_lora_rank");
        c.put("kv_lora_rank", 16);
        c.put("qk_nope_head_dim", 8);
        c.put("qk_rope_head_dim", 4);
        c.put("v_head_dim", 8);
        c.put("mla_use_nope", true);
        c.put("num_nextn_predict_layers", 0);
        c.put("num_local_experts", 8);
        c.put("num_experts_per_tok", 2);
        c.put("use_grouped_topk", true);
        c.put("n_group", 2);
        c.put("topk_group", 1);
        c.put("n_shared_experts", 1);
        c.put("moe_intermediate_size", 32);
        c.put("norm_topk_prob", true);
        c.put("moe_router_activation_func", "sigmoid");
        c.put("routed_scaling_factor", 2.446);
        c.put("max_position_embeddings", 4096);
        c.put("bos_token_id", 1);
        c.put("eos_token_id", 2);
        c.put("pad_token_id", 0);
        c.put("tie_word_embeddings", false);
        return c;
    }

    static KimiLinearConfig small() {
        return KimiLinearConfig.parse(transformersSpelling(), "small.json");
    }

    private static ConfigException refused(ObjectNode config) {
        return assertThrows(ConfigException.class, () -> KimiLinearConfig.parse(config, "bad.json"));
    }

    private static ConfigException refusedAfter(Consumer<ObjectNode> change) {
        ObjectNode c = transformersSpelling();
        change.accept(c);
        return refused(c);
    }

    private static void assertMentions(Exception e, String... parts) {
        for (String part : parts) {
            assertTrue(e.getMessage().contains(part), "message \"" + e.getMessage() + "\" should mention " + part);
        }
    }

    @Test
    void parsesTheTransformersSpelling() {
        KimiLinearConfig c = small();
        assertEquals("kimi_linear", c.modelType());
        assertEquals(300, c.vocabSize());
        assertEquals(64, c.hiddenSize());
        assertEquals(6, c.numLayers());
        assertEquals(1e-5f, c.rmsNormEps());
        assertEquals(List.of(KDA, KDA, MLA, KDA, KDA, MLA), c.attention());
        assertEquals(List.of(DENSE, MOE, MOE, MOE, MOE, MOE), c.mlp());
        assertEquals(96, c.intermediateSize());
        assertEquals(new KdaConfig(2, 16, 4), c.kda());
        assertEquals(new MlaConfig(2, 0, 16, 8, 4, 8, 1e-6f), c.mla());
        assertEquals(new MoeConfig(8, 2, 32, 1, 2, 1, 2.446f, true, RouterActivation.SIGMOID), c.moe());
        assertEquals(4096, c.maxLength());
        assertEquals(1, c.bosTokenId());
        assertEquals(2, c.eosTokenId());
        assertEquals(0, c.padTokenId());
        assertEquals(4, c.numKdaLayers());
        assertEquals(2, c.numMlaLayers());
    }

    @Test
    void bothSpellingsGiveTheSameRecord() {
        assertEquals(small(), KimiLinearConfig.parse(originalSpelling(), "original.json"));
    }

    @Test
    void fixtureSpellingsParseToEqualRecords() {
        Path transformers = FIXTURE.resolve("config.json");
        Path original = FIXTURE.resolve("config.original-spelling.json");
        assumeTrue(Files.isRegularFile(transformers) && Files.isRegularFile(original), "fixture absent");
        KimiLinearConfig a = KimiLinearConfig.load(transformers);
        KimiLinearConfig b = KimiLinearConfig.load(original);
        assertEquals(a, b);
        assertEquals(List.of(KDA, KDA, MLA, KDA), a.attention());
        assertEquals(List.of(DENSE, MOE, MOE, MOE), a.mlp());
        assertEquals(1e-6f, a.mla().normEps());
        assertEquals(2, a.moe().numGroups());
    }

    @Test
    void writtenJsonReadsBackAsTheSameRecord() throws IOException {
        KimiLinearConfig c = small();
        assertEquals(c, KimiLinearConfig.parse(c.toJson(), "written"));
        ObjectNode variant = transformersSpelling();
        variant.put("q_lora_rank", 24);
        variant.put("tie_word_embeddings", true);
        variant.put("moe_router_activation_func", "softmax");
        variant.put("moe_renormalize", false);
        variant.put("rms_norm_eps", 1e-6);
        variant.putNull("pad_token_id");
        KimiLinearConfig v = KimiLinearConfig.parse(variant, "variant");
        Path file = dir.resolve("config.json");
        Files.writeString(file, JSON.writeValueAsString(v.toJson()));
        assertEquals(v, KimiLinearConfig.load(file));
        assertEquals(24, v.mla().qLoraRank());
        assertEquals(-1, v.padTokenId());
    }

    @Test
    void withoutLayerListsTheReferenceRulePlacesMla() {
        ObjectNode c = transformersSpelling();
        c.remove("layer_types");
        c.remove("mlp_layer_types");
        c.put("num_hidden_layers", 27);
        c.put("first_k_dense_replace", 1);
        KimiLinearConfig parsed = KimiLinearConfig.parse(c, "rule.json");
        for (int i = 0; i < 27; i++) {
            assertEquals(i > 0 && i % 4 == 0 ? MLA : KDA, parsed.attention().get(i), "layer " + i);
            assertEquals(i == 0 ? DENSE : MOE, parsed.mlp().get(i), "layer " + i);
        }
        assertEquals(6, parsed.numMlaLayers());
    }

    @Test
    void originalLayerNumbersAreOneIndexed() {
        ObjectNode c = originalSpelling();
        c.put("num_hidden_layers", 27);
        ObjectNode linear = (ObjectNode) c.get("linear_attn_config");
        ArrayNode kda = linear.putArray("kda_layers");
        ArrayNode full = linear.putArray("full_attn_layers");
        List<Integer> fullNumbers = List.of(4, 8, 12, 16, 20, 24, 27);
        for (int n = 1; n <= 27; n++) {
            (fullNumbers.contains(n) ? full : kda).add(n);
        }
        KimiLinearConfig parsed = KimiLinearConfig.parse(c, "release.json");
        for (int i = 0; i < 27; i++) {
            assertEquals(fullNumbers.contains(i + 1) ? MLA : KDA, parsed.attention().get(i), "layer " + i);
        }
    }

    @Test
    void moeLayerFrequencyAndFirstDenseLayers() {
        ObjectNode c = originalSpelling();
        c.put("first_k_dense_replace", 2);
        c.put("moe_layer_freq", 2);
        assertEquals(List.of(DENSE, DENSE, MOE, DENSE, MOE, DENSE), KimiLinearConfig.parse(c, "x").mlp());
        c.remove("num_local_experts");
        c.remove("num_experts_per_tok");
        KimiLinearConfig dense = KimiLinearConfig.parse(c, "x");
        assertEquals(List.of(DENSE, DENSE, DENSE, DENSE, DENSE, DENSE), dense.mlp());
        assertEquals(null, dense.moe());
    }

    @Test
    void ungroupedTopKIgnoresGroups() {
        ObjectNode c = originalSpelling();
        c.put("use_grouped_topk", false);
        assertEquals(1, KimiLinearConfig.parse(c, "x").moe().numGroups());
        assertEquals(1, KimiLinearConfig.parse(c, "x").moe().topkGroup());
    }

    @Test
    void eosListTakesTheFirstId() {
        ObjectNode c = transformersSpelling();
        c.putArray("eos_token_id").add(7).add(2);
        assertEquals(7, KimiLinearConfig.parse(c, "x").eosTokenId());
    }

    @Test
    void unknownOrMissingModelType() {
        assertMentions(refusedAfter(c -> c.put("model_type", "deepseek_v3")), "bad.json", "model_type",
                "deepseek_v3", "kimi_linear");
        assertMentions(refusedAfter(c -> c.remove("model_type")), "bad.json", "missing field model_type");
    }

    @Test
    void missingRequiredFields() {
        assertMentions(refusedAfter(c -> c.remove("hidden_size")), "bad.json", "hidden_size");
        assertMentions(refusedAfter(c -> c.remove("rms_norm_eps")), "rms_norm_eps");
        assertMentions(refusedAfter(c -> c.remove("linear_head_dim")), "linear_head_dim",
                "linear_attn_config.head_dim");
        assertMentions(refusedAfter(c -> c.remove("kv_lora_rank")), "kv_lora_rank");
        assertMentions(refusedAfter(c -> c.remove("moe_intermediate_size")), "moe_intermediate_size");
        assertMentions(refusedAfter(c -> c.remove("model_max_length")), "model_max_length",
                "max_position_embeddings");
        assertMentions(refusedAfter(c -> c.remove("num_experts")), "num_experts", "sparse");
        assertMentions(refusedAfter(c -> c.remove("intermediate_size")), "intermediate_size");
    }

    @Test
    void wrongTypesAndValues() {
        assertMentions(refusedAfter(c -> c.put("hidden_size", "64")), "hidden_size", "integer");
        assertMentions(refusedAfter(c -> c.put("num_hidden_layers", 0)), "num_hidden_layers");
        assertMentions(refusedAfter(c -> c.put("rms_norm_eps", -1)), "rms_norm_eps", "positive");
        assertMentions(refusedAfter(c -> c.put("moe_renormalize", "yes")), "moe_renormalize", "true or false");
        assertMentions(refusedAfter(c -> c.put("hidden_act", "gelu")), "hidden_act", "silu");
        assertMentions(refusedAfter(c -> c.put("moe_router_activation_func", "relu")),
                "moe_router_activation_func", "sigmoid");
        assertMentions(refusedAfter(c -> c.put("bos_token_id", 300)), "bos_token_id", "vocab_size");
    }

    @Test
    void layerTypesMustCoverEveryLayer() {
        assertMentions(refusedAfter(c -> ((ArrayNode) c.get("layer_types")).remove(0)), "layer_types",
                "5 entries", "6");
        assertMentions(refusedAfter(c -> ((ArrayNode) c.get("layer_types")).set(1, "sliding_attention")),
                "layer_types[1]", "sliding_attention");
        assertMentions(refusedAfter(c -> ((ArrayNode) c.get("mlp_layer_types")).add("dense")),
                "mlp_layer_types", "7 entries");
        assertMentions(refusedAfter(c -> ((ArrayNode) c.get("mlp_layer_types")).set(0, "moe")),
                "mlp_layer_types[0]", "\"dense\" or \"sparse\"");
    }

    @Test
    void originalLayerListsMustCoverEveryLayerExactlyOnce() {
        ObjectNode leftOut = originalSpelling();
        ((ArrayNode) leftOut.get("linear_attn_config").get("kda_layers")).remove(3);
        assertMentions(refused(leftOut), "linear_attn_config.kda_layers", "layer number 5");

        ObjectNode both = originalSpelling();
        ((ArrayNode) both.get("linear_attn_config").get("full_attn_layers")).add(1);
        assertMentions(refused(both), "linear_attn_config.full_attn_layers", "layer number 1", "other list");

        ObjectNode twice = originalSpelling();
        ((ArrayNode) twice.get("linear_attn_config").get("kda_layers")).add(2);
        assertMentions(refused(twice), "kda_layers", "appears twice");

        ObjectNode zeroIndexed = originalSpelling();
        ((ArrayNode) zeroIndexed.get("linear_attn_config").get("kda_layers")).set(0, 0);
        assertMentions(refused(zeroIndexed), "kda_layers", "layer number 0", "1-indexed");

        ObjectNode missing = originalSpelling();
        ((ObjectNode) missing.get("linear_attn_config")).remove("full_attn_layers");
        assertMentions(refused(missing), "linear_attn_config.full_attn_layers");
    }

    @Test
    void spellingsThatDisagreeAreRefused() {
        ObjectNode c = originalSpelling();
        c.set("layer_types", transformersSpelling().get("layer_types"));
        KimiLinearConfig.parse(c, "agree.json");
        ((ArrayNode) c.get("layer_types")).set(0, "full_attention");
        assertMentions(refused(c), "layer_types[0]", "linear_attn_config");

        ObjectNode heads = originalSpelling();
        heads.put("linear_num_heads", 4);
        assertMentions(refused(heads), "linear_num_heads", "linear_attn_config.num_heads");

        ObjectNode topK = transformersSpelling();
        topK.put("num_experts_per_tok", 3);
        assertMentions(refused(topK), "num_experts_per_token", "num_experts_per_tok");

        ObjectNode mlp = transformersSpelling();
        mlp.put("first_k_dense_replace", 2);
        assertMentions(refused(mlp), "mlp_layer_types[1]", "first_k_dense_replace");
    }

    @Test
    void mlaRules() {
        assertMentions(refusedAfter(c -> c.put("num_key_value_heads", 1)), "num_key_value_heads",
                "num_attention_heads = 2");
        assertMentions(refusedAfter(c -> c.put("mla_use_nope", false)), "mla_use_nope", "rotary");
        assertMentions(refusedAfter(c -> c.put("qk_head_dim", 16)), "qk_head_dim", "12");
    }

    @Test
    void moeRules() {
        assertMentions(refusedAfter(c -> c.put("num_experts_per_token", 9)), "num_experts_per_token", "1..8");
        assertMentions(refusedAfter(c -> c.put("topk_group", 3)), "topk_group", "1..2");
        assertMentions(refusedAfter(c -> c.put("num_expert_group", 3)), "num_expert_group",
                "divisor of num_experts = 8");
        assertMentions(refusedAfter(c -> c.put("num_expert_group", 8)), "num_expert_group", "at least 2");
        assertMentions(refusedAfter(c -> c.put("num_experts_per_token", 5)), "num_experts_per_token",
                "topk_group");
    }

    @Test
    void unimplementedFeaturesAreNamed() {
        assertMentions(refusedAfter(c -> c.put("num_nextn_predict_layers", 1)), "num_nextn_predict_layers");
        assertMentions(refusedAfter(c -> c.put("mla_use_output_gate", true)), "mla_use_output_gate");
        assertMentions(refusedAfter(c -> c.put("use_full_rank_gate", true)), "use_full_rank_gate");
        assertMentions(refusedAfter(c -> c.put("gate_lower_bound", -5.0)), "gate_lower_bound");
        assertMentions(refusedAfter(c -> c.put("attention_bias", true)), "attention_bias");
        ObjectNode nested = originalSpelling();
        ((ObjectNode) nested.get("linear_attn_config")).put("gate_lower_bound", -5.0);
        assertMentions(refused(nested), "linear_attn_config.gate_lower_bound");
        // the values that mean "off" are fine
        ObjectNode off = transformersSpelling();
        off.put("mla_use_output_gate", false);
        off.putNull("gate_lower_bound");
        off.put("num_nextn_predict_layers", 0);
        assertEquals(small(), KimiLinearConfig.parse(off, "off.json"));
    }

    @Test
    void loadNamesTheFile() throws IOException {
        Path broken = Files.writeString(dir.resolve("broken.json"), "{\"model_type\": ");
        assertMentions(assertThrows(ConfigException.class, () -> KimiLinearConfig.load(broken)),
                "broken.json", "not valid JSON");
        assertMentions(assertThrows(ConfigException.class, () -> KimiLinearConfig.load(dir.resolve("none.json"))),
                "none.json", "does not exist");
        Path array = Files.writeString(dir.resolve("array.json"), "[]");
        assertMentions(assertThrows(ConfigException.class, () -> KimiLinearConfig.load(array)), "array.json");
    }

    @Test
    void validateChecksRecordsBuiltInCode() {
        KimiLinearConfig c = small();
        KimiLinearConfig wrongLength = new KimiLinearConfig(c.modelType(), c.vocabSize(), c.hiddenSize(), 5,
                c.rmsNormEps(), c.attention(), c.mlp(), c.intermediateSize(), c.kda(), c.mla(), c.moe(),
                c.maxLength(), c.bosTokenId(), c.eosTokenId(), c.padTokenId(), c.tieWordEmbeddings());
        assertMentions(assertThrows(ConfigException.class, () -> wrongLength.validate("code")), "code",
                "layer_types");
        KimiLinearConfig noMoe = new KimiLinearConfig(c.modelType(), c.vocabSize(), c.hiddenSize(), c.numLayers(),
                c.rmsNormEps(), c.attention(), c.mlp(), c.intermediateSize(), c.kda(), c.mla(), null,
                c.maxLength(), c.bosTokenId(), c.eosTokenId(), c.padTokenId(), c.tieWordEmbeddings());
        assertMentions(assertThrows(ConfigException.class, () -> noMoe.validate("code")), "num_experts");
    }

    @Test
    void validateAcceptsImmutableLayerLists() {
        KimiLinearConfig c = small();
        KimiLinearConfig immutable = new KimiLinearConfig(c.modelType(), c.vocabSize(), c.hiddenSize(),
                c.numLayers(), c.rmsNormEps(), java.util.List.copyOf(c.attention()), java.util.List.copyOf(c.mlp()),
                c.intermediateSize(), c.kda(), c.mla(), c.moe(), c.maxLength(), c.bosTokenId(), c.eosTokenId(),
                c.padTokenId(), c.tieWordEmbeddings());
        immutable.validate("code");
    }
}
