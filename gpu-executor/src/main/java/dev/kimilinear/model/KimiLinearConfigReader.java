package dev.kimilinear.model;

import com.fasterxml.jackson.databind.JsonNode;
import dev.kimilinear.model.KimiLinearConfig.AttentionKind;
import dev.kimilinear.model.KimiLinearConfig.KdaConfig;
import dev.kimilinear.model.KimiLinearConfig.MlaConfig;
import dev.kimilinear.model.KimiLinearConfig.MlpKind;
import dev.kimilinear.model.KimiLinearConfig.MoeConfig;
import dev.kimilinear.model.KimiLinearConfig.RouterActivation;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads a Kimi Linear config.json in either spelling: the transformers one (layer_types,
 * mlp_layer_types, linear_num_heads, ...) or the original release's (linear_attn_config with
 * 1-indexed layer lists, first_k_dense_replace, moe_layer_freq, ...), plus the common aliases.
 */
final class KimiLinearConfigReader {
    static final String MODEL_TYPE = "kimi_linear";
    static final float MLA_NORM_EPS = 1e-6f;

    private static final Set<String> LINEAR_ATTN_KEYS =
            Set.of("kda_layers", "full_attn_layers", "num_heads", "head_dim", "short_conv_kernel_size");

    /** Keys of later models of the family, accepted only at the value that means "not used". */
    private static final Map<String, String> UNIMPLEMENTED = Map.of(
            "mla_use_output_gate", "false",
            "use_full_rank_gate", "false",
            "gate_lower_bound", "null",
            "kda_use_output_gate_lower_bound", "null",
            "use_qk_norm", "false",
            "attention_bias", "false",
            "mlp_bias", "false");

    private KimiLinearConfigReader() {
    }

    static KimiLinearConfig read(JsonNode root, String source) {
        if (root == null || !root.isObject()) {
            throw new ConfigException(source + ": expected a JSON object");
        }
        ConfigFields f = new ConfigFields(root, source, "");
        String modelType = f.optionalString(null, "model_type");
        if (modelType == null) {
            throw f.missing(new String[] {"model_type"}, "\"" + MODEL_TYPE + "\"");
        }
        if (!modelType.equals(MODEL_TYPE)) {
            throw f.error("model_type", "\"" + modelType + "\"; expected \"" + MODEL_TYPE + "\"");
        }
        rejectUnimplemented(root, f);
        // a quantised checkpoint is read only in the FP8 layout the backends run
        Fp8QuantizationConfig.read(root, source);
        String act = f.optionalString("silu", "hidden_act");
        if (!act.equals("silu")) {
            throw f.error("hidden_act", "\"" + act + "\"; expected \"silu\" (the only activation implemented)");
        }

        int vocab = f.requiredInt(1, "vocab_size");
        int hidden = f.requiredInt(1, "hidden_size");
        int layers = f.requiredInt(1, "num_hidden_layers");
        float eps = f.requiredPositiveFloat("rms_norm_eps");

        JsonNode linearNode = f.get("linear_attn_config");
        ConfigFields linear = null;
        if (linearNode != null) {
            if (!linearNode.isObject()) {
                throw f.error("linear_attn_config", linearNode + "; expected an object");
            }
            linear = new ConfigFields(linearNode, source, "linear_attn_config.");
            for (Iterator<Map.Entry<String, JsonNode>> it = linearNode.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                JsonNode v = e.getValue();
                if (!LINEAR_ATTN_KEYS.contains(e.getKey()) && !v.isNull() && !(v.isBoolean() && !v.booleanValue())) {
                    throw linear.error(e.getKey(), v + "; this key is not implemented (expected it absent, null or false)");
                }
            }
        }

        List<AttentionKind> attention = attentionKinds(f, linear, layers);
        List<MlpKind> mlp = mlpKinds(f, layers);
        boolean anyKda = attention.contains(AttentionKind.KDA);
        boolean anyMla = attention.contains(AttentionKind.MLA);
        boolean anyDense = mlp.contains(MlpKind.DENSE);
        boolean anyMoe = mlp.contains(MlpKind.MOE);

        KdaConfig kda = anyKda ? kdaConfig(f, linear) : null;
        MlaConfig mla = anyMla ? mlaConfig(f) : null;
        int intermediate = anyDense ? f.requiredInt(1, "intermediate_size") : f.optionalInt(0, 0, "intermediate_size");
        MoeConfig moe = anyMoe ? moeConfig(f) : null;

        long maxLength = f.requiredLong(1, "model_max_length", "max_position_embeddings");
        int bos = tokenId(f, "bos_token_id", 1);
        int eos = tokenId(f, "eos_token_id", 2);
        int pad = tokenId(f, "pad_token_id", 0);
        boolean tied = f.optionalBoolean(false, "tie_word_embeddings");

        KimiLinearConfig config = new KimiLinearConfig(modelType, vocab, hidden, layers, eps,
                Collections.unmodifiableList(attention), Collections.unmodifiableList(mlp),
                intermediate, kda, mla, moe, maxLength, bos, eos, pad, tied);
        return config.validate(source);
    }

