package dev.kimilinear.cli;

import dev.kimilinear.checkpoint.Checkpoint;
import dev.kimilinear.cpu.CpuElasticModel;
import dev.kimilinear.cuda.ActivationPrecision;
import dev.kimilinear.cuda.CudaElasticModel;
import dev.kimilinear.engine.ElasticBackend;
import dev.kimilinear.engine.Engine;
import dev.kimilinear.engine.EngineConfig;
import dev.kimilinear.engine.EngineStats;
import dev.kimilinear.engine.FinishReason;
import dev.kimilinear.engine.GenerationRequest;
import dev.kimilinear.engine.GenerationResult;
import dev.kimilinear.engine.Prompt;
import dev.kimilinear.engine.SamplingParams;
import dev.kimilinear.model.KimiLinearConfig;
import dev.kimilinear.model.ModelWeights;
import dev.kimilinear.model.StagePlan;
import dev.kimilinear.model.WeightPrecision;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.Callable;

/**
 * {@code bench relief}: a burst of long prompts on ranks serving as data-parallel replicas,
 * once preempting when their caches run short and once pooling them KunServe's way (replicated
 * weights dropped, one pipeline, the cache grown; replicas again when the burst drains): peak
 * sequences held, preemptions, reliefs and time to first token, side by side. On the CPU
 * reference of the elastic model (ranks are budgets over one copy of the weights) or on GPUs
 * ({@code --backend cuda --devices 0,1}; a device named twice holds two ranks).
 */
@Command(name = "relief", mixinStandardHelpOptions = true,
        description = "A burst of long prompts on replicas: preemption against pooling memory (KunServe).")
public final class ReliefBenchCommand implements Callable<Integer> {
    @Option(names = "--model", paramLabel = "DIR", required = true, description = "model directory")
    Path model;

    @Option(names = "--ranks", paramLabel = "G", defaultValue = "2",
            description = "replicas on the CPU (default: ${DEFAULT-VALUE}); on CUDA, one per --devices entry")
    int ranks;

    @Option(names = "--backend", paramLabel = "cpu|cuda", defaultValue = "cpu",
            description = "the elastic model's backend (default: ${DEFAULT-VALUE})")
    String backend;

    @Option(names = "--devices", paramLabel = "I,J,...", split = ",", defaultValue = "0,0",
            description = "CUDA: a rank per device index, repeats allowed (default: ${DEFAULT-VALUE})")
    int[] devices;

    @Option(names = "--cache-per-rank", paramLabel = "BYTES", required = true,
            description = "bytes each rank has for state slots and latent pages beside a whole model's weights")
    long cachePerRank;

    @Option(names = "--requests", paramLabel = "N", defaultValue = "16", description = "prompts of the burst (default: ${DEFAULT-VALUE})")
    int requests;

    @Option(names = "--prompt-len", paramLabel = "L", defaultValue = "512", description = "prompt tokens (default: ${DEFAULT-VALUE})")
    int promptLen;

    @Option(names = "--max-tokens", paramLabel = "M", defaultValue = "16", description = "output tokens (default: ${DEFAULT-VALUE})")
    int maxTokens;

    @Option(names = "--max-sequences", paramLabel = "S", defaultValue = "64",
            description = "most sequences holding a slot at once (default: ${DEFAULT-VALUE})")
    int maxSequences;

