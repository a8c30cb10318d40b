package dev.kimilinear.cli;

import dev.kimilinear.cuda.ActivationPrecision;
import dev.kimilinear.engine.Backend;
import dev.kimilinear.engine.BackendKind;
import dev.kimilinear.engine.Backends;
import dev.kimilinear.model.WeightPrecision;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/** The options that name a model directory and where it runs, shared by the commands that load one. */
public final class ModelOptions {

    @Option(names = "--model", paramLabel = "DIR", required = true,
            description = "model directory: config.json and safetensors (and tiktoken.model, "
                    + "tokenizer_config.json for text)")
    Path model;

    @Option(names = "--backend", paramLabel = "cpu|cuda", defaultValue = "cpu",
            description = "where to run (default: ${DEFAULT-VALUE})")
    String backend;

    @Option(names = "--device", paramLabel = "INDEX", defaultValue = "0",
            description = "GPU index for cuda (default: ${DEFAULT-VALUE})")
    int device;

    @Option(names = "--weights", paramLabel = "bf16|fp8",
            description = "how cuda holds the linear layers' weights (default: what the checkpoint stores, "
                    + "fp8 for an FP8 checkpoint, else bf16); bf16 on an FP8 checkpoint widens its weights to bf16, "
                    + "fp8 on a bf16 one quantises them on the GPU; cpu computes in fp32 either way")
    String weights;

    BackendKind kind() {
        return BackendKind.parse(backend);
    }

    /** The weight precision asked for, or null for what the checkpoint stores. */
    WeightPrecision weights() {
        return weights == null ? null : WeightPrecision.parse(weights);
    }

    Backend open() {
        return open(ActivationPrecision.BF16);
    }

    Backend open(ActivationPrecision precision) {
        return open(precision, Backends.DEFAULT_MAX_BATCH_TOKENS);
    }

    /** A backend whose forwards carry up to maxBatchTokens tokens (the CUDA workspace is sized for them). */
    Backend open(ActivationPrecision precision, int maxBatchTokens) {
        return Backends.open(kind(), model, device, precision, maxBatchTokens, weights());
    }
}