    private static void rejectUnimplemented(JsonNode root, ConfigFields f) {
        for (Map.Entry<String, String> e : UNIMPLEMENTED.entrySet()) {
            JsonNode v = root.get(e.getKey());
            if (v == null || v.isNull() || v.toString().equals(e.getValue())) {
                continue;
            }
            throw f.error(e.getKey(), v + "; this feature is not implemented (expected " + e.getValue() + ")");
        }
        JsonNode nextn = root.get("num_nextn_predict_layers");
        if (nextn != null && !nextn.isNull() && !(nextn.isIntegralNumber() && nextn.intValue() == 0)) {
            throw f.error("num_nextn_predict_layers", nextn
                    + "; multi-token prediction layers are not implemented (expected 0)");
        }
    }

    private static List<AttentionKind> attentionKinds(ConfigFields f, ConfigFields linear, int layers) {
        List<AttentionKind> fromTypes = null;
        List<String> types = f.stringList("layer_types");
        if (types != null) {
            if (types.size() != layers) {
                throw f.error("layer_types", types.size() + " entries; expected num_hidden_layers = " + layers);
            }
            fromTypes = new ArrayList<>();
            for (int i = 0; i < layers; i++) {
                switch (types.get(i)) {
                    case "linear_attention":
                        fromTypes.add(AttentionKind.KDA);
                        break;
                    case "full_attention":
                        fromTypes.add(AttentionKind.MLA);
                        break;
                    default:
                        throw f.error("layer_types[" + i + "]", "\"" + types.get(i)
                                + "\"; expected \"linear_attention\" or \"full_attention\"");
                }
            }
        }
        List<AttentionKind> fromLists = linear == null ? null : fromLayerLists(linear, layers);
        if (fromTypes != null && fromLists != null && !fromTypes.equals(fromLists)) {
            int i = 0;
            while (fromTypes.get(i) == fromLists.get(i)) {
                i++;
            }
            throw f.error("layer_types[" + i + "]", "\"" + types.get(i) + "\", but linear_attn_config makes layer "
                    + i + " (number " + (i + 1) + ") " + fromLists.get(i) + "; expected the two to agree");
        }
        if (fromTypes != null) {
            return fromTypes;
        }
        if (fromLists != null) {
            return fromLists;
        }
        List<AttentionKind> reference = new ArrayList<>();
        for (int i = 0; i < layers; i++) {
            reference.add(i > 0 && i % 4 == 0 ? AttentionKind.MLA : AttentionKind.KDA);
        }
        return reference;
    }

    /** kda_layers and full_attn_layers number layers from 1 and must cover each layer exactly once. */
    private static List<AttentionKind> fromLayerLists(ConfigFields linear, int layers) {
        List<Integer> kdaLayers = linear.intList("kda_layers");
        List<Integer> fullLayers = linear.intList("full_attn_layers");
        if (kdaLayers == null) {
            throw linear.missing(new String[] {"kda_layers"}, "a list of 1-indexed layer numbers");
        }
        if (fullLayers == null) {
            throw linear.missing(new String[] {"full_attn_layers"}, "a list of 1-indexed layer numbers");
        }
        AttentionKind[] kinds = new AttentionKind[layers];
        assign(linear, "kda_layers", kdaLayers, AttentionKind.KDA, kinds);
        assign(linear, "full_attn_layers", fullLayers, AttentionKind.MLA, kinds);
        for (int i = 0; i < layers; i++) {
            if (kinds[i] == null) {
                throw linear.error("kda_layers", kdaLayers + " and full_attn_layers = " + fullLayers
                        + " leave layer number " + (i + 1) + " out; expected every layer 1.." + layers + " exactly once");
            }
        }
        return new ArrayList<>(List.of(kinds));
    }

