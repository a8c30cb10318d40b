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
     * @param tokens the model's token counter, which sizes generated contexts (RULER)
     */
    public static AdapterResult build(BenchmarkSpec spec, TokenCounter tokens) {
        return build(spec, tokens, 0);
    }

    /**
     * @param maxModelLength the engine's longest sequence: MMLU-Pro drops worked examples while a
     *                       prompt is not shorter than it minus the 2048 new tokens (the official
     *                       rule); 0 keeps every example
     */
    public static AdapterResult build(BenchmarkSpec spec, TokenCounter tokens, int maxModelLength) {
        if (spec.prompts() != null) {
            List<PromptRecord> records = PromptReader.read(spec.prompts()).stream()
                    .filter(r -> r.benchmark().equals(spec.name()))
                    .toList();
            if (spec.limit() > 0 && records.size() > spec.limit()) {
                records = records.subList(0, spec.limit());
            }
            return new AdapterResult(records, List.of());
        }
        Integer limit = spec.limit() > 0 ? spec.limit() : null;
        return switch (spec.name()) {
            case BenchmarkSpec.MMLU_PRO -> MmluProAdapter.adapt(spec.input(), spec.validation(),
                    new MmluProAdapter.Options(spec.shots(), List.of(), limit, spec.seed(), spec.chat(),
                            maxModelLength > 0 ? MmluProAdapter.PromptBudget.forModel(tokens, maxModelLength) : null));
            case BenchmarkSpec.GPQA -> GpqaAdapter.adapt(spec.input(),
                    new GpqaAdapter.Options(spec.seed() == null ? 0 : spec.seed(), spec.repeats(), limit));
            case BenchmarkSpec.HUMANEVAL -> HumanEvalAdapter.adapt(spec.input(),
                    new HumanEvalAdapter.Options(spec.chat(), limit, spec.seed()));
            case BenchmarkSpec.RULER -> ruler(spec, tokens);
            default -> throw new IllegalArgumentException("unknown benchmark " + spec.name());
        };
    }

    private static AdapterResult ruler(BenchmarkSpec spec, TokenCounter tokens) {
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
        for (String why : generator.skipped()) {
            skipped.add(new ErrorRecord("ruler", 0, why));
        }
        List<PromptRecord> records = sink.records();
        if (spec.limit() > 0 && records.size() > spec.limit()) {
            records = records.subList(0, spec.limit());
        }
        return new AdapterResult(records, skipped);
    }
}
