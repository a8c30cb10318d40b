package dev.kimilinear.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kimilinear.engine.Prompt;
import dev.kimilinear.model.KimiLinearConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EngineBenchCommandTest {
    private static final Path DEMO = Path.of("..", "conf", "demo", "model-config.json");

    private static KimiLinearConfig withSpecials(int vocab, int bos, int eos, int pad) throws Exception {
        ObjectNode root = (ObjectNode) new ObjectMapper().readTree(DEMO.toFile());
        root.put("vocab_size", vocab).put("bos_token_id", bos).put("eos_token_id", eos).put("pad_token_id", pad);
        return KimiLinearConfig.parse(root, "test config");
    }

    private static void assertIdsWithin(List<Prompt> prompts, int from, int to) {
        for (Prompt prompt : prompts) {
            int[] p = ((Prompt.Tokens) prompt).ids();
            assertEquals(50, p.length);
            for (int id : p) {
                assertTrue(id >= from && id < to, "id " + id + " outside [" + from + ", " + to + ")");
            }
        }
    }

    @Test
    void promptsAvoidSpecialIdsAtTheEndOfTheVocabulary() throws Exception {
        // Kimi's layout: the specials close the vocabulary, the last id is pad
        List<Prompt> prompts = EngineBenchCommand.prompts(new Random(1), 8, 50, withSpecials(4096, 4080, 4081, 4095));
        assertIdsWithin(prompts, 0, 4080);
    }

    @Test
    void promptsAvoidSpecialIdsAtTheStartOfTheVocabulary() throws Exception {
        List<Prompt> prompts = EngineBenchCommand.prompts(new Random(1), 8, 50, withSpecials(4096, 1, 2, 0));
        assertIdsWithin(prompts, 3, 4096);
    }

    @Test
    void aVocabularyOfSpecialsOnlyIsRefusedByName() throws Exception {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> EngineBenchCommand.prompts(new Random(1), 1, 5, withSpecials(3, 0, 1, 2)));
        assertTrue(e.getMessage().contains("special ids"), e.getMessage());
    }

    @Test
    void promptFilesAreReadAsAGenerateJobReadsThem(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("prompts.jsonl");
        Files.writeString(file, "{\"id\": 1, \"text\": \"alpha\"}\n\n{\"prompt\": \"beta\", \"text\": \"\"}\n"
                + "{\"question\": \"gamma\"}\n");
        assertEquals(List.of(new Prompt.Text("alpha"), new Prompt.Text("beta"), new Prompt.Text("gamma")),
                PromptsFile.read(file));
        Files.writeString(file, "{\"text\": \"alpha\"}\n{\"messages\": []}\n");
        IllegalArgumentException none = assertThrows(IllegalArgumentException.class, () -> PromptsFile.read(file));
        assertTrue(none.getMessage().contains("line 2") && none.getMessage().contains("no prompt"), none.getMessage());
        Files.writeString(file, "{\"text\": \"alpha\"}\nnot json\n");
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class, () -> PromptsFile.read(file));
        assertTrue(bad.getMessage().contains("line 2") && bad.getMessage().contains("not a JSON object"),
                bad.getMessage());
    }

    /** A random model of a config runs with no checkpoint on disk; a model must be named exactly once. */
    @Test
    void benchesARandomModelOfAConfig() {
        java.io.StringWriter out = new java.io.StringWriter();
        java.io.StringWriter err = new java.io.StringWriter();
        picocli.CommandLine cli = new picocli.CommandLine(new EngineBenchCommand());
        cli.setOut(new java.io.PrintWriter(out, true));
        cli.setErr(new java.io.PrintWriter(err, true));
        int code = cli.execute("--random-config", DEMO.toString(), "--seed", "3", "--requests", "2", "--prompt-len", "8",
                "--max-tokens", "3");
        assertEquals(0, code, err.toString());
        assertTrue(out.toString().contains("(random, seed 3) on cpu"), out.toString());
        assertTrue(out.toString().contains("generate: 2 requests"), out.toString());
        picocli.CommandLine none = new picocli.CommandLine(new EngineBenchCommand());
        java.io.StringWriter noneErr = new java.io.StringWriter();
        none.setErr(new java.io.PrintWriter(noneErr, true));
        none.setOut(new java.io.PrintWriter(new java.io.StringWriter(), true));
        assertEquals(1, none.execute("--requests", "1"));
        assertTrue(noneErr.toString().contains("--model DIR or --random-config"), noneErr.toString());
    }

    /** Scenarios run in turn on the one loaded model, each only the passes it names. */
    @Test
    void scenariosRunInTurnOnOneModel() {
        java.io.StringWriter out = new java.io.StringWriter();
        java.io.StringWriter err = new java.io.StringWriter();
        picocli.CommandLine cli = new picocli.CommandLine(new EngineBenchCommand());
        cli.setOut(new java.io.PrintWriter(out, true));
        cli.setErr(new java.io.PrintWriter(err, true));
        int code = cli.execute("--random-config", DEMO.toString(), "--scenario", "prefill:12:2", "--scenario",
                "generate:8:3:4", "--scenario", "plan:100");
        assertEquals(0, code, err.toString());
        String text = out.toString();
        assertTrue(text.contains("== scenario prefill 2 x 12 tokens") && text.contains("prefill: 2 prompts x 12 tokens"),
                text);
        assertTrue(text.contains("== scenario generate 3 x 8 tokens + 4") && text.contains("generate: 3 requests x 8"),
                text);
        assertEquals(1, text.split("generate: ", -1).length - 1, "the prefill scenario generates nothing: " + text);
        assertEquals(1, text.split("\nprefill: ", -1).length - 1, "the generate scenario has no prefill pass: " + text);
        assertTrue(text.contains("== scenario plan for one sequence of 100 tokens")
                && text.contains("one sequence of 101 tokens: fits ("), text);

        picocli.CommandLine bad = new picocli.CommandLine(new EngineBenchCommand());
        java.io.StringWriter badErr = new java.io.StringWriter();
        bad.setErr(new java.io.PrintWriter(badErr, true));
        bad.setOut(new java.io.PrintWriter(new java.io.StringWriter(), true));
        assertEquals(1, bad.execute("--random-config", DEMO.toString(), "--scenario", "decode:8:x"));
        assertTrue(badErr.toString().contains("--scenario decode:8:x: expected prefill:L:N, generate:L:N:M or plan:L"),
                badErr.toString());
    }
}
