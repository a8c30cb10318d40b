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

    @Option(names = "--model", paramLabel = "DIR",
            description = "model directory: config.json and safetensors (and tiktoken.model, "
                    + "tokenizer_config.json for text)")
    Path model;

    @Option(names = "--random-config", paramLabel = "CONFIG.json",
            description = "instead of --model: a random model of this config, its weights made as they load "
                    + "(the bytes model init would write for the command's --seed), no checkpoint on disk; "
                    + "token prompts only")
    Path randomConfig;

    /** The random model's seed: the command's own --seed, where it has one. */
    long seed;

    @Option(names = "--backend", paramLabel = "cpu|cuda", defaultValue = "cpu",
            description = "where to run (default: ${DEFAULT-VALUE})")
    String backend;

    @Option(names = "--device", paramLabel = "INDEX",
            description = "GPU index for cuda (default: 0)")
    Integer device;

    @Option(names = "--devices", paramLabel = "I,J,...",
            description = "instead of --device: GPU indices for cuda, one pipeline stage of the model's layers on"
                    + " each, in order (an index may repeat)")
    String devices;

    @Option(names = "--multi-gpu", paramLabel = "pipeline|elastic", defaultValue = "pipeline",
            description = "with --devices: one pipeline over the GPUs (a model larger than one), or elastic: a"
                    + " replica on each that pool into a pipeline when the cache runs short (default: ${DEFAULT-VALUE})")
    String multiGpu;

    @Option(names = "--weights", paramLabel = "bf16|fp8",
            description = "how cuda holds the linear layers' weights (default: what the checkpoint stores, "
                    + "fp8 for an FP8 checkpoint, else bf16); bf16 on an FP8 checkpoint widens its weights to bf16, "
                    + "fp8 on a bf16 one quantises them on the GPU; cpu computes in fp32 either way")
    String weights;

    BackendKind kind() {
        return BackendKind.parse(backend);
    }

    /** The GPUs named by --device or --devices: one index, or one per pipeline stage. */
    int[] devices() {
        if (device != null && devices != null) {
            throw new IllegalArgumentException("--device and --devices: name the GPUs with one of them, not both");
        }
        if (devices != null) {
            return parseDevices(devices);
        }
        int d = device == null ? 0 : device;
        if (d < 0) {
            throw new IllegalArgumentException("--device: expected a GPU index of 0 or more, got " + d);
        }
        return new int[] {d};
    }

    /** "0,1": comma-separated GPU indices, each 0 or more. */
    static int[] parseDevices(String text) {
        String[] parts = text.split(",", -1);
        int[] out = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            String p = parts[i].trim();
            try {
                out[i] = Integer.parseInt(p);
            } catch (NumberFormatException e) {
                out[i] = -1;
            }
            if (out[i] < 0 || p.isEmpty()) {
                throw new IllegalArgumentException("--devices: expected comma-separated GPU indices of 0 or more"
                        + " (like 0,1), got '" + text + "'");
            }
        }
        return out;
    }

    /** The weight precision asked for, or null for what the checkpoint stores. */
    WeightPrecision weights() {
        return weights == null ? null : WeightPrecision.parse(weights);
    }

    /** The precision the CUDA backend holds the linear weights in: --weights, else the checkpoint's (bf16 for a random model). */
    WeightPrecision heldWeights() {
        WeightPrecision asked = weights();
        if (asked != null) {
            return asked;
        }
        return model == null ? WeightPrecision.BF16 : WeightPrecision.stored(model);
    }

    Backend open() {
        return open(ActivationPrecision.BF16);
    }

    Backend open(ActivationPrecision precision) {
        return open(precision, Backends.DEFAULT_MAX_BATCH_TOKENS);
    }

    /** A backend whose forwards carry up to maxBatchTokens tokens (the CUDA workspace is sized for them). */
    Backend open(ActivationPrecision precision, int maxBatchTokens) {
        if ((model == null) == (randomConfig == null)) {
            throw new IllegalArgumentException("name a model: --model DIR or --random-config CONFIG.json (one of them)");
        }
        boolean elastic = switch (multiGpu == null ? "pipeline" : multiGpu) {
            case "pipeline" -> false;
            case "elastic" -> true;
            default -> throw new IllegalArgumentException("--multi-gpu: pipeline or elastic, not " + multiGpu);
        };
        if (elastic && (kind() != BackendKind.CUDA || devices == null)) {
            throw new IllegalArgumentException("--multi-gpu elastic: replicas on GPUs need --backend cuda and"
                    + " --devices I,J,...");
        }
        if (randomConfig != null) {
            return elastic
                    ? Backends.openRandomElastic(randomConfig, seed, devices(), precision, maxBatchTokens, weights())
                    : Backends.openRandom(kind(), randomConfig, seed, devices(), precision, maxBatchTokens, weights());
        }
        return elastic ? Backends.openElastic(model, devices(), precision, maxBatchTokens, weights())
                : Backends.open(kind(), model, devices(), precision, maxBatchTokens, weights());
    }

    /** The model directory, for what only a directory has (its tokenizer); an error naming {@code what} otherwise. */
    Path directory(String what) {
        if (model == null) {
            throw new IllegalArgumentException(what + " needs --model DIR (a random model has no tokenizer)");
        }
        return model;
    }

    /** What the model is, for messages: its directory, or the random model's config and seed. */
    String describe() {
        return model != null ? model.toString() : randomConfig + " (random, seed " + seed + ")";
    }
}
