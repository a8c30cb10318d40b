package dev.kimilinear.job.generation;

import java.util.List;

/**
 * What one invocation's generation stage did: prompts already committed by an earlier invocation
 * (resumed), prompts and samples generated now, their tokens, the stage's wall time and the
 * devices that generated.
 */
public record GenerationTotals(long resumedPrompts, long prompts, long samples, long promptTokens, long outputTokens,
                               double seconds, List<String> devices) {

    public static GenerationTotals nothing(long resumedPrompts) {
        return new GenerationTotals(resumedPrompts, 0, 0, 0, 0, 0, List.of());
    }
}
