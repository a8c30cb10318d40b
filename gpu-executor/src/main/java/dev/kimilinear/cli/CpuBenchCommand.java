package dev.kimilinear.cli;

import dev.kimilinear.cpu.CpuBackend;
import dev.kimilinear.cpu.CpuOps;
import dev.kimilinear.engine.StepBatch;
import dev.kimilinear.model.KimiLinearConfig;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.Callable;

/**
 * {@code bench cpu}: prefill and decode tokens/s of the CPU reference forward, for one
 * sequence and for a batch, driving the backend directly (no scheduler).
 */
@Command(name = "cpu", mixinStandardHelpOptions = true,
        description = "Prefill and decode tokens/s of the CPU backend, one sequence and a batch.")
public final class CpuBenchCommand implements Callable<Integer> {
    private static final int PAGE_SIZE = 64;

    @Option(names = "--model", paramLabel = "DIR", required = true, description = "model directory")
    Path model;

    @Option(names = "--prompt-len", paramLabel = "L", defaultValue = "128",
            description = "prompt tokens per sequence (default: ${DEFAULT-VALUE})")
    int promptLen;

    @Option(names = "--decode-tokens", paramLabel = "D", defaultValue = "32",
            description = "decode steps timed (default: ${DEFAULT-VALUE})")
    int decodeTokens;

    @Option(names = "--batch", paramLabel = "B", defaultValue = "8",
            description = "sequences in the batched run (default: ${DEFAULT-VALUE})")
    int batch;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "0", description = "prompt seed (default: ${DEFAULT-VALUE})")
    long seed;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        try {
            if (promptLen < 1 || decodeTokens < 1 || batch < 1) {
                throw new IllegalArgumentException("--prompt-len, --decode-tokens and --batch must be at least 1");
            }
            int perSequence = (promptLen + decodeTokens + PAGE_SIZE - 1) / PAGE_SIZE;
            try (CpuBackend backend = CpuBackend.load(model, 1, PAGE_SIZE, Math.max(4096, batch * promptLen))) {
                KimiLinearConfig cfg = backend.config();
                backend.reserve(batch, batch * perSequence);
                out.printf(Locale.ROOT, "model %s on cpu (%d threads): %d layers, hidden %d, vocab %d%n", model,
                        dev.kimilinear.cpu.Parallel.threads(), cfg.numLayers(), cfg.hiddenSize(), cfg.vocabSize());
                Random random = new Random(seed);
                for (int b : batch == 1 ? new int[]{1} : new int[]{1, batch}) {
                    // the first run warms up the JIT; the second is reported
                    measure(backend, random, b, promptLen, Math.min(decodeTokens, 8), perSequence);
                    double[] rates = measure(backend, random, b, promptLen, decodeTokens, perSequence);
                    out.printf(Locale.ROOT, "batch %3d: prefill %d x %d tokens %.1f tokens/s, decode %d steps %.1f"
                            + " tokens/s (%.1f ms per step)%n", b, b, promptLen, rates[0], decodeTokens, rates[1],
                            1000.0 * b / rates[1]);
                }
            }
            return 0;
        } catch (RuntimeException e) {
            spec.commandLine().getErr().println("bench cpu: " + e.getMessage());
            return 1;
        }
    }

    /** {prefill tokens/s, decode tokens/s} of b sequences prefilled in one step, then decoded together. */
    private static double[] measure(CpuBackend backend, Random random, int b, int length, int steps, int perSequence) {
        int vocab = backend.config().vocabSize();
        int[] tokens = new int[b * length];
        int[] cu = new int[b + 1];
        int[] slots = new int[b];
        int[] context = new int[b];
        int[][] tables = new int[b][perSequence];
        for (int s = 0; s < b; s++) {
            backend.resetSlot(s);
            slots[s] = s;
            cu[s + 1] = (s + 1) * length;
            for (int p = 0; p < perSequence; p++) {
                tables[s][p] = s * perSequence + p;
            }
            for (int t = 0; t < length; t++) {
                tokens[s * length + t] = 3 + random.nextInt(vocab - 3);
            }
        }
        float[] logits = new float[b * vocab];
        long start = System.nanoTime();
        backend.logits(new StepBatch(tokens, cu, slots, context, tables, StepBatch.lastRows(cu)), logits);
        double prefill = b * length / ((System.nanoTime() - start) / 1e9);

        int[] next = new int[b];
        int[] unit = new int[b + 1];
        int[] rows = new int[b];
        for (int s = 0; s < b; s++) {
            unit[s + 1] = s + 1;
            rows[s] = s;
            context[s] = length;
        }
        StepBatch step = new StepBatch(next, unit, slots, context, tables, rows);
        start = System.nanoTime();
        for (int i = 0; i < steps; i++) {
            for (int s = 0; s < b; s++) {
                next[s] = CpuOps.argmax(logits, s * vocab, vocab);
            }
            backend.logits(step, logits);
            for (int s = 0; s < b; s++) {
                context[s]++;
            }
        }
        double decode = (double) b * steps / ((System.nanoTime() - start) / 1e9);
        return new double[]{prefill, decode};
    }

    public static void main(String[] args) {
        System.exit(new CommandLine(new BenchCommand()).execute(args));
    }
}
