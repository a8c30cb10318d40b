package dev.kimilinear.model;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads a config.json's quantization_config as compressed-tensors writes it, accepting only the
 * scheme the backends run: static symmetric e4m3 weights with one scale per output channel.
 * Activation quantisation computed at run time ("dynamic": true, as in the FP8_DYNAMIC scheme)
 * is accepted: activations are bf16 here, so it changes nothing that is stored.
 */
final class Fp8QuantizationConfigReader {
    private static final Set<String> FORMATS = Set.of(Fp8QuantizationConfig.FLOAT_QUANTIZED, "naive-quantized");

    private Fp8QuantizationConfigReader() {
    }

    static Fp8QuantizationConfig read(JsonNode root, String source) {
        JsonNode node = root == null ? null : root.get(Fp8QuantizationConfig.FIELD);
        if (node == null || node.isNull()) {
            return null;
        }
        ConfigFields top = new ConfigFields(node, source, Fp8QuantizationConfig.FIELD + ".");
        if (!node.isObject()) {
            throw new ConfigException(source + ": field " + Fp8QuantizationConfig.FIELD + " = " + node
                    + "; expected an object of " + Fp8QuantizationConfig.READ);
        }
        JsonNode method = node.get("quant_method");
        if (method == null || !method.isTextual() || !method.textValue().equals(Fp8QuantizationConfig.QUANT_METHOD)) {
            throw rejected(top, "quant_method", method == null ? "absent" : method.toString(),
                    "\"" + Fp8QuantizationConfig.QUANT_METHOD + "\"");
        }
        String status = top.optionalString("compressed", "quantization_status");
        if (!status.equals("compressed")) {
            throw rejected(top, "quantization_status", "\"" + status + "\"",
                    "\"compressed\" (the weights stored as e4m3)");
        }
        for (String unread : List.of("kv_cache_scheme", "sparsity_config", "transform_config")) {
            JsonNode v = node.get(unread);
            if (v != null && !v.isNull() && !(v.isObject() && v.isEmpty())) {
                throw rejected(top, unread, v.toString(), "null (not read)");
            }
        }
        String format = top.optionalString(null, "format");
        JsonNode groups = node.get("config_groups");
        if (groups == null || !groups.isObject() || groups.isEmpty()) {
            throw rejected(top, "config_groups", String.valueOf(groups), "an object of one or more groups");
        }
        List<String> targets = new ArrayList<>();
        String groupFormat = null;
        for (Iterator<Map.Entry<String, JsonNode>> it = groups.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> g = it.next();
            String prefix = Fp8QuantizationConfig.FIELD + ".config_groups." + g.getKey() + ".";
            if (!g.getValue().isObject()) {
                throw new ConfigException(source + ": field " + prefix.substring(0, prefix.length() - 1) + " = "
                        + g.getValue() + "; expected an object with targets and weights");
            }
            ConfigFields group = new ConfigFields(g.getValue(), source, prefix);
            groupFormat = checkFormat(group, group.optionalString(format, "format"));
            List<String> groupTargets = group.stringList("targets");
            if (groupTargets == null || groupTargets.isEmpty()) {
                throw group.missing(new String[] {"targets"}, "a list of module classes or names, e.g. [\"Linear\"]");
            }
            targets.addAll(groupTargets);
            checkWeights(group, g.getValue().get("weights"));
            checkActivations(group, g.getValue());
        }
        List<String> ignore = top.stringList("ignore");
        return new Fp8QuantizationConfig(format != null ? checkFormat(top, format) : groupFormat,
                targets, ignore == null ? List.of() : ignore);
    }

    private static String checkFormat(ConfigFields f, String format) {
        if (format == null) {
            throw f.missing(new String[] {"format"}, "\"float-quantized\" or \"naive-quantized\"");
        }
        if (!FORMATS.contains(format)) {
            throw rejected(f, "format", "\"" + format + "\"", "\"float-quantized\" or \"naive-quantized\"");
        }
        return format;
    }

    private static void checkWeights(ConfigFields group, JsonNode weights) {
        if (weights == null || !weights.isObject()) {
            throw rejected(group, "weights", String.valueOf(weights), "an object of quantization arguments");
        }
        ConfigFields w = new ConfigFields(weights, group.source(), group.prefix() + "weights.");
        int bits = w.optionalInt(8, 1, "num_bits");
        String type = w.optionalString("int", "type");
        if (bits != 8 || !type.equalsIgnoreCase("float")) {
            throw rejected(w, bits != 8 ? "num_bits" : "type", bits != 8 ? String.valueOf(bits) : "\"" + type + "\"",
                    "8-bit float weights (num_bits 8, type \"float\")");
        }
        JsonNode groupSize = w.get("group_size");
        String strategy = w.optionalString(null, "strategy");
        if (strategy == null) {
            // compressed-tensors infers the strategy from group_size: none is per tensor, -1 per channel
            strategy = groupSize == null ? "tensor" : groupSize.asInt() == -1 ? "channel" : "group";
        }
        if (!strategy.equalsIgnoreCase("channel")) {
            throw rejected(w, "strategy", "\"" + strategy + "\"", "\"channel\" (one scale per output channel)");
        }
        if (groupSize != null && groupSize.asInt() != -1) {
            throw rejected(w, "group_size", groupSize.toString(), "null or -1 (per channel)");
        }
        JsonNode block = w.get("block_structure");
        if (block != null) {
            throw rejected(w, "block_structure", block.toString(), "null (per channel, not blocks)");
        }
        if (!w.optionalBoolean(true, "symmetric")) {
            throw rejected(w, "symmetric", "false", "true (no zero point)");
        }
        JsonNode dynamic = w.get("dynamic");
        if (dynamic != null && !(dynamic.isBoolean() && !dynamic.booleanValue())) {
            throw rejected(w, "dynamic", dynamic.toString(), "false (scales stored in the checkpoint)");
        }
        JsonNode actorder = w.get("actorder");
        if (actorder != null && !(actorder.isBoolean() && !actorder.booleanValue())) {
            throw rejected(w, "actorder", actorder.toString(), "null (no reordering)");
        }
    }

    private static void checkActivations(ConfigFields group, JsonNode groupNode) {
        JsonNode input = groupNode.get("input_activations");
        if (input != null && !input.isNull()) {
            JsonNode dynamic = input.get("dynamic");
            if (dynamic == null || !dynamic.isBoolean() || !dynamic.booleanValue()) {
                throw rejected(group, "input_activations.dynamic", String.valueOf(dynamic),
                        "true or no input_activations (static input scales are not read; activations run in bf16)");
            }
        }
        JsonNode output = groupNode.get("output_activations");
        if (output != null && !output.isNull()) {
            throw rejected(group, "output_activations", output.toString(), "null (not read)");
        }
    }

    private static ConfigException rejected(ConfigFields f, String field, String found, String expected) {
        return f.error(field, found + "; expected " + expected + ": the only quantization read is "
                + Fp8QuantizationConfig.READ);
    }
}
