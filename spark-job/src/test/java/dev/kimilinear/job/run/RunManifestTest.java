package dev.kimilinear.job.run;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.kimilinear.model.WeightPrecision;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RunManifestTest {
    @TempDir
    Path dir;

    private RunDirectory runWithGenerations(RunFingerprints fingerprints) throws IOException {
        RunDirectory run = new RunDirectory(dir.resolve("run"));
        RunManifest.write(run, JsonNodeFactory.instance.objectNode(), fingerprints);
        Files.createDirectories(run.generations());
        Files.writeString(run.generations().resolve("part-0.parquet"), "rows");
        return run;
    }

    private static RunFingerprints fingerprints(WeightPrecision weights) {
        return new RunFingerprints("model-hash", weights, "prompts-hash", "sampling-hash", Map.of());
    }

    @Test
    void aRunResumesOnlyInTheWeightPrecisionItGeneratedIn() throws IOException {
        RunDirectory run = runWithGenerations(fingerprints(WeightPrecision.BF16));
        assertDoesNotThrow(() -> RunManifest.checkResumable(run, fingerprints(WeightPrecision.BF16)));
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> RunManifest.checkResumable(run, fingerprints(WeightPrecision.FP8)));
        assertTrue(e.getMessage().contains("weight precision (bf16 then, fp8 now)"), e.getMessage());
        assertTrue(Files.readString(run.config()).contains("weights: \"bf16\"")
                || Files.readString(run.config()).contains("weights: bf16"), Files.readString(run.config()));
    }

    @Test
    void runsRecordedBeforeThePrecisionWasFingerprintedRanBf16() throws IOException {
        RunDirectory run = runWithGenerations(fingerprints(WeightPrecision.BF16));
        String config = Files.readString(run.config());
        Files.writeString(run.config(), config.replaceAll("(?m)^\\s*weights: .*\\n", ""));
        assertDoesNotThrow(() -> RunManifest.checkResumable(run, fingerprints(WeightPrecision.BF16)));
        assertThrows(IllegalStateException.class, () -> RunManifest.checkResumable(run, fingerprints(WeightPrecision.FP8)));
    }
}
