package dev.kimilinear.job.generation;

import dev.kimilinear.job.config.EngineSpec;
import dev.kimilinear.job.config.ModelSpec;
import dev.kimilinear.model.WeightPrecision;

import java.io.Serializable;
import java.util.List;

/**
 * Which resident engine a task feeds: one per model directory, backend, devices and weight
 * precision in an executor JVM. {@code devices} are the CUDA devices of one engine (several:
 * pipeline stages), none for the CPU backend (which computes in fp32 from what the checkpoint
 * stores, whatever {@code weights} says). {@code elastic}: the devices hold replicas that pool
 * into a pipeline under memory pressure, not one pipeline.
 */
public record EngineKey(String modelDir, ModelSpec.Backend backend, List<Integer> devices, WeightPrecision weights,
                        EngineSpec engine, boolean elastic)
        implements Serializable {

    public EngineKey {
        devices = List.copyOf(devices);
    }

    /** One model over its devices (one GPU, or pipeline stages). */
    public EngineKey(String modelDir, ModelSpec.Backend backend, List<Integer> devices, WeightPrecision weights,
                     EngineSpec engine) {
        this(modelDir, backend, devices, weights, engine, false);
    }

    /** The devices as Backends.open takes them. */
    public int[] deviceArray() {
        return devices.stream().mapToInt(Integer::intValue).toArray();
    }
}
