package dev.kimilinear.job.config;

import java.nio.file.Path;
import java.util.List;

/**
 * One benchmark of an eval job. Prompts come either from the benchmark's native files
 * ({@code input}, plus {@code validation} for MMLU-Pro's few-shot examples; RULER is generated)
 * or from prompt records written earlier ({@code prompts}).
 *
 * @param limit     at most this many prompts (0: all), the first in file order unless a seed draws them
 * @param seed      MMLU-Pro: draws the limited questions at random; GPQA: the choice order; RULER: the data
 * @param shots     MMLU-Pro: worked examples per prompt (5 officially, 0 for zero-shot)
 * @param chat      MMLU-Pro: one user message instead of a raw completion prompt
 * @param repeats   GPQA: passes over the questions with different choice orders
 * @param ruler     RULER generation settings; null for other benchmarks
 * @param sandbox   HumanEval: how its programs run when scored; null for other benchmarks
 */
public record BenchmarkSpec(String name, Path input, Path validation, Path prompts, int limit, Long seed, int shots,
                            boolean chat, int repeats, RulerSpec ruler, SamplingOverride sampling,
                            SandboxSpec sandbox) {

    public static final String MMLU_PRO = "mmlu-pro";
    public static final String GPQA = "gpqa";
    public static final String HUMANEVAL = "humaneval";
    public static final String RULER = "ruler";
    public static final List<String> NAMES = List.of(MMLU_PRO, GPQA, HUMANEVAL, RULER);

    /**
     * RULER: tasks at target lengths measured with the model's tokenizer, deterministic from a seed.
     * essay feeds the essay haystacks, squad (SQuAD v2 dev JSON) qa_1 and hotpotqa (HotpotQA dev,
     * distractor) qa_2; a task whose source is not set is not run: metrics rows mark it so with the
     * reason, and the run's errors hold it too. A source that is set but missing is an error.
     */
    public record RulerSpec(List<String> tasks, List<Integer> lengths, int samples, Path essay, Path squad,
                            Path hotpotqa) {
        public RulerSpec(List<String> tasks, List<Integer> lengths, int samples, Path essay) {
            this(tasks, lengths, samples, essay, null, null);
        }

        public RulerSpec {
            tasks = List.copyOf(tasks);
            lengths = List.copyOf(lengths);
        }
    }
}
