package dev.kimilinear.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kimilinear.model.KimiLinearConfig;
import dev.kimilinear.model.ParityFixture;
import dev.kimilinear.model.RandomCheckpoint;
import dev.kimilinear.tokenizer.KimiTokenizer;
import dev.kimilinear.tokenizer.TokenizerBuilder;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The generate and bench commands on a small random model and on the fixture. */
class GenerateCommandTest {
    static final Path FIXTURE = ParityFixture.DIR;
    @TempDir
    static Path dir;
    static Path model;

    @BeforeAll
    static void makeModel() throws Exception {
        ObjectMapper json = new ObjectMapper();
        ObjectNode cfg = (ObjectNode) json.readTree("""
                {"model_type": "kimi_linear", "vocab_size": 300, "hidden_size": 32, "intermediate_size": 64,
                 "num_hidden_layers": 2, "num_attention_heads": 2, "num_key_value_heads": 2,
                 "kv_lora_rank": 8, "qk_nope_head_dim": 8, "qk_rope_head_dim": 4, "v_head_dim": 8,
                 "linear_num_heads": 2, "linear_head_dim": 8, "linear_conv_kernel_dim": 4,
                 "num_experts": 4, "num_experts_per_token": 2, "moe_intermediate_size": 16,
                 "num_shared_experts": 1, "routed_scaling_factor": 1.0, "moe_renormalize": true,
                 "layer_types": ["linear_attention", "full_attention"], "mlp_layer_types": ["dense", "sparse"],
                 "rms_norm_eps": 1e-5, "model_max_length": 2048, "bos_token_id": 1, "eos_token_id": 2,
                 "pad_token_id": 0}
                """);
        Path cfgFile = dir.resolve("in.json");
        json.writeValue(cfgFile.toFile(), cfg);
        model = dir.resolve("model");
        RandomCheckpoint.write(KimiLinearConfig.load(cfgFile), 3, model);
        new TokenizerBuilder(300).build(TokenizerBuilder.demoCorpus(), model);
    }

    record Run(int code, String out, String err) {
    }

    static Run run(Object command, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cli = new CommandLine(command);
        cli.setOut(new PrintWriter(out));
        cli.setErr(new PrintWriter(err));
        int code = cli.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void printsTheGreedyCompletion() {
        Run a = run(new GenerateCommand(), "--model", model.toString(), "--prompt", "The cat sat", "--max-tokens", "12");
        assertEquals(0, a.code(), a.err());
        assertTrue(a.err().contains("prompt tokens"), a.err());
        Run b = run(new GenerateCommand(), "--model", model.toString(), "--prompt", "The cat sat", "--max-tokens", "12");
        assertEquals(a.out(), b.out());
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(\\d+) prompt tokens, (\\d+) output tokens")
                .matcher(a.err());
        assertTrue(m.find(), a.err());
        assertEquals(KimiTokenizer.load(model).encode("The cat sat").length, Integer.parseInt(m.group(1)));
        assertTrue(Integer.parseInt(m.group(2)) <= 12);
        Run chat = run(new GenerateCommand(), "--model", model.toString(), "--prompt", "Hi", "--chat",
                "--temperature", "0.8", "--top-p", "0.9", "--top-k", "20", "--seed", "4", "-n", "2");
        assertEquals(0, chat.code(), chat.err());
        assertTrue(chat.out().contains("--- sample 1"), chat.out());
    }

    @Test
    void reportsBadInputOnOneLine() {
        Run badTemperature = run(new GenerateCommand(), "--model", model.toString(), "--prompt", "x",
                "--temperature", "-1");
        assertEquals(1, badTemperature.code());
        assertTrue(badTemperature.err().startsWith("generate: temperature"), badTemperature.err());
        Run noModel = run(new GenerateCommand(), "--model", dir.resolve("absent").toString(), "--prompt", "x");
        assertEquals(1, noModel.code());
        assertTrue(noModel.err().startsWith("generate: "), noModel.err());
        Run backend = run(new GenerateCommand(), "--model", model.toString(), "--prompt", "x", "--backend", "tpu");
        assertEquals(1, backend.code());
        assertTrue(backend.err().contains("expected cpu or cuda"), backend.err());
    }

    @Test
    void benchEngineAndBenchCpuPrintTheirRates() {
        assumeTrue(Files.isDirectory(FIXTURE), "fixture folder absent");
        Run engine = run(new BenchCommand(), "engine", "--model", FIXTURE.toString(), "--requests", "3",
                "--prompt-len", "8", "--max-tokens", "3");
        assertEquals(0, engine.code(), engine.err());
        for (String line : new String[]{"prefill:", "decode:", "latency ms", "first token", "memory:"}) {
            assertTrue(engine.out().contains(line), engine.out());
        }
        Run cpu = run(new BenchCommand(), "cpu", "--model", FIXTURE.toString(), "--prompt-len", "8",
                "--decode-tokens", "2", "--batch", "2");
        assertEquals(0, cpu.code(), cpu.err());
        assertTrue(cpu.out().contains("batch   2: prefill 2 x 8 tokens"), cpu.out());
    }

    /**
     * A burst whose requests one replica's cache cannot hold: plain replicas refuse each one and
     * say why, and the bench goes on to the relief, whose pooled cache serves them all.
     */
    @Test
    void benchReliefCountsWhatReplicasRefuseAndServesItPooled() {
        Run r = run(new BenchCommand(), "relief", "--model", model.toString(), "--cache-per-rank", "30000",
                "--requests", "3", "--prompt-len", "600", "--max-tokens", "2");
        assertEquals(0, r.code(), r.err());
        String[] lines = r.out().split("\n");
        String preempt = java.util.Arrays.stream(lines).filter(l -> l.startsWith("preempt")).findFirst().orElseThrow();
        String relief = java.util.Arrays.stream(lines).filter(l -> l.startsWith("relief")).findFirst().orElseThrow();
        String[] p = preempt.trim().split("\\s+");
        String[] q = relief.trim().split("\\s+");
        assertEquals("3", p[7], "failed, without pooling:\n" + r.out());
        assertTrue(r.out().contains("failed: 3 of 3 requests; the first: request p"), r.out());
        assertTrue(r.out().contains("may not pool their memory"), r.out());
        assertEquals("0", q[7], "failed, with relief:\n" + r.out());
        assertEquals("1", q[5], "reliefs:\n" + r.out());
    }
}
