package dev.kimilinear.model;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kimilinear.checkpoint.AtomicFiles;
import dev.kimilinear.checkpoint.Checkpoint;
import dev.kimilinear.checkpoint.CheckpointException;
import dev.kimilinear.checkpoint.DType;
import dev.kimilinear.checkpoint.HalfFloats;
import dev.kimilinear.checkpoint.ShardedSafetensorsWriter;
import dev.kimilinear.checkpoint.TensorSpec;
import dev.kimilinear.model.KimiLinearConfig.KdaConfig;
import dev.kimilinear.model.KimiLinearConfig.MlaConfig;
import dev.kimilinear.model.KimiLinearConfig.MoeConfig;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

/**
 * Writes a random-weight checkpoint of any config: config.json (transformers spelling),
 * generation_config.json and BF16 safetensors with the original release's tensor names
 * (A_log and dt_bias in F32, as released). Initialisation follows the reference: linear
 * weights normal(0, 0.02), norms 1, A_log = log(uniform(1, 16)), dt_bias = inverse softplus
 * of a log-uniform dt in [0.001, 0.1], conv weights uniform(+-1/sqrt(K)), router bias 0.
 * Tensors are generated in chunks and streamed to disk, each chunk from its own seed, so the
 * output depends only on config and seed and never sits in the heap.
 */
public final class RandomCheckpoint {
    /** Shard bound of the reference's save_pretrained. */
    public static final long DEFAULT_MAX_SHARD_BYTES = 5_000_000_000L;
    static final float INIT_STD = 0.02f;
    private static final int CHUNK = 1 << 20;
    private static final double DT_MIN = 0.001;
    private static final double DT_MAX = 0.1;
    private static final double DT_FLOOR = 1e-4;

    /** What was written. */
    public record Result(Path dir, long parameters, long bytes, List<String> files) {
    }

    enum Init { NORMAL, ONES, ZEROS, A_LOG, DT_BIAS, CONV }

    record Planned(TensorSpec spec, Init init, int fanIn) {
    }

    private RandomCheckpoint() {
    }

    public static Result write(KimiLinearConfig config, long seed, Path dir) {
        return write(config, seed, dir, DEFAULT_MAX_SHARD_BYTES);
    }

    /**
     * Writes into {@code dir}, which must not already hold a checkpoint; config.json comes
     * last, so its presence means the weights are complete.
     */
    public static Result write(KimiLinearConfig config, long seed, Path dir, long maxShardBytes) {
        config.validate("config");
        for (String existing : List.of("config.json", Checkpoint.SINGLE_FILE, Checkpoint.INDEX_FILE)) {
            if (Files.exists(dir.resolve(existing))) {
                throw new CheckpointException("output directory " + dir + " already holds " + existing
                        + "; expected a new or empty directory");
            }
        }
        List<Planned> plan = plan(config);
        List<TensorSpec> specs = new ArrayList<>();
        long parameters = 0;
        long bytes = 0;
        for (Planned p : plan) {
            specs.add(p.spec());
            parameters += p.spec().numel();
            bytes += p.spec().byteSize();
        }
        List<String> files = new ArrayList<>();
        try (ShardedSafetensorsWriter writer = ShardedSafetensorsWriter.open(dir, specs,
                Map.of("format", "pt"), maxShardBytes)) {
            int threads = Math.max(1, Runtime.getRuntime().availableProcessors());
            float[][] chunks = new float[threads][];
            for (Planned p : plan) {
                writeTensor(writer, p, seed, chunks);
            }
            writer.commit();
            files.addAll(writer.shardNames());
            if (writer.shardNames().size() > 1) {
                files.add(Checkpoint.INDEX_FILE);
            }
        }
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode generation = json.createObjectNode();
        putToken(generation, "bos_token_id", config.bosTokenId());
        putToken(generation, "eos_token_id", config.eosTokenId());
        putToken(generation, "pad_token_id", config.padTokenId());
        writeJson(json, dir.resolve("generation_config.json"), generation);
        writeJson(json, dir.resolve("config.json"), config.toJson());
        files.add("generation_config.json");
        files.add("config.json");
        return new Result(dir, parameters, bytes, List.copyOf(files));
    }

