package dev.kimilinear.cli;

import dev.kimilinear.cuda.ActivationPrecision;
import dev.kimilinear.engine.Backend;
import dev.kimilinear.engine.BackendKind;
import dev.kimilinear.engine.Backends;
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

    BackendKind kind() {
        return BackendKind.parse(backend);
    }

    Backend open() {
        return Backends.open(kind(), model, device);
    }

    Backend open(ActivationPrecision precision) {
        return Backends.open(kind(), model, device, precision);
    }

    /** A backend whose forwards carry up to maxBatchTokens tokens (the CUDA workspace is sized for them). */
    Backend open(ActivationPrecision precision, int maxBatchTokens) {
        return Backends.open(kind(), model, device, precision, maxBatchTokens);
    }
}
