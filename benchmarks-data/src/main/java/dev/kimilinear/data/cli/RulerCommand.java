package dev.kimilinear.data.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

import dev.kimilinear.data.input.InputException;
import dev.kimilinear.data.record.OutputFormat;
import dev.kimilinear.data.record.PromptOutput;
import dev.kimilinear.data.record.PromptSink;
import dev.kimilinear.data.ruler.RulerGenerator;
import dev.kimilinear.data.ruler.RulerTask;
import dev.kimilinear.data.ruler.TokenCounter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code data ruler}. */
@Command(name = "ruler", mixinStandardHelpOptions = true,
        description = "Generate RULER prompts, each sized to its length with the model's tokenizer.")
final class RulerCommand implements Callable<Integer> {
    @ParentCommand
    DataCommand parent;

    @Spec
    CommandSpec spec;

    @Option(names = "--tokenizer", required = true, paramLabel = "MODEL_DIR",
            description = "Model directory whose tokenizer measures the lengths.")
    Path tokenizer;

    @Option(names = "--lengths", required = true, paramLabel = "LIST", split = ",",
            description = "Total lengths in tokens (input + tokens to generate), e.g. 4096,8192 or 4k,128k,1M.")
    List<String> lengths;

    @Option(names = "--samples", paramLabel = "N", defaultValue = "500", description = "Samples per task and length (500).")
    int samples;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Output directory.")
    Path out;

    @Option(names = "--tasks", paramLabel = "LIST", split = ",", description = "Tasks to generate (default: all 13).")
    List<String> tasks = new ArrayList<>();

    @Option(names = "--essay", paramLabel = "FILE",
            description = "Essays for the essay haystacks: RULER's PaulGrahamEssays.json (its text field) or plain text.")
    Path essay;

    @Option(names = "--squad", paramLabel = "FILE", description = "SQuAD v2 dev JSON for qa_1.")
    Path squad;

    @Option(names = "--hotpotqa", paramLabel = "FILE", description = "HotpotQA dev (distractor) JSON for qa_2.")
    Path hotpotqa;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "42", description = "Seed; the same seed gives the same prompts.")
    long seed;

    @Option(names = "--format", paramLabel = "FORMAT", defaultValue = "parquet",
            converter = CommonOptions.FormatConverter.class, description = "parquet (default) or jsonl.")
    OutputFormat format;

    @Option(names = "--threads", paramLabel = "N", description = "Samples generated at once (default: the CPU count).")
    Integer threads;

    @Override
    public Integer call() {
        PrintWriter err = spec.commandLine().getErr();
        try {
            List<RulerTask> selected = new ArrayList<>();
            if (tasks.isEmpty()) {
                selected.addAll(List.of(RulerTask.values()));
            } else {
                tasks.forEach(name -> selected.add(RulerTask.parse(name)));
            }
            List<Integer> parsedLengths = lengths.stream().map(RulerCommand::length).toList();
            int workers = threads != null ? threads : Runtime.getRuntime().availableProcessors();
            TokenCounter counter = parent.tokenCounters().apply(tokenizer);
            RulerGenerator generator = new RulerGenerator(counter, new RulerGenerator.Options(parsedLengths, samples,
                    selected, seed, essay, squad, hotpotqa, workers));
            generator.skipped().forEach(err::println);
            err.flush();
            Path prompts;
            long written;
            try (PromptSink sink = PromptOutput.open(out, format)) {
                written = generator.write(sink, line -> { }).written();
                prompts = sink.commit();
            }
            PromptOutput.writeErrors(out, List.of());
            String line = "ruler: wrote " + written + " prompt records to " + prompts + "; 0 errors";
            if (!generator.skipped().isEmpty()) {
                line += "; " + generator.skipped().size() + " tasks skipped for want of input files";
            }
            spec.commandLine().getOut().println(line);
            spec.commandLine().getOut().flush();
            return 0;
        } catch (InputException | IllegalArgumentException e) {
            err.println("data ruler: " + e.getMessage());
        } catch (IOException e) {
            err.println("data ruler: cannot write to " + out + ": " + e.getMessage());
        }
        err.flush();
        return 1;
    }

    /** A length in tokens: a number, or with k (x1024) or M (x1048576). */
    static int length(String text) {
        String value = text.trim().toLowerCase(Locale.ROOT);
        long multiplier = 1;
        if (value.endsWith("k")) {
            multiplier = 1024;
            value = value.substring(0, value.length() - 1);
        } else if (value.endsWith("m")) {
            multiplier = 1024 * 1024;
            value = value.substring(0, value.length() - 1);
        }
        try {
            long length = Long.parseLong(value) * multiplier;
            if (length > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("length " + text + " is too large");
            }
            return (int) length;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--lengths: '" + text + "' is not a length (e.g. 4096, 4k, 1M)");
        }
    }
}
