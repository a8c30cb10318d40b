package dev.kimilinear.job.generation;

import dev.kimilinear.cpu.CpuBackend;
import dev.kimilinear.cuda.ActivationPrecision;
import dev.kimilinear.engine.Backend;
import dev.kimilinear.engine.BackendKind;
import dev.kimilinear.engine.Backends;
import dev.kimilinear.engine.Engine;
import dev.kimilinear.engine.EngineConfig;
import dev.kimilinear.job.config.EngineSpec;
import dev.kimilinear.job.config.ModelSpec;
import dev.kimilinear.model.WeightPrecision;
import dev.kimilinear.tokenizer.KimiTokenizer;

import org.apache.spark.SparkContext;
import org.apache.spark.SparkContext$;
import org.apache.spark.TaskContext;
import org.apache.spark.resource.ResourceInformation;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The engines resident in this JVM (an executor, or the driver in local mode): created by the
 * first task that needs one, then fed by every later task, stage and job of the application.
 * Weights are read from the model directory on the executor; they never travel with tasks.
 */
public final class ResidentEngines {
    private static final Logger LOG = LoggerFactory.getLogger(ResidentEngines.class);
    private static final Map<EngineKey, Engine> ENGINES = new HashMap<>();
    private static final Map<String, KimiTokenizer> TOKENIZERS = new HashMap<>();
    private static final Map<EngineKey, String> DEVICES = new HashMap<>();
    private static int created;

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(ResidentEngines::closeAll, "close-resident-engines"));
    }

    private ResidentEngines() {
    }

    /**
     * The key for the current task: its GPU when it was given one and the backend allows CUDA.
     * Local mode offers tasks no resources, so there the driver's GPU (found by
     * spark.driver.resource.gpu.discoveryScript) is the one, its executor being the driver.
     */
    public static EngineKey keyForTask(String modelDir, ModelSpec.Backend backend, WeightPrecision weights,
                                       EngineSpec engine) {
        return keyForTask(modelDir, backend, weights, engine, 1, false);
    }

    /**
     * As above, one engine over {@code gpus} GPUs (pipeline stages): the first that many
     * addresses the task was given (spark.task.resource.gpu.amount must be at least gpus, so a
     * task holds all of its engine's GPUs), or in local mode the driver's.
     */
    public static EngineKey keyForTask(String modelDir, ModelSpec.Backend backend, WeightPrecision weights,
                                       EngineSpec engine, int gpus) {
        return keyForTask(modelDir, backend, weights, engine, gpus, false);
    }

    /** As above; {@code elastic}: the GPUs hold replicas that pool into a pipeline under memory pressure. */
    public static EngineKey keyForTask(String modelDir, ModelSpec.Backend backend, WeightPrecision weights,
                                       EngineSpec engine, int gpus, boolean elastic) {
        List<Integer> devices = List.of();
        TaskContext task = TaskContext.get();
        if (backend != ModelSpec.Backend.CPU && task != null) {
            devices = addresses(task.resources().get("gpu"));
            if (devices.isEmpty()) {
                devices = localDriverGpus();
            }
        }
        if (backend == ModelSpec.Backend.CUDA && devices.isEmpty()) {
            devices = java.util.stream.IntStream.range(0, gpus).boxed().toList();
        }
        if (!devices.isEmpty() && devices.size() < gpus) {
            throw new IllegalStateException("model.gpus_per_engine is " + gpus + " but this task was given GPU "
                    + devices + "; give each task all of its engine's GPUs (spark.task.resource.gpu.amount=" + gpus
                    + ", spark.executor.resource.gpu.amount a multiple of it)");
        }
        devices = devices.size() > gpus ? devices.subList(0, gpus) : devices;
        ModelSpec.Backend resolved = devices.isEmpty() ? ModelSpec.Backend.CPU : ModelSpec.Backend.CUDA;
        return new EngineKey(modelDir, resolved, devices, weights, engine,
                elastic && resolved == ModelSpec.Backend.CUDA && devices.size() > 1);
    }

    private static List<Integer> addresses(scala.Option<ResourceInformation> gpu) {
        if (gpu.isEmpty()) {
            return List.of();
        }
        List<Integer> out = new java.util.ArrayList<>();
        for (String raw : gpu.get().addresses()) {
            String address = raw.trim();
            try {
                out.add(Integer.parseInt(address));
            } catch (NumberFormatException e) {
                throw new IllegalStateException("the GPU address '" + address + "' Spark gave this task is not a CUDA "
                        + "device index; the discovery script must print indices (conf/spark/getGpusResources.sh)");
            }
        }
        return out;
    }

    /** The driver's GPUs when this JVM is a local-mode driver, else none. */
    private static List<Integer> localDriverGpus() {
        scala.Option<SparkContext> active = SparkContext$.MODULE$.getActive();
        if (active.isEmpty() || !active.get().isLocal()) {
            return List.of();
        }
        return addresses(active.get().resources().get("gpu"));
    }

    public static synchronized Engine get(EngineKey key) {
        Engine engine = ENGINES.get(key);
        if (engine == null) {
            Path dir = Path.of(key.modelDir());
            EngineSpec spec = key.engine();
            Backend backend = key.backend() == ModelSpec.Backend.CPU
                    ? CpuBackend.load(dir, spec.memoryBudgetBytes(), spec.pageSize(), spec.maxBatchTokens())
                    : key.elastic()
                    ? Backends.openElastic(dir, key.deviceArray(), ActivationPrecision.BF16, spec.maxBatchTokens(),
                            key.weights())
                    : Backends.open(BackendKind.CUDA, dir, key.deviceArray(), ActivationPrecision.BF16,
                            spec.maxBatchTokens(), key.weights());
            EngineConfig config = new EngineConfig(spec.maxBatchTokens(), spec.prefillChunk(), spec.maxSequences(),
                    spec.memoryBudgetBytes(), spec.maxModelLength());
            engine = new Engine(backend, tokenizer(key.modelDir()), config);
            ENGINES.put(key, engine);
            created++;
            // one line per engine in the executor's log: a JVM that loads a model twice shows it here
            LOG.info("resident engine created: model {}, backend {}, devices {}{}, {} weights (engine {} of pid {})",
                    key.modelDir(), key.backend(), key.devices(), key.elastic() ? " (elastic replicas)" : "",
                    key.weights().label(), created,
                    ProcessHandle.current().pid());
        }
        return engine;
    }

    /** What an engine of this key runs on, for the run's facts: "NVIDIA H100 ... (cuda:0 on host)" or "cpu (...)". */
    public static synchronized String describe(EngineKey key) {
        return DEVICES.computeIfAbsent(key, k -> {
            String host;
            try {
                host = java.net.InetAddress.getLocalHost().getHostName();
            } catch (java.io.IOException e) {
                host = "unknown host";
            }
            if (k.backend() == ModelSpec.Backend.CPU) {
                return "cpu (" + Runtime.getRuntime().availableProcessors() + " cores on " + host + ")";
            }
            String on = " on " + host + ")";
            return k.devices().stream()
                    .map(d -> dev.kimilinear.cuda.CudaDevice.open(d).name() + " (cuda:" + d + on)
                    .collect(java.util.stream.Collectors.joining(" + "));
        });
    }

    public static synchronized KimiTokenizer tokenizer(String modelDir) {
        return TOKENIZERS.computeIfAbsent(modelDir, dir -> KimiTokenizer.load(Path.of(dir)));
    }

    /** Engines this JVM has created so far (a resident engine is created once). */
    public static synchronized int created() {
        return created;
    }

    public static synchronized void closeAll() {
        for (Engine engine : ENGINES.values()) {
            engine.close();
        }
        ENGINES.clear();
        TOKENIZERS.clear();
    }
}
