package dev.kimilinear.cli;

import dev.kimilinear.checkpoint.Checkpoint;
import dev.kimilinear.cuda.CudaAvailability;
import dev.kimilinear.model.ParityFixture;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** {@code kimi logits --backend cuda} on the fixture against the reference's logits. */
@Tag("gpu")
class LogitsCommandCudaTest {
    static final Path FIXTURE = ParityFixture.DIR;

    private static double relError(float[] out, float[] ref) {
        double num = 0;
        double den = 0;
        for (int i = 0; i < ref.length; i++) {
            assertTrue(Float.isFinite(out[i]), "logit " + i + " is " + out[i]);
            num += (out[i] - ref[i]) * (double) (out[i] - ref[i]);
            den += ref[i] * (double) ref[i];
        }
        return Math.sqrt(num / den);
    }

    @Test
    void cudaBackendReproducesTheReference(@TempDir Path dir) {
        CudaAvailability a = CudaAvailability.check();
        assumeTrue(a.available(), a.reason());
        assumeTrue(Files.isDirectory(FIXTURE), "fixture folder absent");
        Path out = dir.resolve("cuda.safetensors");
        StringWriter err = new StringWriter();
        CommandLine cli = new CommandLine(new LogitsCommand());
        cli.setErr(new PrintWriter(err, true));
        cli.setOut(new PrintWriter(new StringWriter(), true));
        int code = cli.execute("--model", FIXTURE.toString(), "--backend", "cuda", "--input-ids",
                FIXTURE.resolve("reference.safetensors").toString(), "--decode-steps", "12", "--out", out.toString());
        assertEquals(0, code, err.toString());
        try (Checkpoint mine = Checkpoint.open(out); Checkpoint ref = Checkpoint.open(FIXTURE.resolve("reference.safetensors"))) {
            for (String name : new String[] {"prefill_logits", "decode_logits", "generated_ids", "input_ids"}) {
                assertArrayEquals(ref.tensor(name).shape(), mine.tensor(name).shape(), name);
            }
            assertArrayEquals(ref.tensor("generated_ids").toInts(), mine.tensor("generated_ids").toInts());
            double pe = relError(mine.tensor("prefill_logits").toFloats(), ref.tensor("prefill_logits").toFloats());
            double de = relError(mine.tensor("decode_logits").toFloats(), ref.tensor("decode_logits").toFloats());
            assertTrue(pe < 2e-2, "prefill logits relative error " + pe);
            assertTrue(de < 2e-2, "decode logits relative error " + de);
        }
    }
}