    /**
     * The checkpoint {@link #write} would write, made on request and never stored: each tensor's
     * bytes are generated when read (chunks in parallel, as write does), the same bytes as the
     * written file's. A model of any size, for measuring without a checkpoint on disk.
     */
    public static Checkpoint open(KimiLinearConfig config, long seed) {
        config.validate("config");
        List<Planned> plan = plan(config);
        Map<String, Planned> byName = new java.util.HashMap<>();
        List<TensorSpec> specs = new ArrayList<>();
        for (Planned p : plan) {
            byName.put(p.spec().name(), p);
            specs.add(p.spec());
        }
        ThreadLocal<float[]> chunkBuffer = ThreadLocal.withInitial(() -> new float[CHUNK]);
        return Checkpoint.generated(Path.of("random model (seed " + seed + ")"), specs, (spec, byteOffset, dst) -> {
            Planned p = byName.get(spec.name());
            int size = spec.dtype().size();
            long first = byteOffset / size;
            int count = dst.remaining() / size;
            long tensorSeed = mix(seed, spec.name());
            long firstChunk = first / CHUNK;
            long lastChunk = (first + count - 1) / CHUNK;
            java.util.stream.LongStream.rangeClosed(firstChunk, lastChunk).parallel().forEach(chunk -> {
                float[] values = chunkBuffer.get();
                int len = (int) Math.min(CHUNK, spec.numel() - chunk * CHUNK);
                fill(p, new SplittableRandom(mix(tensorSeed, chunk)), values, len);
                long from = Math.max(first, chunk * CHUNK);
                long to = Math.min(first + count, chunk * CHUNK + len);
                int at = (int) ((from - first) * size);
                int src = (int) (from - chunk * CHUNK);
                int n = (int) (to - from);
                switch (spec.dtype()) {
                    case BF16 -> {
                        for (int i = 0; i < n; i++) {
                            dst.putShort(at + 2 * i, HalfFloats.floatToBf16(values[src + i]));
                        }
                    }
                    case F32 -> {
                        for (int i = 0; i < n; i++) {
                            dst.putFloat(at + 4 * i, values[src + i]);
                        }
                    }
                    default -> throw new IllegalStateException("random tensor " + spec.name() + " of " + spec.dtype());
                }
            });
        });
    }

    /** Every tensor of the model in file order, with how it is initialised. */
    static List<Planned> plan(KimiLinearConfig c) {
        List<Planned> out = new ArrayList<>();
        long d = c.hiddenSize();
        out.add(normal("model.embed_tokens.weight", c.vocabSize(), d));
        for (int l = 0; l < c.numLayers(); l++) {
            String p = "model.layers." + l + ".";
            if (c.isKda(l)) {
                KdaConfig k = c.kda();
                String a = p + "self_attn.";
                long width = k.width();
                long dim = k.headDim();
                out.add(normal(a + "q_proj.weight", width, d));
                out.add(normal(a + "k_proj.weight", width, d));
                out.add(normal(a + "v_proj.weight", width, d));
                for (String conv : List.of("q_conv1d", "k_conv1d", "v_conv1d")) {
                    out.add(new Planned(TensorSpec.of(a + conv + ".weight", DType.BF16, width, 1, k.convKernel()),
                            Init.CONV, k.convKernel()));
                }
                out.add(new Planned(TensorSpec.of(a + "A_log", DType.F32, 1, 1, k.numHeads(), 1), Init.A_LOG, 0));
                out.add(normal(a + "f_a_proj.weight", dim, d));
                out.add(normal(a + "f_b_proj.weight", width, dim));
                out.add(new Planned(TensorSpec.of(a + "dt_bias", DType.F32, width), Init.DT_BIAS, 0));
                out.add(normal(a + "b_proj.weight", k.numHeads(), d));
                out.add(normal(a + "g_a_proj.weight", dim, d));
                out.add(normal(a + "g_b_proj.weight", width, dim));
                out.add(ones(a + "o_norm.weight", dim));
                out.add(normal(a + "o_proj.weight", d, width));
            } else {
                MlaConfig m = c.mla();
                String a = p + "self_attn.";
                long qWidth = (long) m.numHeads() * m.qkHeadDim();
                if (m.qLoraRank() > 0) {
                    out.add(normal(a + "q_a_proj.weight", m.qLoraRank(), d));
                    out.add(ones(a + "q_a_layernorm.weight", m.qLoraRank()));
                    out.add(normal(a + "q_b_proj.weight", qWidth, m.qLoraRank()));
                } else {
                    out.add(normal(a + "q_proj.weight", qWidth, d));
                }
                out.add(normal(a + "kv_a_proj_with_mqa.weight", m.latentWidth(), d));
                out.add(ones(a + "kv_a_layernorm.weight", m.kvLoraRank()));
                out.add(normal(a + "kv_b_proj.weight", (long) m.numHeads() * (m.qkNopeHeadDim() + m.vHeadDim()),
                        m.kvLoraRank()));
                out.add(normal(a + "o_proj.weight", d, (long) m.numHeads() * m.vHeadDim()));
            }
            String f = p + "block_sparse_moe.";
            if (c.isMoe(l)) {
                MoeConfig m = c.moe();
                out.add(normal(f + "gate.weight", m.numExperts(), d));
                out.add(new Planned(TensorSpec.of(f + "gate.e_score_correction_bias", DType.BF16, m.numExperts()),
                        Init.ZEROS, 0));
                for (int e = 0; e < m.numExperts(); e++) {
                    String x = f + "experts." + e + ".";
                    out.add(normal(x + "w1.weight", m.intermediateSize(), d));
                    out.add(normal(x + "w2.weight", d, m.intermediateSize()));
                    out.add(normal(x + "w3.weight", m.intermediateSize(), d));
                }
                if (m.numSharedExperts() > 0) {
                    long width = (long) m.intermediateSize() * m.numSharedExperts();
                    addMlp(out, f + "shared_experts.", width, d);
                }
            } else {
                addMlp(out, f, c.intermediateSize(), d);
            }
            out.add(ones(p + "input_layernorm.weight", d));
            out.add(ones(p + "post_attention_layernorm.weight", d));
        }
        out.add(ones("model.norm.weight", d));
        if (!c.tieWordEmbeddings()) {
            out.add(normal("lm_head.weight", c.vocabSize(), d));
        }
        return out;
    }