    private static void assign(ConfigFields linear, String field, List<Integer> numbers, AttentionKind kind,
                               AttentionKind[] kinds) {
        for (int n : numbers) {
            if (n < 1 || n > kinds.length) {
                throw linear.error(field, numbers + " lists layer number " + n + "; expected numbers 1.." + kinds.length
                        + " (1-indexed)");
            }
            if (kinds[n - 1] != null) {
                throw linear.error(field, numbers + " lists layer number " + n + ", which "
                        + (kinds[n - 1] == kind ? "appears twice" : "is also in the other list")
                        + "; expected every layer exactly once");
            }
            kinds[n - 1] = kind;
        }
    }

    private static List<MlpKind> mlpKinds(ConfigFields f, int layers) {
        List<String> types = f.stringList("mlp_layer_types");
        List<MlpKind> fromTypes = null;
        if (types != null) {
            if (types.size() != layers) {
                throw f.error("mlp_layer_types", types.size() + " entries; expected num_hidden_layers = " + layers);
            }
            fromTypes = new ArrayList<>();
            for (int i = 0; i < layers; i++) {
                switch (types.get(i)) {
                    case "dense":
                        fromTypes.add(MlpKind.DENSE);
                        break;
                    case "sparse":
                        fromTypes.add(MlpKind.MOE);
                        break;
                    default:
                        throw f.error("mlp_layer_types[" + i + "]", "\"" + types.get(i)
                                + "\"; expected \"dense\" or \"sparse\"");
                }
            }
        }
        boolean hasRule = f.has("first_k_dense_replace") || f.has("moe_layer_freq");
        if (fromTypes != null && !hasRule) {
            return fromTypes;
        }
        boolean experts = f.has("num_experts", "num_local_experts");
        int firstDense = f.optionalInt(0, 0, "first_k_dense_replace");
        int frequency = f.optionalInt(1, 1, "moe_layer_freq");
        List<MlpKind> fromRule = new ArrayList<>();
        for (int i = 0; i < layers; i++) {
            fromRule.add(experts && i >= firstDense && i % frequency == 0 ? MlpKind.MOE : MlpKind.DENSE);
        }
        if (fromTypes != null && !fromTypes.equals(fromRule)) {
            int i = 0;
            while (fromTypes.get(i) == fromRule.get(i)) {
                i++;
            }
            throw f.error("mlp_layer_types[" + i + "]", "\"" + types.get(i) + "\", but first_k_dense_replace = "
                    + firstDense + " and moe_layer_freq = " + frequency + " make layer " + i + " "
                    + fromRule.get(i) + "; expected the two to agree");
        }
        return fromRule;
    }

    private static KdaConfig kdaConfig(ConfigFields f, ConfigFields linear) {
        int heads = kdaField(f, linear, "linear_num_heads", "num_heads");
        int headDim = kdaField(f, linear, "linear_head_dim", "head_dim");
        int kernel = kdaField(f, linear, "linear_conv_kernel_dim", "short_conv_kernel_size");
        return new KdaConfig(heads, headDim, kernel);
    }

    private static int kdaField(ConfigFields f, ConfigFields linear, String flatName, String nestedName) {
        Integer flat = f.has(flatName) ? f.requiredInt(1, flatName) : null;
        Integer nested = linear != null && linear.has(nestedName) ? linear.requiredInt(1, nestedName) : null;
        if (flat != null && nested != null && !flat.equals(nested)) {
            throw f.error(flatName, flat + ", but linear_attn_config." + nestedName + " = " + nested
                    + "; expected the two spellings to agree");
        }
        if (flat == null && nested == null) {
            throw f.missing(new String[] {flatName, "linear_attn_config." + nestedName},
                    "a positive integer (the model has KDA layers)");
        }
        return flat != null ? flat : nested;
    }

