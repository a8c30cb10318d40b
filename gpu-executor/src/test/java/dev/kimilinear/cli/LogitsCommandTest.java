package dev.kimilinear.cli;

import dev.kimilinear.checkpoint.Checkpoint;
import dev.kimilinear.model.ParityFixture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class LogitsCommandTest {
    static final Path FIXTURE = ParityFixture.DIR;

    private static int run(StringWriter err, String... args) {
        CommandLine cli = new CommandLine(new LogitsCommand());
        cli.setErr(new PrintWriter(err, true));
        cli.setOut(new PrintWriter(new StringWriter(), true));
        return cli.execute(args);
    }

    @Test
    void writesTheFixtureSchemaAndReproducesTheReference(@TempDir Path dir) {
        assumeTrue(Files.isDirectory(FIXTURE), "fixture folder absent");
        Path out = dir.resolve("out.safetensors");
        StringWriter err = new StringWriter();
        int code = run(err, "--model", FIXTURE.toString(), "--input-ids",
                FIXTURE.resolve("reference.safetensors").toString(), "--decode-steps", "12", "--out", out.toString());
        assertEquals(0, code, err.toString());
        try (Checkpoint mine = Checkpoint.open(out); Checkpoint ref = Checkpoint.open(FIXTURE.resolve("reference.safetensors"))) {
            for (String name : new String[]{"prefill_logits", "decode_logits", "generated_ids", "input_ids"}) {
                assertArrayEquals(ref.tensor(name).shape(), mine.tensor(name).shape(), name);
                assertEquals(ref.tensor(name).dtype(), mine.tensor(name).dtype(), name);
            }
            assertArrayEquals(ref.tensor("generated_ids").toInts(), mine.tensor("generated_ids").toInts());
            float[] a = mine.tensor("decode_logits").toFloats();
            float[] b = ref.tensor("decode_logits").toFloats();
            for (int i = 0; i < a.length; i++) {
                assertTrue(Math.abs(a[i] - b[i]) < 1e-4, "decode logit " + i);
            }
        }
    }

    @Test
    void acceptsAJsonArrayOfIds(@TempDir Path dir) throws Exception {
        assumeTrue(Files.isDirectory(FIXTURE), "fixture folder absent");
        Path ids = dir.resolve("ids.json");
        Files.writeString(ids, "[5, 17, 400, 3]");
        Path out = dir.resolve("o.safetensors");
        StringWriter err = new StringWriter();
        assertEquals(0, run(err, "--model", FIXTURE.toString(), "--input-ids", ids.toString(), "--out", out.toString()),
                err.toString());
        try (Checkpoint c = Checkpoint.open(out)) {
            assertArrayEquals(new long[]{4, 512}, c.tensor("prefill_logits").shape());
            assertTrue(!c.contains("decode_logits"));
        }
    }

    @Test
    void badInputsAreOneClearLine(@TempDir Path dir) throws Exception {
        assumeTrue(Files.isDirectory(FIXTURE), "fixture folder absent");
        Path ids = dir.resolve("ids.json");
        Files.writeString(ids, "[1, \"two\"]");
        StringWriter err = new StringWriter();
        assertEquals(1, run(err, "--model", FIXTURE.toString(), "--input-ids", ids.toString(),
                "--out", dir.resolve("o.safetensors").toString()));
        assertTrue(err.toString().contains("element 1"), err.toString());

        Files.writeString(ids, "[1, 99999]");
        err = new StringWriter();
        assertEquals(1, run(err, "--model", FIXTURE.toString(), "--input-ids", ids.toString(),
                "--out", dir.resolve("o.safetensors").toString()));
        assertTrue(err.toString().contains("99999") && err.toString().contains("vocabulary"), err.toString());

        err = new StringWriter();
        assertEquals(1, run(err, "--model", dir.resolve("nope").toString(), "--input-ids", ids.toString(),
                "--out", dir.resolve("o.safetensors").toString()));
        assertTrue(err.toString().contains("model directory not found"), err.toString());
        assertTrue(Arrays.stream(dir.toFile().list()).noneMatch(n -> n.startsWith("o.safetensors")),
                "no partial output on failure");
    }
}
