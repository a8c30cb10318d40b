package dev.kimilinear.engine;

import dev.kimilinear.checkpoint.Checkpoint;
import dev.kimilinear.cpu.CpuBackend;
import dev.kimilinear.cuda.ActivationPrecision;
import dev.kimilinear.cuda.CudaAvailability;
import dev.kimilinear.cuda.CudaContext;
import dev.kimilinear.cuda.CudaElasticModel;
import dev.kimilinear.cuda.CudaModel;
import dev.kimilinear.cuda.PipelineModel;
import dev.kimilinear.model.KimiLinearConfig;
import dev.kimilinear.model.ModelWeights;
import dev.kimilinear.model.RandomCheckpoint;
import dev.kimilinear.model.WeightPrecision;

import java.nio.file.Files;
import java.nio.file.Path;

/** Opens a model directory on the backend a user names. */
public final class Backends {
    private static final int PAGE_SIZE = 64;
    /**
     * Tokens one forward carries unless the caller names a size: prompt steps this large keep
     * the tensor cores busy (8k-token chunks run at the rate of 32k ones) while the workspace
     * stays a few GB.
     */
    public static final int DEFAULT_MAX_BATCH_TOKENS = 8192;
    private static final int MAX_SEQUENCES = 256;

    private Backends() {
    }

    /** Defaults fit for command-line tools: the whole budget the backend finds, 64-token pages. */
    public static Backend open(BackendKind kind, Path modelDir, int device) {
        return open(kind, modelDir, device, ActivationPrecision.BF16);
    }

    /** As above; precision applies to the CUDA backend (the CPU one is fp32 throughout). */
    public static Backend open(BackendKind kind, Path modelDir, int device, ActivationPrecision precision) {
        return open(kind, modelDir, device, precision, DEFAULT_MAX_BATCH_TOKENS);
    }

    /**
     * As above, the CUDA backend's workspace sized for forwards of up to maxBatchTokens tokens
     * (the CPU backend takes any size), the weights in the precision the checkpoint stores.
     */
    public static Backend open(BackendKind kind, Path modelDir, int device, ActivationPrecision precision,
                               int maxBatchTokens) {
        return open(kind, modelDir, device, precision, maxBatchTokens, null);
    }

    /**
     * As above, the CUDA backend holding the linear layers' weights in {@code weights}: null for
     * what the checkpoint stores ({@link WeightPrecision#stored}), bf16 on an FP8 checkpoint for
     * its dequantised values widened. The CPU backend computes in fp32 from whatever the
     * checkpoint holds (FP8 weights dequantised).
     */
    public static Backend open(BackendKind kind, Path modelDir, int device, ActivationPrecision precision,
                               int maxBatchTokens, WeightPrecision weights) {
        return open(kind, modelDir, new int[] {device}, precision, maxBatchTokens, weights);
    }

    /**
     * As above, the CUDA backend on {@code devices}: one device holds the whole model; several
     * hold it as pipeline stages ({@link PipelineModel}), stage s on devices[s], repeats allowed.
     */
    public static Backend open(BackendKind kind, Path modelDir, int[] devices, ActivationPrecision precision,
                               int maxBatchTokens, WeightPrecision weights) {
        checkDevices(kind, devices);
        if (maxBatchTokens < 1) {
            throw new IllegalArgumentException("max batch tokens must be at least 1, got " + maxBatchTokens);
        }
        if (!Files.isDirectory(modelDir)) {
            throw new IllegalArgumentException(modelDir + ": model directory not found");
        }
        if (!Files.isRegularFile(modelDir.resolve("config.json"))) {
            throw new IllegalArgumentException(modelDir + ": no config.json in the model directory");
        }
        WeightPrecision held = weights != null ? weights : WeightPrecision.stored(modelDir);
        return switch (kind) {
            case CPU -> CpuBackend.load(modelDir);
            case CUDA -> devices.length == 1
                    ? CudaModel.load(modelDir, devices[0], PAGE_SIZE, maxBatchTokens, MAX_SEQUENCES, precision, held)
                    : PipelineModel.load(modelDir, devices, PAGE_SIZE, maxBatchTokens, MAX_SEQUENCES, precision, held);
        };
    }

