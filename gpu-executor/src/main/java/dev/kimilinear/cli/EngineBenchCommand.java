package dev.kimilinear.cli;

import dev.kimilinear.cuda.ActivationPrecision;
import dev.kimilinear.cuda.CudaModel;
import dev.kimilinear.cuda.KernelBench;
import dev.kimilinear.engine.Backend;
import dev.kimilinear.engine.BackendKind;
import dev.kimilinear.engine.Engine;
import dev.kimilinear.engine.EngineConfig;
import dev.kimilinear.engine.EngineStats;
import dev.kimilinear.engine.FinishReason;
import dev.kimilinear.engine.GenerationRequest;
import dev.kimilinear.engine.GenerationResult;
import dev.kimilinear.engine.MemoryPlan;
import dev.kimilinear.engine.Prompt;
import dev.kimilinear.engine.RoutingSample;
import dev.kimilinear.engine.SamplingParams;
import dev.kimilinear.engine.StepRoofline;
import dev.kimilinear.model.KimiLinearConfig;
import dev.kimilinear.tokenizer.KimiTokenizer;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * {@code bench engine}: throughput and latency of the batch engine on random prompts. A prefill
 * pass (one output token per request) measures prompt throughput; a generation pass measures
 * decode throughput, latency percentiles and memory held.
 */
@Command(name = "engine", mixinStandardHelpOptions = true,
        description = "Prefill and decode tokens/s, latency percentiles and memory of the batch engine.")
public final class EngineBenchCommand implements Callable<Integer> {

    @picocli.CommandLine.Mixin
    ModelOptions target;

    @Option(names = "--requests", paramLabel = "N", defaultValue = "64", description = "requests (default: ${DEFAULT-VALUE})")
    int requests;

    @Option(names = "--prompt-len", paramLabel = "L", defaultValue = "128",
            description = "prompt tokens per request (default: ${DEFAULT-VALUE})")
    int promptLen;

    @Option(names = "--max-tokens", paramLabel = "M", defaultValue = "64",
            description = "output tokens per request (default: ${DEFAULT-VALUE})")
    int maxTokens;

    @Option(names = "--max-batch-tokens", paramLabel = "T", defaultValue = "8192",
            description = "tokens per forward step (default: ${DEFAULT-VALUE})")
    int maxBatchTokens;

    @Option(names = "--prefill-chunk", paramLabel = "C", defaultValue = "8192",
            description = "prompt tokens per sequence and step (default: ${DEFAULT-VALUE})")
    int prefillChunk;

