package dev.kimilinear.cuda;

import dev.kimilinear.checkpoint.Checkpoint;
import dev.kimilinear.engine.StepBatch;
import dev.kimilinear.model.KimiLinearConfig;
import dev.kimilinear.model.KimiLinearConfig.AttentionKind;
import dev.kimilinear.model.KimiLinearConfig.MlpKind;
import dev.kimilinear.model.ModelWeights;
import dev.kimilinear.model.RandomCheckpoint;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * Whole decode steps of a model with Kimi-Linear-48B-A3B's layer shapes (hidden 2304; KDA
 * 32 x 128; MLA 32 heads, rank 512 + 64; MoE width 1024, top-8, one shared expert; dense
 * first layer 9216) but few layers, fewer experts and a smaller vocabulary so its random
 * checkpoint is quick to write: three KDA layers and one MLA layer, the 48B model's ratio.
 * Times steps (host work included: metadata upload, launches, the wait) with each step run
 * kernel by kernel and replayed from a captured graph, at N = 1, 64 and 256 sequences.
 *
 * <p>Arguments: [device] [experts] [vocab] [steps]; or {@code profile MODEL_DIR N[,N...] CONTEXT
 * STEPS}: the share of each kernel in the decode steps of a model on disk, N sequences of
 * CONTEXT cached tokens, beside the step's time replayed as a graph; or {@code profile-prefill
 * MODEL_DIR PROMPTS LENGTH STEPS}: the same for one prefill step of PROMPTS whole prompts.
 */
public final class DecodeStepBench {
    private DecodeStepBench() {
    }

    static KimiLinearConfig config(int experts, int vocab) {
        // mutable lists: validation asks them whether they hold null, which List.of refuses
        List<AttentionKind> attention = new ArrayList<>(
                List.of(AttentionKind.KDA, AttentionKind.KDA, AttentionKind.KDA, AttentionKind.MLA));
        List<MlpKind> mlp = new ArrayList<>(List.of(MlpKind.DENSE, MlpKind.MOE, MlpKind.MOE, MlpKind.MOE));
        return new KimiLinearConfig("kimi_linear", vocab, 2304, 4, 1e-5f, attention, mlp, 9216,
                new KimiLinearConfig.KdaConfig(32, 128, 4),
                new KimiLinearConfig.MlaConfig(32, 0, 512, 128, 64, 128, 1e-6f),
                new KimiLinearConfig.MoeConfig(experts, 8, 1024, 1, 1, 1, 2.446f, true,
                        KimiLinearConfig.RouterActivation.SIGMOID),
                1L << 20, 1, 2, 0, false);
    }

