package dev.kimilinear.model;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The {@code quantization_config} of an FP8 checkpoint in the compressed-tensors layout, the one
 * llm-compressor writes: the linear layers' weights e4m3 with one static scale per output
 * channel ({@code <name>.weight} F8_E4M3 [out, in], {@code <name>.weight_scale} [out, 1]), the
 * modules in {@code ignore} (lm_head, the routers) left bf16. Which tensors are e4m3 is read
 * from the checkpoint itself; this record is what config.json declares about them.
 *
 * @param format  "float-quantized" or "naive-quantized" (both store e4m3 values as they are)
 * @param targets the module classes or names the config groups quantise, e.g. ["Linear"]
 * @param ignore  the modules left unquantised, e.g. ["lm_head", "re:.*block_sparse_moe.gate$"]
 */
public record Fp8QuantizationConfig(String format, List<String> targets, List<String> ignore) {
    /** The field of config.json. */
    public static final String FIELD = "quantization_config";
    public static final String QUANT_METHOD = "compressed-tensors";
    public static final String FLOAT_QUANTIZED = "float-quantized";
    /** What is read, for the errors that reject anything else. */
    static final String READ = "compressed-tensors FP8 weights (num_bits 8, type float, strategy channel, "
            + "symmetric, static: one scale per output channel; format float-quantized or naive-quantized)";

    public Fp8QuantizationConfig {
        targets = List.copyOf(targets);
        ignore = List.copyOf(ignore);
    }

    /** The layout {@code model quantize} writes: every Linear but lm_head and the MoE routers. */
    public static Fp8QuantizationConfig written() {
        return new Fp8QuantizationConfig(FLOAT_QUANTIZED, List.of("Linear"),
                List.of("lm_head", "re:.*block_sparse_moe\\.gate$"));
    }

    /**
     * The quantization_config of a config.json tree; null when there is none. Anything but
     * compressed-tensors FP8 per-channel weights is a {@link ConfigException} naming the
     * source, the field and what is read.
     */
    public static Fp8QuantizationConfig read(JsonNode root, String source) {
        return Fp8QuantizationConfigReader.read(root, source);
    }

    /** As {@link #read}, from a config.json file. */
    public static Fp8QuantizationConfig load(Path configJson) {
        if (!Files.isRegularFile(configJson)) {
            throw new ConfigException(configJson + ": config file does not exist");
        }
        try {
            JsonNode root = new ObjectMapper().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
                    .readTree(configJson.toFile());
            return read(root, configJson.toString());
        } catch (IOException e) {
            throw new ConfigException(configJson + ": not valid JSON: " + e.getMessage(), e);
        }
    }

    /** This config as compressed-tensors spells it; {@link #read} of a config holding it gives this record. */
    public ObjectNode toJson() {
        JsonNodeFactory json = JsonNodeFactory.instance;
        ObjectNode root = json.objectNode();
        root.put("quant_method", QUANT_METHOD);
        root.put("format", format);
        root.put("quantization_status", "compressed");
        ObjectNode group = root.putObject("config_groups").putObject("group_0");
        targets.forEach(group.putArray("targets")::add);
        ObjectNode weights = group.putObject("weights");
        weights.put("num_bits", 8);
        weights.put("type", "float");
        weights.put("symmetric", true);
        weights.putNull("group_size");
        weights.put("strategy", "channel");
        weights.putNull("block_structure");
        weights.put("dynamic", false);
        weights.putNull("actorder");
        weights.put("observer", "minmax");
        group.putNull("input_activations");
        group.putNull("output_activations");
        group.put("format", format);
        ignore.forEach(root.putArray("ignore")::add);
        root.putNull("kv_cache_scheme");
        root.putNull("sparsity_config");
        return root;
    }
}
