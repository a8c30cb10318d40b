package dev.kimilinear.model;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class Fp8QuantizationConfigTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String SOURCE = "fp8/config.json";

    /** The quantization_config of an FP8_DYNAMIC conversion as llm-compressor writes it. */
    private static final String FP8_DYNAMIC = """
            {"config_groups": {"group_0": {
                "format": "float-quantized",
                "input_activations": {"actorder": null, "block_structure": null, "dynamic": true,
                    "group_size": null, "num_bits": 8, "observer": null, "observer_kwargs": {},
                    "strategy": "token", "symmetric": true, "type": "float"},
                "output_activations": null,
                "targets": ["Linear"],
                "weights": {"actorder": null, "block_structure": null, "dynamic": false,
                    "group_size": null, "num_bits": 8, "observer": "minmax", "observer_kwargs": {},
                    "strategy": "channel", "symmetric": true, "type": "float"}}},
             "format": "float-quantized",
             "global_compression_ratio": null,
             "ignore": ["lm_head", "re:.*block_sparse_moe.gate$"],
             "kv_cache_scheme": null,
             "quant_method": "compressed-tensors",
             "quantization_status": "compressed",
             "sparsity_config": {},
             "transform_config": {},
             "version": "0.12.2"}
            """;

    private static ObjectNode config(String quantization) throws IOException {
        ObjectNode root = KimiLinearConfigTest.small().toJson();
        root.set(Fp8QuantizationConfig.FIELD, JSON.readTree(quantization));
        return root;
    }

    private static ObjectNode weights(ObjectNode root) {
        return (ObjectNode) root.get(Fp8QuantizationConfig.FIELD).get("config_groups").get("group_0").get("weights");
    }

    private static ObjectNode quantization(ObjectNode root) {
        return (ObjectNode) root.get(Fp8QuantizationConfig.FIELD);
    }

    private static String rejection(ObjectNode root) {
        ConfigException e = assertThrows(ConfigException.class, () -> KimiLinearConfig.parse(root, SOURCE));
        assertTrue(e.getMessage().startsWith(SOURCE + ": field quantization_config."), e.getMessage());
        assertTrue(e.getMessage().contains("the only quantization read is compressed-tensors FP8 weights"),
                e.getMessage());
        return e.getMessage();
    }

    @Test
    void readsThePerChannelFp8LayoutOfCompressedTensors() throws IOException {
        ObjectNode root = config(FP8_DYNAMIC);
        assertEquals(KimiLinearConfigTest.small(), KimiLinearConfig.parse(root, SOURCE), "the model is the same");
        Fp8QuantizationConfig q = Fp8QuantizationConfig.read(root, SOURCE);
        assertEquals("float-quantized", q.format());
        assertEquals(List.of("Linear"), q.targets());
        assertEquals(List.of("lm_head", "re:.*block_sparse_moe.gate$"), q.ignore());
        quantization(root).put("format", "naive-quantized");
        ((ObjectNode) quantization(root).get("config_groups").get("group_0")).remove("format");
        assertEquals("naive-quantized", Fp8QuantizationConfig.read(root, SOURCE).format());
        assertNull(Fp8QuantizationConfig.read(KimiLinearConfigTest.small().toJson(), SOURCE), "no quantization");
    }

    @Test
    void whatIsWrittenReadsBack() {
        ObjectNode root = KimiLinearConfigTest.small().toJson();
        root.set(Fp8QuantizationConfig.FIELD, Fp8QuantizationConfig.written().toJson());
        assertEquals(Fp8QuantizationConfig.written(), Fp8QuantizationConfig.read(root, SOURCE));
    }

    @Test
    void otherMethodsAreRejectedByName() throws IOException {
        for (String method : List.of("fp8", "fbgemm_fp8", "awq", "gptq", "bitsandbytes")) {
            ObjectNode root = config(FP8_DYNAMIC);
            quantization(root).put("quant_method", method);
            String message = rejection(root);
            assertTrue(message.contains("quant_method = \"" + method + "\"; expected \"compressed-tensors\""), message);
        }
    }

    @Test
    void otherSchemesAreRejectedNamingTheField() throws IOException {
        ObjectNode perTensor = config(FP8_DYNAMIC);
        weights(perTensor).put("strategy", "tensor");
        assertTrue(rejection(perTensor).contains("config_groups.group_0.weights.strategy = \"tensor\""));

        ObjectNode block = config(FP8_DYNAMIC);
        weights(block).put("strategy", "block");
        weights(block).putArray("block_structure").add(128).add(128);
        assertTrue(rejection(block).contains("weights.strategy = \"block\""));

        ObjectNode inferredPerTensor = config(FP8_DYNAMIC);
        weights(inferredPerTensor).remove("strategy");
        assertTrue(rejection(inferredPerTensor).contains("weights.strategy = \"tensor\""));

        ObjectNode dynamicWeights = config(FP8_DYNAMIC);
        weights(dynamicWeights).put("dynamic", true);
        assertTrue(rejection(dynamicWeights).contains("weights.dynamic = true"));

        ObjectNode int8 = config(FP8_DYNAMIC);
        weights(int8).put("type", "int");
        assertTrue(rejection(int8).contains("weights.type = \"int\""));

        ObjectNode int4 = config(FP8_DYNAMIC);
        weights(int4).put("num_bits", 4);
        assertTrue(rejection(int4).contains("weights.num_bits = 4"));

        ObjectNode staticInputs = config(FP8_DYNAMIC);
        ((ObjectNode) quantization(staticInputs).get("config_groups").get("group_0").get("input_activations"))
                .put("dynamic", false);
        assertTrue(rejection(staticInputs).contains("input_activations.dynamic = false"));

        ObjectNode packed = config(FP8_DYNAMIC);
        quantization(packed).put("format", "pack-quantized");
        assertTrue(rejection(packed).contains("format = \"pack-quantized\""));

        ObjectNode kvCache = config(FP8_DYNAMIC);
        quantization(kvCache).putObject("kv_cache_scheme").put("num_bits", 8);
        assertTrue(rejection(kvCache).contains("kv_cache_scheme"));

        ObjectNode frozen = config(FP8_DYNAMIC);
        quantization(frozen).put("quantization_status", "frozen");
        assertTrue(rejection(frozen).contains("quantization_status = \"frozen\""));
    }
}
