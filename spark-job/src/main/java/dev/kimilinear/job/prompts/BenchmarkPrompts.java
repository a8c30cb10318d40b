package dev.kimilinear.job.prompts;

import dev.kimilinear.data.gpqa.GpqaAdapter;
import dev.kimilinear.data.humaneval.HumanEvalAdapter;
import dev.kimilinear.data.mmlupro.MmluProAdapter;
import dev.kimilinear.data.record.AdapterResult;
import dev.kimilinear.data.record.ErrorRecord;
import dev.kimilinear.data.record.PromptReader;
import dev.kimilinear.data.record.PromptRecord;
import dev.kimilinear.data.ruler.RulerGenerator;
import dev.kimilinear.data.ruler.RulerTask;
import dev.kimilinear.data.ruler.TokenCounter;
import dev.kimilinear.eval.records.MetricRecord;
import dev.kimilinear.job.config.BenchmarkSpec;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/** Builds one benchmark's prompt records on the driver, from native files or earlier prompt records. */
public final class BenchmarkPrompts {
    private BenchmarkPrompts() {
    }

    /**
     * One benchmark's prompt records, the input rows rejected, and a metrics row (marked not run,
     * with the reason) per subset the benchmark was asked for but cannot run: a RULER task whose
     * input file is not set, at each length. The rows travel to the metrics, the report and the
     * console summary, so a skipped task is seen where its score would be.
     */
    public record Built(List<PromptRecord> records, List<ErrorRecord> errors, List<MetricRecord> notRun) {
        public Built {
            records = List.copyOf(records);
            errors = List.copyOf(errors);
            notRun = List.copyOf(notRun);
        }

        Built(AdapterResult result) {
            this(result.records(), result.errors(), List.of());
        }
    }

    /**
     * @param tokens the model's token counter, which sizes generated contexts (RULER)
     */
    public static Built build(BenchmarkSpec spec, TokenCounter tokens) {
        return build(spec, tokens, 0);
    }

    /**
     * @param maxModelLength the engine's longest sequence: MMLU-Pro drops worked examples while a
     *                       prompt is not shorter than it minus the 2048 new tokens (the official
     *                       rule); 0 keeps every example
     */
    public static Built build(BenchmarkSpec spec, TokenCounter tokens, int maxModelLength) {
        if (spec.prompts() != null) {
            List<PromptRecord> records = PromptReader.read(spec.prompts()).stream()
                    .filter(r -> r.benchmark().equals(spec.name()))
                    .toList();
            if (spec.limit() > 0 && records.size() > spec.limit()) {
                records = records.subList(0, spec.limit());
            }
            return new Built(records, List.of(), List.of());
        }
        Integer limit = spec.limit() > 0 ? spec.limit() : null;
        if (spec.name().equals(BenchmarkSpec.RULER)) {
            return ruler(spec, tokens);
        }
        return new Built(switch (spec.name()) {
            case BenchmarkSpec.MMLU_PRO -> MmluProAdapter.adapt(spec.input(), spec.validation(),
                    new MmluProAdapter.Options(spec.shots(), List.of(), limit, spec.seed(), spec.chat(),
                            maxModelLength > 0 ? MmluProAdapter.PromptBudget.forModel(tokens, maxModelLength) : null));
            case BenchmarkSpec.GPQA -> GpqaAdapter.adapt(spec.input(),
                    new GpqaAdapter.Options(spec.seed() == null ? 0 : spec.seed(), spec.repeats(), limit));
            case BenchmarkSpec.HUMANEVAL -> HumanEvalAdapter.adapt(spec.input(),
                    new HumanEvalAdapter.Options(spec.chat(), limit, spec.seed()));
            default -> throw new IllegalArgumentException("unknown benchmark " + spec.name());
        });
    }

    private static Built ruler(BenchmarkSpec spec, TokenCounter tokens) {
        BenchmarkSpec.RulerSpec r = spec.ruler();
        List<RulerTask> tasks = r.tasks().stream().map(RulerTask::parse).toList();
        RulerGenerator generator = new RulerGenerator(tokens, new RulerGenerator.Options(r.lengths(), r.samples(), tasks,
                spec.seed() == null ? 42 : spec.seed(), r.essay(), r.squad(), r.hotpotqa(),
                Math.max(1, Runtime.getRuntime().availableProcessors())));
        CollectingSink sink = new CollectingSink();
        try {
            generator.write(sink, line -> { });
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<ErrorRecord> skipped = new ArrayList<>();
        List<MetricRecord> notRun = new ArrayList<>();
        for (RulerGenerator.Skip skip : generator.skips()) {
            String reason = notRunReason(skip.missing());
            skipped.add(new ErrorRecord(BenchmarkSpec.RULER, 0, skip.task().taskName() + ": not run, " + reason));
            for (int length : r.lengths()) {
                notRun.add(MetricRecord.notRun(BenchmarkSpec.RULER, skip.task().taskName() + "@" + length,
                        skip.task().metric(), reason));
            }
        }
        List<PromptRecord> records = sink.records();
        if (spec.limit() > 0 && records.size() > spec.limit()) {
            records = records.subList(0, spec.limit());
        }
        return new Built(records, skipped, notRun);
    }

    /** Why a RULER task did not run, naming the config key that would supply its input. */
    static String notRunReason(RulerTask.Source missing) {
        return switch (missing) {
            case ESSAY -> "no essay file: benchmarks.ruler.essay is not set";
            case SQUAD -> "no SQuAD file: benchmarks.ruler.squad is not set";
            case HOTPOTQA -> "no HotpotQA file: benchmarks.ruler.hotpotqa is not set";
            case NONE -> throw new IllegalArgumentException("a task that needs no input file always runs");
        };
    }
}