    @Option(names = "--page-size", paramLabel = "P", defaultValue = "16", description = "tokens per page (default: ${DEFAULT-VALUE})")
    int pageSize;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "0", description = "prompt seed (default: ${DEFAULT-VALUE})")
    long seed;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        if (requests < 1 || promptLen < 1 || maxTokens < 1 || cachePerRank < 1 || pageSize < 1) {
            throw new IllegalArgumentException("--requests, --prompt-len, --max-tokens, --cache-per-rank and"
                    + " --page-size must be at least 1");
        }
        KimiLinearConfig cfg = KimiLinearConfig.load(model.resolve("config.json"));
        Random random = new Random(seed);
        List<GenerationRequest> burst = new ArrayList<>();
        for (int i = 0; i < requests; i++) {
            int[] ids = random.ints(promptLen, 3, cfg.vocabSize()).toArray();
            burst.add(new GenerationRequest("p" + i, new Prompt.Tokens(ids), SamplingParams.greedy(maxTokens)));
        }
        out.printf(Locale.ROOT, "burst: %d prompts of %d tokens + %d output tokens, %d ranks with %.1f MB of cache"
                + " each beside the weights (%s)%n", requests, promptLen, maxTokens,
                backend.equals("cuda") ? devices.length : ranks, cachePerRank / 1e6,
                backend.equals("cuda") ? "CUDA, devices " + Arrays.toString(devices) : "CPU reference");
        out.println("mode      wall s  output tok/s  peak seqs  preemptions  reliefs  restores  failed"
                + "  first token ms:    p50      p99");
        boolean cuda = switch (backend) {
            case "cpu" -> false;
            case "cuda" -> true;
            default -> throw new IllegalArgumentException("--backend: cpu or cuda, not " + backend);
        };
        int batchTokens = Math.max(4096, promptLen);
        for (boolean relief : new boolean[] {false, true}) {
            Checkpoint ckpt = Checkpoint.open(model);
            ElasticBackend m;
            if (cuda) {
                CudaElasticModel c;
                try {
                    c = CudaElasticModel.open(ckpt, cfg, devices, cachePerRank, pageSize, batchTokens, maxSequences,
                            ActivationPrecision.BF16, WeightPrecision.BF16);
                } catch (RuntimeException e) {
                    ckpt.close();
                    throw e;
                }
                c.setReliefAllowed(relief);
                m = c;
            } else {
                try (ckpt) {
                    long weights = StagePlan.of(ModelWeights.bind(cfg, ckpt), 1).largestStage();
                    CpuElasticModel c = CpuElasticModel.of(cfg, ckpt, ranks, weights + cachePerRank, pageSize,
                            batchTokens);
                    c.setReliefAllowed(relief);
                    m = c;
                }
            }
            EngineConfig config = new EngineConfig(batchTokens, batchTokens, maxSequences, 0, promptLen + maxTokens);
            try (ElasticBackend held = m; Engine engine = new Engine(held, null, config)) {
                if (relief) {
                    out.println("plan: " + engine.plan() + " on " + held.name());
                }
                long start = System.nanoTime();
                List<GenerationResult> results = new ArrayList<>();
                engine.generate(burst).forEachRemaining(results::add);
                double wall = (System.nanoTime() - start) / 1e9;
                EngineStats s = engine.stats();
                // a request the replicas cannot hold without pooling fails with the reason: counted
                // and named, since that is what the relief is for
                double[] first = new double[results.size()];
                int served = 0;
                String firstFailure = null;
                long output = 0;
                for (GenerationResult r : results) {
                    if (r.finishReason() == FinishReason.ERROR) {
                        firstFailure = firstFailure == null ? r.error() : firstFailure;
                        continue;
                    }
                    first[served++] = (r.queuedNanos() + r.prefillNanos()) / 1e6;
                    output += r.outputTokens();
                }
                first = Arrays.copyOf(first, served);
                Arrays.sort(first);
                out.printf(Locale.ROOT, "%-8s %7.2f %13.1f %10d %12d %8d %9d %7d %22s %8s%n",
                        relief ? "relief" : "preempt", wall, output / wall, s.peakSequences(), s.preemptions(),
                        s.reliefs(), s.restores(), results.size() - served, millis(first, 50), millis(first, 99));
                if (firstFailure != null) {
                    out.println("  failed: " + (results.size() - served) + " of " + results.size() + " requests; the"
                            + " first: " + firstFailure);
                }
            }
        }
        out.flush();
        return 0;
    }

    /** The p-th percentile of sorted milliseconds, or "-" when there are none. */
    private static String millis(double[] sorted, double p) {
        return sorted.length == 0 ? "-" : String.format(Locale.ROOT, "%.1f", percentile(sorted, p));
    }

    private static double percentile(double[] sorted, double p) {
        int index = (int) Math.ceil(p / 100 * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, index))];
    }
}
