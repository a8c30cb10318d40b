package dev.kimilinear.job.run;

import dev.kimilinear.model.WeightPrecision;

import java.util.Map;
import java.util.TreeMap;

/**
 * What a run's generations depend on: the model directory's content, the precision its linear
 * weights run in (the same bf16 checkpoint generates otherwise when quantised to fp8 on the
 * GPU), the prompt records, and the sampling settings; plus each input file's hash, for the record.
 */
public record RunFingerprints(String model, WeightPrecision weights, String prompts, String sampling,
                              Map<String, String> inputs) {
    public RunFingerprints {
        inputs = new TreeMap<>(inputs);
    }
}