    private static void addMlp(List<Planned> out, String p, long width, long d) {
        out.add(normal(p + "gate_proj.weight", width, d));
        out.add(normal(p + "up_proj.weight", width, d));
        out.add(normal(p + "down_proj.weight", d, width));
    }

    private static Planned normal(String name, long... shape) {
        return new Planned(TensorSpec.of(name, DType.BF16, shape), Init.NORMAL, 0);
    }

    private static Planned ones(String name, long... shape) {
        return new Planned(TensorSpec.of(name, DType.BF16, shape), Init.ONES, 0);
    }

    /** Chunks are filled in parallel, each from a seed of (seed, tensor, chunk), then written in order. */
    private static void writeTensor(ShardedSafetensorsWriter writer, Planned p, long seed, float[][] chunks) {
        String name = p.spec().name();
        long numel = p.spec().numel();
        long tensorSeed = mix(seed, name);
        long chunkCount = (numel + CHUNK - 1) / CHUNK;
        for (long first = 0; first < chunkCount; first += chunks.length) {
            int batch = (int) Math.min(chunks.length, chunkCount - first);
            long base = first;
            IntStream.range(0, batch).parallel().forEach(i -> {
                long chunk = base + i;
                int len = (int) Math.min(CHUNK, numel - chunk * CHUNK);
                if (chunks[i] == null || chunks[i].length < len) {
                    chunks[i] = new float[Math.min(CHUNK, (int) Math.min(Integer.MAX_VALUE, numel))];
                }
                fill(p, new SplittableRandom(mix(tensorSeed, chunk)), chunks[i], len);
            });
            for (int i = 0; i < batch; i++) {
                long chunk = first + i;
                int len = (int) Math.min(CHUNK, numel - chunk * CHUNK);
                writer.writeFloats(name, chunks[i], 0, len);
            }
        }
    }

    private static void fill(Planned p, SplittableRandom random, float[] out, int len) {
        switch (p.init()) {
            case NORMAL:
                for (int i = 0; i < len; i++) {
                    out[i] = (float) (random.nextGaussian() * INIT_STD);
                }
                break;
            case ONES:
                java.util.Arrays.fill(out, 0, len, 1f);
                break;
            case ZEROS:
                java.util.Arrays.fill(out, 0, len, 0f);
                break;
            case A_LOG:
                for (int i = 0; i < len; i++) {
                    out[i] = (float) Math.log(random.nextDouble(1.0, 16.0));
                }
                break;
            case DT_BIAS:
                for (int i = 0; i < len; i++) {
                    double dt = Math.exp(random.nextDouble(Math.log(DT_MIN), Math.log(DT_MAX)));
                    dt = Math.max(dt, DT_FLOOR);
                    // softplus(dt_bias) = dt
                    out[i] = (float) (dt + Math.log(-Math.expm1(-dt)));
                }
                break;
            case CONV: {
                double bound = 1.0 / Math.sqrt(p.fanIn());
                for (int i = 0; i < len; i++) {
                    out[i] = (float) random.nextDouble(-bound, bound);
                }
                break;
            }
            default:
                throw new IllegalStateException(p.init().name());
        }
    }

    /** A well-spread 64-bit seed from a seed and a name (FNV-1a, then a SplitMix finaliser). */
    static long mix(long seed, String name) {
        long h = 0xcbf29ce484222325L;
        for (byte b : name.getBytes(StandardCharsets.UTF_8)) {
            h = (h ^ (b & 0xFF)) * 0x100000001b3L;
        }
        return mix(seed, h);
    }

    static long mix(long a, long b) {
        long z = a * 0x9E3779B97F4A7C15L + b;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    private static void putToken(ObjectNode node, String field, int id) {
        if (id < 0) {
            node.putNull(field);
        } else {
            node.put(field, id);
        }
    }

    private static void writeJson(ObjectMapper json, Path target, ObjectNode content) {
        try {
            AtomicFiles.writeString(target, json.writeValueAsString(content) + "\n");
        } catch (IOException e) {
            throw new CheckpointException("cannot write " + target + ": " + e.getMessage(), e);
        }
    }
}
