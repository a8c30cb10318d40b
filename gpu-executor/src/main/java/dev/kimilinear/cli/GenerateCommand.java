package dev.kimilinear.cli;

import dev.kimilinear.engine.Backend;
import dev.kimilinear.engine.BackendKind;
import dev.kimilinear.engine.Engine;
import dev.kimilinear.engine.EngineConfig;
import dev.kimilinear.engine.FinishReason;
import dev.kimilinear.engine.GenerationRequest;
import dev.kimilinear.engine.GenerationResult;
import dev.kimilinear.engine.Prompt;
import dev.kimilinear.engine.SamplingParams;
import dev.kimilinear.tokenizer.ChatMessage;
import dev.kimilinear.tokenizer.KimiTokenizer;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code generate}: continues one prompt with the batch engine and prints the completion. */
@Command(name = "generate", mixinStandardHelpOptions = true,
        description = "Continue a prompt (raw text, or a user message with --chat) and print the completion.")
public final class GenerateCommand implements Callable<Integer> {

    @picocli.CommandLine.Mixin
    ModelOptions target;

    @Option(names = "--prompt", paramLabel = "TEXT", required = true, description = "the prompt")
    String prompt;

    @Option(names = "--chat", description = "send the prompt as a user message through the chat template")
    boolean chat;

    @Option(names = "--max-tokens", paramLabel = "N", defaultValue = "128",
            description = "most tokens to generate (default: ${DEFAULT-VALUE})")
    int maxTokens;

    @Option(names = "--temperature", paramLabel = "T", defaultValue = "0",
            description = "0 for greedy decoding (default: ${DEFAULT-VALUE})")
    double temperature;

    @Option(names = "--top-p", paramLabel = "P", defaultValue = "1", description = "nucleus mass (default: ${DEFAULT-VALUE})")
    double topP;

    @Option(names = "--top-k", paramLabel = "K", defaultValue = "0",
            description = "keep the K most likely tokens; 0 keeps all (default: ${DEFAULT-VALUE})")
    int topK;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "0", description = "sampling seed (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--stop", paramLabel = "STRING", description = "stop string; may be repeated")
    List<String> stop = new ArrayList<>();

    @Option(names = "-n", paramLabel = "N", defaultValue = "1", description = "samples to print (default: ${DEFAULT-VALUE})")
    int samples;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        try {
            SamplingParams sampling = new SamplingParams(maxTokens, temperature, topP, topK, seed, stop, List.of(),
                    samples, -1);
            String problem = sampling.problem();
            if (problem != null) {
                throw new IllegalArgumentException(problem);
            }
            BackendKind kind = target.kind();
            KimiTokenizer tokenizer = KimiTokenizer.load(target.directory("generate"));
            int[] ids = chat ? tokenizer.encodeChat(List.of(ChatMessage.user(prompt)), true) : tokenizer.encode(prompt);
            long start = System.nanoTime();
            List<GenerationResult> results = new ArrayList<>();
            try (Backend b = target.open()) {
                // a budget no larger than this one request needs
                EngineConfig config = EngineConfig.defaults().withMaxSequences(samples)
                        .withMaxModelLength(ids.length + maxTokens);
                try (Engine engine = new Engine(b, tokenizer, config)) {
                    engine.generate(List.of(new GenerationRequest("prompt", new Prompt.Tokens(ids), sampling)))
                            .forEachRemaining(results::add);
                }
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            results.sort(Comparator.comparingInt(GenerationResult::sample));
            for (GenerationResult r : results) {
                if (r.finishReason() == FinishReason.ERROR) {
                    throw new IllegalStateException(r.error());
                }
            }
            int outputTokens = 0;
            for (GenerationResult r : results) {
                if (results.size() > 1) {
                    out.println("--- sample " + r.sample());
                }
                out.println(r.text());
                outputTokens += r.outputTokens();
            }
            out.flush();
            GenerationResult first = results.get(0);
            err.printf(Locale.ROOT, "[%s: %d prompt tokens, %d output tokens, finish %s, %.2f s]%n", kind.label(),
                    first.promptTokens(), outputTokens, first.finishReason().name().toLowerCase(Locale.ROOT), seconds);
            return 0;
        } catch (RuntimeException e) {
            err.println("generate: " + e.getMessage());
            return 1;
        }
    }

    public static void main(String[] args) {
        System.exit(new CommandLine(new GenerateCommand()).execute(args));
    }
}
