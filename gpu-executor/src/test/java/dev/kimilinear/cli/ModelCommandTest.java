package dev.kimilinear.cli;

import dev.kimilinear.checkpoint.Checkpoint;
import dev.kimilinear.checkpoint.DType;
import dev.kimilinear.model.KimiLinearConfig;
import dev.kimilinear.model.ModelWeights;
import dev.kimilinear.model.WeightPrecision;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ModelCommandTest {
    @TempDir
    Path dir;

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int run(String... args) {
        CommandLine cli = new CommandLine(new ModelCommand());
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        return cli.execute(args);
    }

    private Path config(String json) throws IOException {
        return Files.writeString(dir.resolve("config.in.json"), json);
    }

    private static final String SMALL = "{\"model_type\":\"kimi_linear\",\"vocab_size\":256,\"hidden_size\":32,"
            + "\"num_hidden_layers\":3,\"rms_norm_eps\":1e-5,\"intermediate_size\":64,"
            + "\"layer_types\":[\"linear_attention\",\"full_attention\",\"linear_attention\"],"
            + "\"mlp_layer_types\":[\"dense\",\"sparse\",\"sparse\"],"
            + "\"linear_num_heads\":2,\"linear_head_dim\":8,\"linear_conv_kernel_dim\":4,"
            + "\"num_attention_heads\":2,\"kv_lora_rank\":8,\"qk_nope_head_dim\":8,\"qk_rope_head_dim\":4,"
            + "\"v_head_dim\":8,\"num_experts\":4,\"num_experts_per_token\":2,\"moe_intermediate_size\":16,"
            + "\"num_shared_experts\":1,\"model_max_length\":2048}";

    @Test
    void quantizeWritesAnFp8CheckpointThatLoadsAsFp8() throws IOException {
        Path bf16 = dir.resolve("model");
        assertEquals(0, run("init", "--config", config(SMALL).toString(), "--out", bf16.toString()), err.toString());
        Path fp8 = dir.resolve("fp8");
        int code = run("quantize", "--in", bf16.toString(), "--out", fp8.toString());
        assertEquals(0, code, err.toString());
        assertTrue(out.toString().contains("linear weights in FP8"), out.toString());
        assertEquals(WeightPrecision.FP8, WeightPrecision.stored(fp8));
        KimiLinearConfig config = KimiLinearConfig.load(fp8.resolve("config.json"));
        try (Checkpoint c = Checkpoint.open(fp8)) {
            ModelWeights w = ModelWeights.bind(config, c);
            assertEquals(DType.F8_E4M3, w.layers().get(0).kda().qProj().dtype());
            assertEquals(DType.BF16, w.lmHead().dtype());
        }
        assertTrue(Files.isRegularFile(fp8.resolve("generation_config.json")));
        int again = run("quantize", "--in", fp8.toString(), "--out", dir.resolve("again").toString());
        assertEquals(1, again);
        assertTrue(err.toString().contains("model quantize: ") && err.toString().contains("quantization_config"),
                err.toString());
    }

    @Test
    void initWritesALoadableCheckpoint() throws IOException {
        Path target = dir.resolve("model");
        int code = run("init", "--config", config(SMALL).toString(), "--seed", "5", "--out", target.toString());
        assertEquals(0, code, err.toString());
        assertTrue(out.toString().startsWith("wrote "), out.toString());
        KimiLinearConfig config = KimiLinearConfig.load(target.resolve("config.json"));
        try (Checkpoint c = Checkpoint.open(target)) {
            assertEquals(3, ModelWeights.bind(config, c).layers().size());
        }
        assertTrue(Files.isRegularFile(target.resolve("generation_config.json")));
    }

    @Test
    void badConfigIsOneClearLine() throws IOException {
        Path bad = config(SMALL.replace("\"num_experts_per_token\":2", "\"num_experts_per_token\":9"));
        int code = run("init", "--config", bad.toString(), "--out", dir.resolve("m").toString());
        assertEquals(1, code);
        String message = err.toString().strip();
        assertFalse(message.contains("\n"), message);
        assertTrue(message.startsWith("model init: "), message);
        assertTrue(message.contains("config.in.json") && message.contains("num_experts_per_token"), message);
        assertFalse(Files.exists(dir.resolve("m/config.json")));
    }

    @Test
    void missingConfigFileAndOccupiedOutput() throws IOException {
        assertEquals(1, run("init", "--config", dir.resolve("absent.json").toString(), "--out", dir.toString()));
        assertTrue(err.toString().contains("absent.json"));
        Path target = dir.resolve("model");
        assertEquals(0, run("init", "--config", config(SMALL).toString(), "--out", target.toString()));
        assertEquals(1, run("init", "--config", config(SMALL).toString(), "--out", target.toString()));
        assertTrue(err.toString().contains("already holds"));
    }

    @Test
    void usageErrorsExitWithTwo() {
        assertEquals(2, run("init", "--seed", "1"));
        assertTrue(err.toString().contains("--config"));
        assertEquals(2, run());
        assertEquals(2, run("init", "--config", "c.json", "--out", "o", "--seed", "many"));
    }

    @Test
    void shardSizeOptionSplitsTheOutput() throws IOException {
        Path target = dir.resolve("sharded");
        assertEquals(0, run("init", "--config", config(SMALL).toString(), "--out", target.toString(),
                "--max-shard-size", "20KB"), err.toString());
        assertTrue(Files.isRegularFile(target.resolve(Checkpoint.INDEX_FILE)));
        assertEquals(1, run("init", "--config", config(SMALL).toString(), "--out", dir.resolve("x").toString(),
                "--max-shard-size", "lots"));
        assertTrue(err.toString().contains("--max-shard-size"));
    }

    @Test
    void sizesParse() {
        assertEquals(500_000_000L, ModelCommand.parseSize("500MB"));
        assertEquals(5_000_000_000L, ModelCommand.parseSize("5GB"));
        assertEquals(3L << 29, ModelCommand.parseSize("1.5GiB"));
        assertEquals(4096L, ModelCommand.parseSize("4096"));
    }
}
