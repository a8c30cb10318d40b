package dev.kimilinear.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kimilinear.checkpoint.Checkpoint;
import dev.kimilinear.checkpoint.CheckpointException;
import dev.kimilinear.checkpoint.DType;
import dev.kimilinear.checkpoint.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RandomCheckpointTest {
    @TempDir
    Path dir;

    @Test
    void writesABindableCheckpointWithItsConfig() throws IOException {
        KimiLinearConfig config = KimiLinearConfigTest.small();
        Path out = dir.resolve("model");
        RandomCheckpoint.Result result = RandomCheckpoint.write(config, 7, out);
        assertEquals(List.of("model.safetensors", "generation_config.json", "config.json"), result.files());
        assertEquals(config, KimiLinearConfig.load(out.resolve("config.json")));
        JsonNode generation = new ObjectMapper().readTree(out.resolve("generation_config.json").toFile());
        assertEquals(2, generation.get("eos_token_id").asInt());
        try (Checkpoint c = Checkpoint.open(out)) {
            ModelWeights w = ModelWeights.bind(config, c);
            long total = 0;
            for (String name : c.names()) {
                total += c.tensor(name).numel();
            }
            assertEquals(result.parameters(), total);
            assertEquals(DType.F32, w.layers().get(0).kda().aLog().dtype());
            assertEquals(DType.F32, w.layers().get(0).kda().dtBias().dtype());
            assertEquals(DType.BF16, w.lmHead().dtype());
        }
    }

    @Test
    void initialisationFollowsTheReference() {
        KimiLinearConfig config = KimiLinearConfigTest.small();
        Path out = dir.resolve("init");
        RandomCheckpoint.write(config, 11, out);
        try (Checkpoint c = Checkpoint.open(out)) {
            ModelWeights w = ModelWeights.bind(config, c);
            float[] embed = w.embedTokens().toFloats();
            double sum = 0;
            double sumSq = 0;
            for (float v : embed) {
                sum += v;
                sumSq += v * v;
            }
            double mean = sum / embed.length;
            double std = Math.sqrt(sumSq / embed.length - mean * mean);
            assertEquals(0.0, mean, 0.002);
            assertEquals(0.02, std, 0.001);
            for (float v : w.finalNorm().toFloats()) {
                assertEquals(1f, v);
            }
            ModelWeights.Kda kda = w.layers().get(1).kda();
            for (float v : kda.oNorm().toFloats()) {
                assertEquals(1f, v);
            }
            for (float v : kda.aLog().toFloats()) {
                assertTrue(v >= 0 && v <= Math.log(16), "A_log " + v);
            }
            for (float v : kda.dtBias().toFloats()) {
                double dt = Math.log1p(Math.exp(v));
                assertTrue(dt >= 0.001 * 0.999 && dt <= 0.1 * 1.001, "softplus(dt_bias) " + dt);
            }
            float bound = (float) (1 / Math.sqrt(4));
            float maxConv = 0;
            for (float v : kda.qConv().toFloats()) {
                maxConv = Math.max(maxConv, Math.abs(v));
            }
            assertTrue(maxConv <= bound && maxConv > 0.8f * bound, "conv weights within +-1/sqrt(K)");
            for (float v : w.layers().get(3).moe().correctionBias().toFloats()) {
                assertEquals(0f, v);
            }
        }
    }

    @Test
    void sameSeedSameBytesOtherSeedOtherBytes() throws IOException {
        KimiLinearConfig config = KimiLinearConfigTest.small();
        RandomCheckpoint.write(config, 1, dir.resolve("a"));
        RandomCheckpoint.write(config, 1, dir.resolve("b"));
        RandomCheckpoint.write(config, 2, dir.resolve("c"));
        byte[] a = Files.readAllBytes(dir.resolve("a/model.safetensors"));
        assertArrayEquals(a, Files.readAllBytes(dir.resolve("b/model.safetensors")));
        assertFalse(java.util.Arrays.equals(a, Files.readAllBytes(dir.resolve("c/model.safetensors"))));
    }

    @Test
    void largeModelsAreShardedAndReadTheSame() {
        KimiLinearConfig config = KimiLinearConfigTest.small();
        RandomCheckpoint.write(config, 9, dir.resolve("single"));
        RandomCheckpoint.Result sharded = RandomCheckpoint.write(config, 9, dir.resolve("sharded"), 100_000);
        assertTrue(sharded.files().contains(Checkpoint.INDEX_FILE));
        assertTrue(sharded.files().size() > 4);
        try (Checkpoint one = Checkpoint.open(dir.resolve("single"));
             Checkpoint many = Checkpoint.open(dir.resolve("sharded"))) {
            assertEquals(one.names(), many.names());
            assertTrue(many.files().size() > 1);
            for (String name : one.names()) {
                Tensor x = one.tensor(name);
                Tensor y = many.tensor(name);
                assertArrayEquals(x.shape(), y.shape(), name);
                assertArrayEquals(x.toFloats(), y.toFloats(), name);
            }
            ModelWeights.bind(config, many);
        }
    }

    @Test
    void refusesToOverwriteACheckpoint() {
        KimiLinearConfig config = KimiLinearConfigTest.small();
        Path out = dir.resolve("taken");
        RandomCheckpoint.write(config, 1, out);
        CheckpointException e = assertThrows(CheckpointException.class, () -> RandomCheckpoint.write(config, 2, out));
        assertTrue(e.getMessage().contains("already holds"));
    }

    @Test
    void bigTensorsAreGeneratedInChunks() {
        // the embedding spans several generation chunks; chunks must differ and the tail must be filled
        String json = KimiLinearConfigTest.transformersSpelling().put("vocab_size", 40_000).toString();
        KimiLinearConfig config;
        try {
            config = KimiLinearConfig.parse(new ObjectMapper().readTree(json), "wide.json");
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        Path out = dir.resolve("wide");
        RandomCheckpoint.write(config, 4, out);
        try (Checkpoint c = Checkpoint.open(out)) {
            Tensor embed = c.tensor("model.embed_tokens.weight");
            long n = embed.numel();
            float[] head = new float[16];
            float[] second = new float[16];
            float[] tail = new float[16];
            embed.readFloats(0, head, 0, 16);
            embed.readFloats(1 << 20, second, 0, 16);
            embed.readFloats(n - 16, tail, 0, 16);
            assertFalse(java.util.Arrays.equals(head, second));
            int nonZero = 0;
            for (float v : tail) {
                nonZero += v != 0 ? 1 : 0;
            }
            assertTrue(nonZero > 10);
        }
    }

    @Test
    void planOfTheReleasedSizeHasItsParameterCount() throws IOException {
        String json = "{\"model_type\":\"kimi_linear\",\"vocab_size\":163840,\"hidden_size\":2304,"
                + "\"num_hidden_layers\":27,\"rms_norm_eps\":1e-5,\"intermediate_size\":9216,"
                + "\"linear_num_heads\":32,\"linear_head_dim\":128,\"linear_conv_kernel_dim\":4,"
                + "\"num_attention_heads\":32,\"kv_lora_rank\":512,\"qk_nope_head_dim\":128,"
                + "\"qk_rope_head_dim\":64,\"v_head_dim\":128,\"num_experts\":256,\"num_experts_per_token\":8,"
                + "\"moe_intermediate_size\":1024,\"num_shared_experts\":1,\"first_k_dense_replace\":1,"
                + "\"routed_scaling_factor\":2.446,\"model_max_length\":1048576,\"bos_token_id\":163584,"
                + "\"eos_token_id\":163586,\"pad_token_id\":163839}";
        KimiLinearConfig config = KimiLinearConfig.parse(new ObjectMapper().readTree(json), "48b.json");
        long parameters = 0;
        for (RandomCheckpoint.Planned p : RandomCheckpoint.plan(config)) {
            parameters += p.spec().numel();
        }
        // Kimi-Linear-48B-A3B: about 48 billion parameters in total
        assertTrue(parameters > 47e9 && parameters < 50e9, "parameters " + parameters);
    }

    /** The checkpoint made on request holds the bytes write puts in the file, tensor by tensor. */
    @Test
    void aGeneratedCheckpointHoldsTheWrittenBytes() {
        KimiLinearConfig config = KimiLinearConfigTest.small();
        Path out = dir.resolve("written");
        RandomCheckpoint.write(config, 5, out);
        try (Checkpoint written = Checkpoint.open(out); Checkpoint made = RandomCheckpoint.open(config, 5)) {
            assertEquals(written.names(), made.names());
            for (String name : written.names()) {
                Tensor a = written.tensor(name);
                Tensor b = made.tensor(name);
                assertEquals(a.dtype(), b.dtype(), name);
                assertArrayEquals(a.shape(), b.shape(), name);
                assertEquals(a.buffer(), b.buffer(), name + ": bytes");
                assertArrayEquals(a.toFloats(), b.toFloats(), name + ": floats");
            }
            ModelWeights w = ModelWeights.bind(config, made);
            assertEquals(DType.F32, w.layers().get(0).kda().aLog().dtype());
        }
        try (Checkpoint other = RandomCheckpoint.open(config, 6); Checkpoint same = RandomCheckpoint.open(config, 5);
             Checkpoint written = Checkpoint.open(out)) {
            String name = "lm_head.weight";
            assertFalse(other.tensor(name).buffer().equals(written.tensor(name).buffer()), "another seed, other bytes");
            assertEquals(same.tensor(name).buffer(), written.tensor(name).buffer());
        }
    }
}
