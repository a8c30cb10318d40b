package dev.kimilinear.job.run;

import dev.kimilinear.checkpoint.Checkpoint;
import dev.kimilinear.checkpoint.DType;
import dev.kimilinear.job.config.ModelSpec;
import dev.kimilinear.model.WeightPrecision;

import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;

/** The run's numeric precision: the checkpoint's weight types (from its headers) and what the backend computes in. */
public final class Precision {

    private Precision() {
    }

    /**
     * E.g. "BF16 weights (300 tensors); fp8 linear weights (e4m3, one scale per output channel), bf16
     * activations (CUDA backend)": the stored types, then what the backend runs.
     */
    public static String of(Path modelDir, ModelSpec.Backend backend, WeightPrecision weights) {
        String linear = weights == WeightPrecision.FP8
                ? "fp8 linear weights (e4m3, one scale per output channel)" : "bf16 linear weights";
        String compute = switch (backend) {
            case CPU -> "float32 compute from the stored weights (CPU reference engine)";
            case CUDA -> linear + ", bf16 activations (CUDA backend)";
            case AUTO -> linear + " and bf16 activations where a task has a GPU, float32 on the CPU otherwise";
        };
        return weights(modelDir) + "; " + compute;
    }

    /** "BF16 weights (123 tensors)", or each type with its count when they are mixed. */
    static String weights(Path modelDir) {
        Map<String, Integer> counts = new TreeMap<>();
        try (Checkpoint c = Checkpoint.open(modelDir)) {
            for (String name : c.names()) {
                DType t = c.tensor(name).dtype();
                counts.merge(t.name(), 1, Integer::sum);
            }
        } catch (RuntimeException e) {
            return "weights of unknown type (" + e.getMessage() + ")";
        }
        StringBuilder s = new StringBuilder();
        counts.forEach((type, n) -> s.append(s.isEmpty() ? "" : ", ").append(type).append(" weights (").append(n)
                .append(" tensors)"));
        return s.toString();
    }
}
