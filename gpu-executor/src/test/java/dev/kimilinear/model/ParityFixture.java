package dev.kimilinear.model;

import dev.kimilinear.checkpoint.Checkpoint;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The tiny model's parity fixture: prompt ids, the reference implementation's prefill and greedy
 * decode logits, and the greedy tokens (reference.safetensors beside the model).
 */
public record ParityFixture(int[] inputIds, float[] prefill, float[] decode, int[] generated) {
    /** The fixture model's folder, seen from a module's directory. */
    public static final Path DIR = Path.of("../../shared/fixtures/kimi-linear-tiny");

    /** Reads the fixture; the calling test is skipped when the folder is absent. */
    public static ParityFixture load() {
        assumeTrue(Files.isDirectory(DIR), "fixture folder absent: " + DIR.toAbsolutePath());
        try (Checkpoint ref = Checkpoint.open(DIR.resolve("reference.safetensors"))) {
            return new ParityFixture(ref.tensor("input_ids").toInts(), ref.tensor("prefill_logits").toFloats(),
                    ref.tensor("decode_logits").toFloats(), ref.tensor("generated_ids").toInts());
        }
    }
}