    public static void main(String[] args) throws IOException {
        if (args.length > 0 && args[0].equals("profile")) {
            profile(Path.of(args[1]), args[2], Integer.parseInt(args[3]), Integer.parseInt(args[4]));
            return;
        }
        if (args.length > 0 && args[0].equals("profile-prefill")) {
            profilePrefill(Path.of(args[1]), Integer.parseInt(args[2]), Integer.parseInt(args[3]),
                    Integer.parseInt(args[4]));
            return;
        }
        int device = args.length > 0 ? Integer.parseInt(args[0]) : 0;
        int experts = args.length > 1 ? Integer.parseInt(args[1]) : 32;
        int vocab = args.length > 2 ? Integer.parseInt(args[2]) : 32768;
        int steps = args.length > 3 ? Integer.parseInt(args[3]) : 30;
        KimiLinearConfig cfg = config(experts, vocab);
        Path dir = Files.createTempDirectory("kimi-decode-bench");
        long start = System.nanoTime();
        RandomCheckpoint.write(cfg, 1, dir);
        System.out.printf(Locale.ROOT, "random checkpoint (4 layers, %d experts, vocab %d) written in %.1f s%n", experts,
                vocab, (System.nanoTime() - start) / 1e9);
        CudaContext ctx = CudaContext.forDevice(device);
        int page = 64;
        int[][] shapes = {{1, 4096}, {64, 4096}, {256, 1024}};
        int pagesNeeded = 0;
        for (int[] s : shapes) {
            pagesNeeded = Math.max(pagesNeeded, s[0] * ((s[1] + 1 + page - 1) / page));
        }
        try (Checkpoint ckpt = Checkpoint.open(dir);
             CudaModel model = new CudaModel(ctx, ModelWeights.bind(cfg, ckpt), page, 256, 256,
                     ActivationPrecision.BF16)) {
            model.reserve(256, pagesNeeded);
            System.out.println("device: " + ctx.device());
            System.out.printf(Locale.ROOT, "%-28s %14s %14s %8s%n", "decode step", "eager ms", "graph ms", "ratio");
            for (int[] s : shapes) {
                StepBatch batch = batch(s[0], s[1], page, vocab);
                model.setDecodeGraphs(false);
                double eager = time(model, ctx, batch, steps);
                model.setDecodeGraphs(true);
                double graph = time(model, ctx, batch, steps);
                System.out.printf(Locale.ROOT, "%-28s %14.3f %14.3f %7.2fx%n", "N=" + s[0] + " ctx=" + s[1], eager, graph,
                        eager / graph);
            }
        } finally {
            try (var files = Files.list(dir)) {
                for (Path p : files.toList()) {
                    Files.deleteIfExists(p);
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            Files.deleteIfExists(dir);
        }
    }

    private static StepBatch batch(int n, int context, int page, int vocab) {
        Random rnd = new Random(n * 31L + context);
        int pagesPer = (context + 1 + page - 1) / page;
        int[] tokens = new int[n];
        int[] cu = new int[n + 1];
        int[] slots = new int[n];
        int[] ctxLens = new int[n];
        int[][] tables = new int[n][pagesPer];
        for (int s = 0; s < n; s++) {
            tokens[s] = 3 + rnd.nextInt(vocab - 3);
            cu[s + 1] = s + 1;
            slots[s] = s;
            ctxLens[s] = context;
            for (int p = 0; p < pagesPer; p++) {
                tables[s][p] = s * pagesPer + p;
            }
        }
        int[] rows = new int[n];
        Arrays.setAll(rows, i -> i);
        return new StepBatch(tokens, cu, slots, ctxLens, tables, rows);
    }

    /** Median milliseconds of one step (host work and the wait included) after warm-up steps. */
    private static double time(CudaModel model, CudaContext ctx, StepBatch batch, int steps) {
        for (int i = 0; i < 3; i++) {
            model.run(batch);
        }
        ctx.synchronize();
        double[] ms = new double[steps];
        for (int i = 0; i < steps; i++) {
            long t0 = System.nanoTime();
            model.run(batch);
            ctx.synchronize();
            ms[i] = (System.nanoTime() - t0) / 1e6;
        }
        Arrays.sort(ms);
        return ms[steps / 2];
    }

    /** Per-kernel times of decode steps of the model in {@code dir} (device 0), kernel by kernel. */
    static void profile(Path dir, String sizes, int context, int steps) {
        CudaContext ctx = CudaContext.forDevice(0);
        int page = 64;
        int[] ns = Arrays.stream(sizes.split(",")).mapToInt(Integer::parseInt).toArray();
        int maxN = Arrays.stream(ns).max().orElse(1);
        int pagesPer = (context + 1 + page - 1) / page;
        try (CudaModel model = CudaModel.load(dir, 0, page, Math.max(maxN, 256), maxN)) {
            model.reserve(maxN, maxN * pagesPer);
            int vocab = model.config().vocabSize();
            System.out.println("device: " + ctx.device() + "; model " + dir);
            for (int n : ns) {
                StepBatch batch = batch(n, context, page, vocab);
                model.setDecodeGraphs(true);
                double graph = time(model, ctx, batch, steps);
                model.setDecodeGraphs(false);
                double eager = time(model, ctx, batch, steps);
                KernelProfile profile = new KernelProfile();
                ctx.setProfile(profile);
                try {
                    for (int i = 0; i < steps; i++) {
                        model.run(batch);
                        profile.collect(ctx);
                    }
                } finally {
                    ctx.setProfile(null);
                }
                System.out.printf(Locale.ROOT, "decode step N=%d context=%d: graph %.3f ms, kernel by kernel %.3f ms%n",
                        n, context, graph, eager);
                profile.print(System.out, steps);
            }
        }
    }

    /** Per-kernel times of one prefill step of {@code prompts} prompts of {@code length} tokens (device 0). */
    static void profilePrefill(Path dir, int prompts, int length, int steps) {
        CudaContext ctx = CudaContext.forDevice(0);
        int page = 64;
        int tokens = prompts * length;
        int pagesPer = (length + page - 1) / page;
        try (CudaModel model = CudaModel.load(dir, 0, page, tokens, prompts)) {
            model.reserve(prompts, prompts * pagesPer);
            int vocab = model.config().vocabSize();
            Random rnd = new Random(7);
            int[] ids = new int[tokens];
            for (int i = 0; i < tokens; i++) {
                ids[i] = 3 + rnd.nextInt(vocab - 3);
            }
            int[] cu = new int[prompts + 1];
            int[] slots = new int[prompts];
            int[][] tables = new int[prompts][pagesPer];
            for (int s = 0; s < prompts; s++) {
                cu[s + 1] = (s + 1) * length;
                slots[s] = s;
                for (int p = 0; p < pagesPer; p++) {
                    tables[s][p] = s * pagesPer + p;
                }
            }
            StepBatch batch = new StepBatch(ids, cu, slots, new int[prompts], tables, StepBatch.lastRows(cu));
            Runnable reset = () -> {
                for (int s = 0; s < prompts; s++) {
                    model.resetSlot(s);
                }
            };
            double[] ms = new double[steps];
            for (int i = -2; i < steps; i++) {
                reset.run();
                ctx.synchronize();
                long t0 = System.nanoTime();
                model.run(batch);
                ctx.synchronize();
                if (i >= 0) {
                    ms[i] = (System.nanoTime() - t0) / 1e6;
                }
            }
            Arrays.sort(ms);
            KernelProfile profile = new KernelProfile();
            for (int i = 0; i < steps; i++) {
                reset.run();
                ctx.setProfile(profile);
                try {
                    model.run(batch);
                    profile.collect(ctx);
                } finally {
                    ctx.setProfile(null);
                }
            }
            System.out.println("device: " + ctx.device() + "; model " + dir);
            System.out.printf(Locale.ROOT, "prefill step %d x %d tokens: %.3f ms%n", prompts, length, ms[steps / 2]);
            profile.print(System.out, steps);
        }
    }
}
