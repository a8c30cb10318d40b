package dev.kimilinear.job.generation;

import dev.kimilinear.job.config.EngineSpec;
import dev.kimilinear.job.config.ModelSpec;
import dev.kimilinear.model.WeightPrecision;

import java.io.Serializable;

/**
 * Which resident engine a task feeds: one per model directory, backend, device and weight
 * precision in an executor JVM. {@code device} is -1 for the CPU backend (which computes in fp32
 * from what the checkpoint stores, whatever {@code weights} says).
 */
public record EngineKey(String modelDir, ModelSpec.Backend backend, int device, WeightPrecision weights,
                        EngineSpec engine)
        implements Serializable {
}