    @Option(names = "--max-sequences", paramLabel = "S", defaultValue = "256",
            description = "most sequences at once (default: ${DEFAULT-VALUE})")
    int maxSequences;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "0",
            description = "prompt seed, and a --random-config model's (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--temperature", paramLabel = "T", defaultValue = "0",
            description = "sampling temperature; 0 is greedy (default: ${DEFAULT-VALUE})")
    double temperature;

    @Option(names = "--top-p", paramLabel = "P", defaultValue = "1", description = "nucleus mass (default: ${DEFAULT-VALUE})")
    double topP;

    @Option(names = "--top-k", paramLabel = "K", defaultValue = "0", description = "tokens kept by rank; 0 keeps all "
            + "(default: ${DEFAULT-VALUE})")
    int topK;

    @Option(names = "--prompts", paramLabel = "FILE.jsonl", description = "the prompts of a generate job (JSONL with "
            + "a text, prompt, question or input field), encoded by the model's tokenizer, instead of --requests "
            + "random prompts of --prompt-len tokens")
    java.nio.file.Path promptsFile;

    @Option(names = "--scenario", paramLabel = "prefill:L:N|generate:L:N:M|plan:L", description = "instead of the one "
            + "run of --prompt-len, --requests and --max-tokens (a prefill pass, then a generate pass), these in turn on "
            + "the one loaded model: N prompts of L tokens prefilled to their first token, or generating M tokens each, "
            + "or only the memory plan for one sequence of L tokens (repeatable; for large models, whose loading "
            + "dominates)")
    List<String> scenarios;

    @Option(names = "--choose-on-host", description = "CUDA: copy every logits row to the host and choose tokens "
            + "there, as the engine once did (for comparison)")
    boolean chooseOnHost;

    @Spec
    CommandSpec spec;

    /** When the command started: progress lines on stderr give the time since (where a run stalls, it shows). */
    private final long started = System.nanoTime();

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        try {
            if (requests < 1 || promptLen < 1 || maxTokens < 1) {
                throw new IllegalArgumentException("--requests, --prompt-len and --max-tokens must be at least 1");
            }
            List<Prompt> fromFile = promptsFile != null ? PromptsFile.read(promptsFile) : null;
            if (fromFile != null) {
                requests = fromFile.size();
            }
            BackendKind kind = target.kind();
            target.seed = seed;
            try (Backend b = target.open(ActivationPrecision.BF16, maxBatchTokens)) {
                KimiLinearConfig cfg = b.config();
                progress(err, "model loaded");
                if (chooseOnHost) {
                    if (!(b instanceof CudaModel cuda)) {
                        throw new IllegalArgumentException("--choose-on-host is for the cuda backend");
                    }
                    cuda.setChooseOnHost(true);
                }
                // the floors' denominators, measured before the engine takes the free memory
                KernelBench.Ceilings ceilings = b instanceof CudaModel cuda
                        ? new KernelBench(cuda.context(), System.out, 10).measureCeilings() : null;
                if (ceilings != null) {
                    out.printf(Locale.ROOT, "ceilings: device copy %.0f GB/s (read + write); bf16 GEMM %.1f TFLOP/s (ours)%n",
                            ceilings.copyGBs(), ceilings.gemmTflops());
                }
                KimiTokenizer tokenizer = fromFile != null ? KimiTokenizer.load(target.directory("--prompts")) : null;
                if (fromFile != null) {
                    promptLen = fromFile.stream().mapToInt(p -> tokenizer.encode(((Prompt.Text) p).text()).length)
                            .max().orElseThrow();
                    out.printf(Locale.ROOT, "prompts: %d from %s, at most %d tokens%n", requests, promptsFile, promptLen);
                }
                List<Scenario> runs = scenarios == null
                        ? List.of(new Scenario(true, true, promptLen, requests, maxTokens))
                        : scenarios.stream().map(Scenario::parse).toList();
                if (scenarios != null && fromFile != null) {
                    throw new IllegalArgumentException("--scenario makes random prompts; --prompts names its own");
                }
                for (Scenario run : runs) {
                    if (runs.size() > 1) {
                        out.println("== scenario " + run);
                    }
                    promptLen = fromFile != null ? promptLen : run.promptLen();
                    requests = fromFile != null ? requests : run.requests();
                    maxTokens = run.maxTokens();
                    int rc = scenario(out, err, b, cfg, ceilings, tokenizer, fromFile, run.prefill(), run.generate());
                    if (rc != 0) {
                        return rc;
                    }
                    out.flush();
                }
            }
            return 0;
        } catch (RuntimeException | InterruptedException e) {
            err.println("bench engine: " + e.getMessage());
            return 1;
        }
    }


    /** One bench on the loaded model: a prefill pass, a generate pass, or both. */
    private int scenario(PrintWriter out, PrintWriter err, Backend b, KimiLinearConfig cfg, KernelBench.Ceilings ceilings,
                         KimiTokenizer tokenizer, List<Prompt> fromFile, boolean doPrefill, boolean doGenerate)
            throws InterruptedException {
        EngineConfig config = new EngineConfig(maxBatchTokens, prefillChunk, Math.min(maxSequences, requests), 0,
                promptLen + maxTokens);
        try (Engine engine = new Engine(b, tokenizer, config)) {
            MemoryPlan plan = engine.plan();
            out.printf(Locale.ROOT, "model %s on %s: %d layers, hidden %d, vocab %d%n", target.describe(), b.name(),
                    cfg.numLayers(), cfg.hiddenSize(), cfg.vocabSize());
            out.println("plan: " + plan);
            String tooLong = plan.whyNot((long) promptLen + maxTokens);
            if (!doPrefill && !doGenerate) {
                long tokens = (long) promptLen + maxTokens;
                out.printf(Locale.ROOT, "one sequence of %d tokens: %s%n", tokens, tooLong == null
                        ? String.format(Locale.ROOT, "fits (%d latent pages, %.2f GB, and one state slot, %.1f MB)",
                        plan.pagesFor(tokens), plan.pagesFor(tokens) * (double) plan.bytesPerPage() / 1e9,
                        plan.bytesPerSlot() / 1e6) : "does not fit: " + tooLong);
                return 0;
            }
            if (tooLong != null) {
                throw new IllegalArgumentException("cannot run: " + tooLong);
            }
            Random random = new Random(seed);
            run(engine, prompts(random, Math.min(requests, 4), Math.min(promptLen, 32), cfg), 4);

            EngineStats before = engine.stats();
            Pass prefill = new Pass();
            int meanLen = promptLen;
            if (doPrefill) {
                progress(err, "prefill pass: " + requests + " prompts");
                prefill = run(engine, fromFile != null ? fromFile : prompts(random, requests, promptLen, cfg), 1);
                progress(err, "prefill pass done");
                long prefillTokens = engine.stats().prefillTokens() - before.prefillTokens();
                // a file's prompts differ in length: their mean stands for them
                meanLen = (int) Math.round((double) prefillTokens / requests);
                out.printf(Locale.ROOT, "prefill: %d prompts x %s%d tokens in %.3f s = %.1f tokens/s%n", requests,
                        fromFile != null ? "~" : "", meanLen, prefill.seconds, prefillTokens / prefill.seconds);
                double flops = StepRoofline.prefillFlops(cfg, requests, meanLen);
                if (ceilings != null) {
                    double floor = flops / (ceilings.gemmTflops() * 1e12);
                    out.printf(Locale.ROOT, "prefill roofline: %.1f TFLOP at %.0f TFLOP/s = %.3f s; measured %.1f"
                                    + " TFLOP/s = %.1f%% of the matrix rate%n", flops / 1e12, ceilings.gemmTflops(), floor,
                            flops / prefill.seconds / 1e12, 100 * floor / prefill.seconds);
                }
                out.println("prefill ms      p50      p90      p99      max");
                printRow(out, "first token", prefill.firstToken);
            }
            EngineStats afterPrefill = engine.stats();
            Pass gen = new Pass();
            EngineStats after = afterPrefill;
            if (doGenerate) {
                progress(err, "generate pass: " + requests + " requests of " + maxTokens + " tokens");
                gen = run(engine, fromFile != null ? fromFile : prompts(random, requests, promptLen, cfg), maxTokens);
                after = engine.stats();
                progress(err, "generate pass done (" + (after.steps() - afterPrefill.steps()) + " steps)");
                // which experts this model's tokens choose, from a few prompts after the timed pass: the
                // floor's uniform routing overstates what a random model's steps read
                RoutingSample routing = null;
                if (cfg.moe() != null && ceilings != null) {
                    routing = new RoutingSample(cfg);
                    b.setProbe(routing);
                    try {
                        run(engine, prompts(random, 4, Math.min(promptLen, 1024), cfg), 1);
                    } finally {
                        b.setProbe(null);
                    }
                }
                long decodeTokens = after.decodeStepTokens() - afterPrefill.decodeStepTokens();
                double decodeSeconds = (after.decodeNanos() - afterPrefill.decodeNanos()) / 1e9;
                long output = after.outputTokens() - afterPrefill.outputTokens();
                out.printf(Locale.ROOT, "generate: %d requests x %d prompt tokens, %d output tokens in %.3f s"
                                + " = %.1f output tokens/s overall%n", requests, promptLen, output, gen.seconds,
                        output / gen.seconds);
                out.printf(Locale.ROOT, "decode: %d tokens in decode-only steps taking %.3f s = %.1f tokens/s"
                                + " (mixed prefill+decode steps: %.3f s)%n", decodeTokens, decodeSeconds,
                        decodeSeconds > 0 ? decodeTokens / decodeSeconds : 0.0,
                        (after.mixedNanos() - afterPrefill.mixedNanos()) / 1e9);
                long decodeSteps = after.decodeSteps() - afterPrefill.decodeSteps();
                if (decodeSteps > 0) {
                    double stepMs = decodeSeconds * 1e3 / decodeSteps;
                    double forwardMs = (after.decodeForwardNanos() - afterPrefill.decodeForwardNanos()) / 1e6
                            / decodeSteps;
                    int n = (int) Math.round((double) decodeTokens / decodeSteps);
                    out.printf(Locale.ROOT, "decode steps: %d, of %d sequences on average, %.2f ms each: %.2f ms in"
                                    + " the backend's forward, %.2f ms of host work around it%n", decodeSteps, n, stepMs,
                            forwardMs, stepMs - forwardMs);
                    if (ceilings != null) {
                        long context = meanLen + maxTokens / 2;
                        double stepBytes = StepRoofline.decodeBytes(cfg, n, context, target.heldWeights());
                        double floorMs = stepBytes / (ceilings.copyGBs() * 1e9) * 1e3;
                        out.printf(Locale.ROOT, "decode roofline: a step of %d sequences at context %d moves %.2f GB"
                                        + " = %.2f ms at %.0f GB/s; measured %.2f ms per step = %.1f%% of the roofline%n",
                                n, context, stepBytes / 1e9, floorMs, ceilings.copyGBs(), stepMs, 100 * floorMs / stepMs);
                        if (routing != null) {
                            double sampled = StepRoofline.decodeBytes(cfg, n, context, target.heldWeights(),
                                    routing.expectedTouched(n));
                            double sampledMs = sampled / (ceilings.copyGBs() * 1e9) * 1e3;
                            int sampleLayer = firstMoeLayer(cfg);
                            out.printf(Locale.ROOT, "decode roofline, routing as sampled (%d prompt tokens): %d tokens"
                                            + " touch %.1f of %d routed experts per MoE layer (uniform routing: %.1f);"
                                            + " a step moves %.2f GB = %.2f ms; measured = %.1f%% of that%n",
                                    routing.tokens(sampleLayer), n, routing.meanTouched(n), cfg.moe().numExperts(),
                                    StepRoofline.expertsTouched(cfg.moe(), n), sampled / 1e9, sampledMs,
                                    100 * sampledMs / stepMs);
                        }
                    }
                }
                out.println("latency ms      p50      p90      p99      max");
                printRow(out, "request", gen.latency);
                printRow(out, "first token", gen.firstToken);
                printRow(out, "per token", gen.perToken);
            }
            long stateBytes = after.peakSequences() * plan.bytesPerSlot();
            long latentBytes = after.peakPages() * plan.bytesPerPage();
            Runtime rt = Runtime.getRuntime();
            out.printf(Locale.ROOT, "memory: peak %d sequences (%.1f MB state) and %d pages (%.1f MB latent)"
                            + " = %.1f MB in use; reserved %.1f MB; ceiling (budget) %.1f MB; JVM heap %.1f MB%n",
                    after.peakSequences(), stateBytes / 1e6, after.peakPages(), latentBytes / 1e6,
                    (stateBytes + latentBytes) / 1e6, plan.reservedBytes() / 1e6, plan.budgetBytes() / 1e6,
                    (rt.totalMemory() - rt.freeMemory()) / 1e6);
            out.printf(Locale.ROOT, "steps %d, preemptions %d, errors %d%s%n", after.steps() - before.steps(),
                    after.preemptions() - before.preemptions(), prefill.errors + gen.errors,
                    b instanceof dev.kimilinear.engine.ElasticBackend
                            ? String.format(Locale.ROOT, "; memory reliefs %d, restores %d",
                            after.reliefs() - before.reliefs(), after.restores() - before.restores()) : "");
            if (prefill.errors + gen.errors > 0) {
                err.println("bench engine: " + (prefill.errors + gen.errors) + " requests failed: " + (prefill.firstError != null ? prefill.firstError : gen.firstError));
                return 1;
            }
        }
        return 0;
    }

    private static int firstMoeLayer(KimiLinearConfig cfg) {
        for (int l = 0; l < cfg.numLayers(); l++) {
            if (cfg.isMoe(l)) {
                return l;
            }
        }
        throw new IllegalStateException("no MoE layer");
    }

    /** A {@code --scenario}: which passes, over how many prompts of what length. */
    record Scenario(boolean prefill, boolean generate, int promptLen, int requests, int maxTokens) {
        static Scenario parse(String text) {
            String[] f = text.split(":");
            try {
                if (f[0].equals("plan") && f.length == 2) {
                    return check(text, new Scenario(false, false, Integer.parseInt(f[1]), 1, 1));
                }
                if (f[0].equals("prefill") && f.length == 3) {
                    return check(text, new Scenario(true, false, Integer.parseInt(f[1]), Integer.parseInt(f[2]), 1));
                }
                if (f[0].equals("generate") && f.length == 4) {
                    return check(text, new Scenario(false, true, Integer.parseInt(f[1]), Integer.parseInt(f[2]),
                            Integer.parseInt(f[3])));
                }
            } catch (NumberFormatException e) {
                // reported below
            }
            throw new IllegalArgumentException("--scenario " + text + ": expected prefill:L:N, generate:L:N:M or plan:L "
                    + "with whole numbers (prompt tokens, requests, output tokens)");
        }

        private static Scenario check(String text, Scenario s) {
            if (s.promptLen < 1 || s.requests < 1 || s.maxTokens < 1) {
                throw new IllegalArgumentException("--scenario " + text + ": lengths and counts must be at least 1");
            }
            return s;
        }

        @Override
        public String toString() {
            if (!prefill && !generate) {
                return "plan for one sequence of " + promptLen + " tokens";
            }
            return prefill ? "prefill " + requests + " x " + promptLen + " tokens"
                    : "generate " + requests + " x " + promptLen + " tokens + " + maxTokens;
        }
    }

    /**
     * Random prompts of ordinary token ids: those below the special ids where the vocabulary ends
     * with them (Kimi's tokenizers), else those above.
     */
    static List<Prompt> prompts(Random random, int count, int length, KimiLinearConfig cfg) {
        int lowest = Math.min(Math.min(cfg.bosTokenId(), cfg.eosTokenId()), cfg.padTokenId());
        int highest = Math.max(Math.max(cfg.bosTokenId(), cfg.eosTokenId()), cfg.padTokenId());
        int from = lowest >= cfg.vocabSize() - highest ? 0 : highest + 1;
        int to = lowest >= cfg.vocabSize() - highest ? lowest : cfg.vocabSize();
        if (to - from < 2) {
            throw new IllegalArgumentException("the model's special ids (bos " + cfg.bosTokenId() + ", eos "
                    + cfg.eosTokenId() + ", pad " + cfg.padTokenId() + ") leave no ordinary ids in a vocabulary of "
                    + cfg.vocabSize());
        }
        List<Prompt> prompts = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            prompts.add(new Prompt.Tokens(random.ints(length, from, to).toArray()));
        }
        return prompts;
    }

    private static final class Pass {
        double seconds;
        double[] latency;
        double[] firstToken;
        double[] perToken;
        int errors;
        String firstError;
    }

    private Pass run(Engine engine, List<Prompt> prompts, int tokens) throws InterruptedException {
        int n = prompts.size();
        long[] submitted = new long[n];
        ConcurrentHashMap<Integer, GenerationResult> results = new ConcurrentHashMap<>();
        ConcurrentHashMap<Integer, Long> finished = new ConcurrentHashMap<>();
        CountDownLatch done = new CountDownLatch(n);
        long start = System.nanoTime();
        for (int i = 0; i < n; i++) {
            int index = i;
            submitted[i] = System.nanoTime();
            engine.submit(new GenerationRequest(Integer.toString(i), prompts.get(i),
                    new SamplingParams(tokens, temperature, topP, topK, i, List.of(), List.of(), 1, -1)), r -> {
                        finished.put(index, System.nanoTime());
                        results.put(index, r);
                        done.countDown();
                    });
        }
        // every 10 s without all results: how many arrived and how many steps the engine took, so
        // a slow pass and a stalled one read differently
        long deadline = start + TimeUnit.HOURS.toNanos(24);
        while (!done.await(10, TimeUnit.SECONDS)) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("results did not arrive");
            }
            progress(spec.commandLine().getErr(), (n - done.getCount()) + " of " + n + " results, "
                    + engine.stats().steps() + " steps");
        }
        Pass pass = new Pass();
        pass.seconds = (System.nanoTime() - start) / 1e9;
        pass.latency = new double[n];
        pass.firstToken = new double[n];
        pass.perToken = new double[n];
        for (int i = 0; i < n; i++) {
            GenerationResult r = results.get(i);
            if (r.finishReason() == FinishReason.ERROR) {
                pass.errors++;
                if (pass.firstError == null) {
                    pass.firstError = r.error();
                }
            }
            pass.latency[i] = (finished.get(i) - submitted[i]) / 1e6;
            pass.firstToken[i] = (r.queuedNanos() + r.prefillNanos()) / 1e6;
            pass.perToken[i] = r.outputTokens() > 1 ? r.decodeNanos() / 1e6 / (r.outputTokens() - 1) : 0;
        }
        return pass;
    }

    private void progress(PrintWriter err, String what) {
        err.printf(Locale.ROOT, "[%.1f s] %s%n", (System.nanoTime() - started) / 1e9, what);
        err.flush();
    }

    private static void printRow(PrintWriter out, String name, double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        out.printf(Locale.ROOT, "  %-12s %8.1f %8.1f %8.1f %8.1f%n", name, percentile(sorted, 50), percentile(sorted, 90),
                percentile(sorted, 99), sorted[sorted.length - 1]);
    }

    private static double percentile(double[] sorted, double p) {
        int index = (int) Math.ceil(p / 100 * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, index))];
    }

    public static void main(String[] args) {
        System.exit(new CommandLine(new BenchCommand()).execute(args));
    }
}