    /**
     * The model on CUDA {@code devices} as data-parallel replicas that pool into one pipeline
     * when the cache runs short ({@link CudaElasticModel}, KunServe): for a model one GPU holds,
     * served by several. Each replica's cache takes what its GPU has free.
     */
    public static Backend openElastic(Path modelDir, int[] devices, ActivationPrecision precision, int maxBatchTokens,
                                      WeightPrecision weights) {
        checkDevices(BackendKind.CUDA, devices);
        if (devices.length < 2) {
            throw new IllegalArgumentException("devices: elastic replicas need 2 GPUs or more, got " + devices.length);
        }
        if (!Files.isRegularFile(modelDir.resolve("config.json"))) {
            throw new IllegalArgumentException(modelDir + ": no config.json in the model directory");
        }
        CudaAvailability.require();
        return elastic(Checkpoint.open(modelDir), KimiLinearConfig.load(modelDir.resolve("config.json")), devices,
                precision, maxBatchTokens, weights != null ? weights : WeightPrecision.stored(modelDir));
    }

    /** As {@link #openElastic}, over a seeded random model of {@code config} ({@link #openRandom}); bf16 when weights is null. */
    public static Backend openRandomElastic(Path config, long seed, int[] devices, ActivationPrecision precision,
                                            int maxBatchTokens, WeightPrecision weights) {
        checkDevices(BackendKind.CUDA, devices);
        CudaAvailability.require();
        KimiLinearConfig cfg = KimiLinearConfig.load(config);
        return elastic(RandomCheckpoint.open(cfg, seed), cfg, devices, precision, maxBatchTokens,
                weights == null ? WeightPrecision.BF16 : weights);
    }

    /** The elastic model owns ckpt (its layouts load from it), or closes it when it cannot be made. */
    private static Backend elastic(Checkpoint ckpt, KimiLinearConfig cfg, int[] devices, ActivationPrecision precision,
                                   int maxBatchTokens, WeightPrecision held) {
        try {
            return CudaElasticModel.open(ckpt, cfg, devices, 0, PAGE_SIZE, maxBatchTokens, MAX_SEQUENCES, precision,
                    held);
        } catch (RuntimeException e) {
            ckpt.close();
            throw e;
        }
    }

    private static void checkDevices(BackendKind kind, int[] devices) {
        if (devices.length == 0) {
            throw new IllegalArgumentException("devices: none given; name at least one GPU index");
        }
        if (devices.length > 1 && kind != BackendKind.CUDA) {
            throw new IllegalArgumentException("devices: " + devices.length + " GPUs given; only the cuda backend"
                    + " runs a model across several");
        }
        for (int d : devices) {
            if (d < 0) {
                throw new IllegalArgumentException("devices: GPU index " + d + " is negative");
            }
        }
    }

    /**
     * A seeded random model of {@code config} with no checkpoint anywhere: its weights are made
     * as they load ({@link RandomCheckpoint#open}, the bytes {@code bin/kimi model init} would
     * write), so models larger than any disk here can be measured. {@code weights} null is bf16.
     */
    public static Backend openRandom(BackendKind kind, Path config, long seed, int device, ActivationPrecision precision,
                                     int maxBatchTokens, WeightPrecision weights) {
        return openRandom(kind, config, seed, new int[] {device}, precision, maxBatchTokens, weights);
    }

    /** As above, on one device or as pipeline stages over several (see {@link #open(BackendKind, Path, int[],
     * ActivationPrecision, int, WeightPrecision)}). */
    public static Backend openRandom(BackendKind kind, Path config, long seed, int[] devices,
                                     ActivationPrecision precision, int maxBatchTokens, WeightPrecision weights) {
        checkDevices(kind, devices);
        if (maxBatchTokens < 1) {
            throw new IllegalArgumentException("max batch tokens must be at least 1, got " + maxBatchTokens);
        }
        KimiLinearConfig cfg = KimiLinearConfig.load(config);
        if (kind == BackendKind.CUDA) {
            CudaAvailability.require();
        }
        try (Checkpoint ckpt = RandomCheckpoint.open(cfg, seed)) {
            WeightPrecision held = weights == null ? WeightPrecision.BF16 : weights;
            return switch (kind) {
                case CPU -> CpuBackend.of(cfg, ckpt, 0, PAGE_SIZE, maxBatchTokens);
                case CUDA -> devices.length == 1
                        ? new CudaModel(CudaContext.forDevice(devices[0]), ModelWeights.bind(cfg, ckpt), PAGE_SIZE,
                                maxBatchTokens, MAX_SEQUENCES, precision, true, held)
                        : new PipelineModel(ModelWeights.bind(cfg, ckpt), devices, PAGE_SIZE, maxBatchTokens,
                                MAX_SEQUENCES, precision, true, held);
            };
        }
    }
}
