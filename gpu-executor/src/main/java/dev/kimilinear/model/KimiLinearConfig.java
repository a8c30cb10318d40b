package dev.kimilinear.model;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The architecture of one Kimi Linear checkpoint, read once from its {@code config.json}
 * (either spelling) and validated; nothing downstream reads JSON again.
 *
 * @param attention per layer (0-indexed): KDA or MLA
 * @param mlp       per layer: dense SwiGLU or MoE
 * @param moe       null when no layer is MoE
 */
public record KimiLinearConfig(
        String modelType,
        int vocabSize,
        int hiddenSize,
        int numLayers,
        float rmsNormEps,
        List<AttentionKind> attention,
        List<MlpKind> mlp,
        int intermediateSize,
        KdaConfig kda,
        MlaConfig mla,
        MoeConfig moe,
        long maxLength,
        int bosTokenId,
        int eosTokenId,
        int padTokenId,
        boolean tieWordEmbeddings) {

    public enum AttentionKind { KDA, MLA }

    public enum MlpKind { DENSE, MOE }

    public enum RouterActivation { SIGMOID, SOFTMAX }

    /** Kimi Delta Attention: H heads of D channels, short causal conv of width convKernel. */
    public record KdaConfig(int numHeads, int headDim, int convKernel) {
        public int width() {
            return numHeads * headDim;
        }

        /** fp32 values of one sequence's state in one layer: the q, k, v conv tails and the recurrent state. */
        public long stateFloats() {
            return 3L * width() * (convKernel - 1) + (long) numHeads * headDim * headDim;
        }
    }

    /**
     * Multi-head latent attention without positional encoding.
     *
     * @param qLoraRank 0 when queries come from a single q_proj
     * @param normEps   eps of kv_a_layernorm / q_a_layernorm (1e-6 in the reference)
     */
    public record MlaConfig(int numHeads, int qLoraRank, int kvLoraRank, int qkNopeHeadDim,
                            int qkRopeHeadDim, int vHeadDim, float normEps) {
        public int qkHeadDim() {
            return qkNopeHeadDim + qkRopeHeadDim;
        }

        /** Values cached per token and layer: the compressed latent and the shared k_rot. */
        public int latentWidth() {
            return kvLoraRank + qkRopeHeadDim;
        }
    }

    /**
     * Routed experts plus shared ones.
     *
     * @param numGroups groups for grouped top-k (1: plain top-k)
     * @param topkGroup groups kept before the expert choice
     */
    public record MoeConfig(int numExperts, int topK, int intermediateSize, int numSharedExperts,
                            int numGroups, int topkGroup, float routedScalingFactor,
                            boolean renormalize, RouterActivation activation) {
    }

    /** Reads and validates a config.json in either spelling (see model-spec.md). */
    public static KimiLinearConfig load(Path configJson) {
        if (!Files.isRegularFile(configJson)) {
            throw new ConfigException(configJson + ": config file does not exist");
        }
        JsonNode root;
        try {
            root = new ObjectMapper().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
                    .readTree(configJson.toFile());
        } catch (IOException e) {
            throw new ConfigException(configJson + ": not valid JSON: " + e.getMessage(), e);
        }
        return parse(root, configJson.toString());
    }

    /** Parses and validates a config tree; {@code source} names it in errors. */
    public static KimiLinearConfig parse(JsonNode root, String source) {
        return KimiLinearConfigReader.read(root, source);
    }

    /** This config in the transformers spelling; {@link #parse} of the result equals this record. */
    public ObjectNode toJson() {
        return KimiLinearConfigWriter.toJson(this);
    }

    /**
     * Checks that the fields are consistent with each other (list lengths, which sub-configs
     * are present, expert counts and groups); returns this, or throws {@link ConfigException}
     * naming {@code source} and the field.
     */
    public KimiLinearConfig validate(String source) {
        KimiLinearConfigValidator.validate(this, source);
        return this;
    }

    public boolean isKda(int layer) {
        return attention.get(layer) == AttentionKind.KDA;
    }

    public boolean isMoe(int layer) {
        return mlp.get(layer) == MlpKind.MOE;
    }

    public int numKdaLayers() {
        return (int) attention.stream().filter(a -> a == AttentionKind.KDA).count();
    }

    public int numMlaLayers() {
        return numLayers - numKdaLayers();
    }
}
