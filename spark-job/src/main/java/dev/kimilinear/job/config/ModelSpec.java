package dev.kimilinear.job.config;

import dev.kimilinear.model.WeightPrecision;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The model every executor loads: a checkpoint directory that all executors can read, and the
 * backend that runs it. {@code prepare}, when set, builds the directory with the project's own
 * tools when it does not exist yet (the demo model).
 *
 * @param precision how the CUDA backend holds the linear layers' weights; null for what the
 *                  checkpoint stores (fp8 for an FP8 checkpoint, else bf16)
 * @param elastic   with several GPUs per engine: each holds a whole replica and the replicas
 *                  pool into one pipeline when the cache runs short ({@code multi_gpu: elastic},
 *                  a model that fits one GPU), instead of one pipeline throughout
 */
public record ModelSpec(Path dir, Backend backend, WeightPrecision precision, int gpusPerEngine, boolean elastic,
                        PrepareSpec prepare) {

    /**
     * The weight precision the run uses: the one configured, else the checkpoint's (bf16 while
     * the directory is still to be prepared: the prepared model is bf16).
     */
    public WeightPrecision weights() {
        if (precision != null) {
            return precision;
        }
        return Files.isRegularFile(dir.resolve("config.json")) ? WeightPrecision.stored(dir) : WeightPrecision.BF16;
    }

    public enum Backend {
        /** The float32 reference engine. */
        CPU,
        /** The CUDA backend on the GPU the task was given. */
        CUDA,
        /** CUDA when the task has a GPU, CPU otherwise. */
        AUTO
    }

    /** A random-weight model from a config and a tokenizer learnt from a corpus. */
    public record PrepareSpec(Path config, long seed, int vocabSize, Path corpus) {
    }
}