    private static MlaConfig mlaConfig(ConfigFields f) {
        JsonNode nope = f.get("mla_use_nope");
        if (nope != null && !(nope.isBoolean() && nope.booleanValue())) {
            throw f.error("mla_use_nope", nope + "; rotary position embedding in MLA is not implemented"
                    + " (expected true)");
        }
        int heads = f.requiredInt(1, "num_attention_heads");
        int kvHeads = f.optionalInt(heads, 1, "num_key_value_heads");
        if (kvHeads != heads) {
            throw f.error("num_key_value_heads", kvHeads + "; expected num_attention_heads = " + heads
                    + " (MLA has one key and value per query head)");
        }
        int qLora = f.optionalInt(0, 0, "q_lora_rank");
        int kvLora = f.requiredInt(1, "kv_lora_rank");
        int dn = f.requiredInt(0, "qk_nope_head_dim");
        int dr = f.requiredInt(0, "qk_rope_head_dim");
        int dv = f.requiredInt(1, "v_head_dim");
        if (dn + dr == 0) {
            throw f.error("qk_nope_head_dim", "0 with qk_rope_head_dim = 0; expected a positive query/key head size");
        }
        if (f.has("qk_head_dim")) {
            int qk = f.requiredInt(1, "qk_head_dim");
            if (qk != dn + dr) {
                throw f.error("qk_head_dim", qk + "; expected qk_nope_head_dim + qk_rope_head_dim = " + (dn + dr));
            }
        }
        return new MlaConfig(heads, qLora, kvLora, dn, dr, dv, MLA_NORM_EPS);
    }

    private static MoeConfig moeConfig(ConfigFields f) {
        String[] expertsNames = {"num_experts", "num_local_experts"};
        if (!f.has(expertsNames)) {
            throw f.missing(expertsNames, "a positive integer (mlp_layer_types has sparse layers)");
        }
        int experts = f.requiredInt(1, expertsNames);
        int topK = f.requiredInt(1, "num_experts_per_token", "num_experts_per_tok");
        int width = f.requiredInt(1, "moe_intermediate_size");
        int shared = f.optionalInt(0, 0, "num_shared_experts", "n_shared_experts");
        boolean grouped = f.optionalBoolean(true, "use_grouped_topk");
        int groups = grouped ? f.optionalInt(1, 1, "num_expert_group", "n_group") : 1;
        int topkGroup = grouped ? f.optionalInt(1, 1, "topk_group") : 1;
        float scaling = f.optionalPositiveFloat(1.0f, "routed_scaling_factor");
        boolean renormalize = f.optionalBoolean(true, "moe_renormalize", "norm_topk_prob");
        String activation = f.optionalString("sigmoid", "moe_router_activation_func");
        RouterActivation router;
        switch (activation) {
            case "sigmoid":
                router = RouterActivation.SIGMOID;
                break;
            case "softmax":
                router = RouterActivation.SOFTMAX;
                break;
            default:
                throw f.error("moe_router_activation_func", "\"" + activation + "\"; expected \"sigmoid\" or \"softmax\"");
        }
        return new MoeConfig(experts, topK, width, shared, groups, topkGroup, scaling, renormalize, router);
    }

    /** A token id; a list (several eos ids) yields its first entry; null yields -1. */
    private static int tokenId(ConfigFields f, String name, int defaultValue) {
        JsonNode v = f.get(name);
        if (v == null) {
            return f.present(name) ? -1 : defaultValue;
        }
        if (v.isArray()) {
            if (v.size() == 0 || !v.get(0).isIntegralNumber()) {
                throw f.error(name, v + "; expected a token id or a non-empty list of token ids");
            }
            return v.get(0).intValue();
        }
        if (!v.isIntegralNumber() || !v.canConvertToInt() || v.intValue() < 0) {
            throw f.error(name, v + "; expected a token id (a non-negative integer)");
        }
        return v.intValue();
    }
}
