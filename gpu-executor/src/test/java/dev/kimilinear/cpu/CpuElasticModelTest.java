package dev.kimilinear.cpu;

import dev.kimilinear.checkpoint.Checkpoint;
import dev.kimilinear.engine.ElasticLayoutsCheck;
import dev.kimilinear.model.KimiLinearConfig;
import dev.kimilinear.model.ParityFixture;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The elastic model's layouts against one plain backend holding the same ids: replicas each
 * computing their own sequences, the pooled pipeline after a relief (every sequence's state
 * moved to the stages holding its layers), and replicas again after a restore that moves the
 * sequences to other ids, give the plain backend's logits at every step.
 */
class CpuElasticModelTest {
    private static final int PAGE = 4;

    @Test
    void replicatedPooledAndRestoredLayoutsComputeWhatOneBackendDoes() {
        assumeTrue(Files.isDirectory(ParityFixture.DIR), "fixture folder absent");
        KimiLinearConfig cfg = KimiLinearConfig.load(ParityFixture.DIR.resolve("config.json"));
        try (Checkpoint ckpt = Checkpoint.open(ParityFixture.DIR);
             CpuElasticModel elastic = CpuElasticModel.of(cfg, ckpt, 2, 1L << 30, PAGE, 256);
             CpuBackend plain = CpuBackend.load(ParityFixture.DIR, 1L << 24, PAGE, 256)) {
            ElasticLayoutsCheck.run(elastic, plain, 32, 8, new int[] {9, 6, 11, 5}, 1e-4);
        }
    }
}
